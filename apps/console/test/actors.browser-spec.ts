import { eventually, restrictResourceAccess, uniqueName } from '@atrium/testing';
import type { Page } from 'playwright-core';
import { ConsoleHarness, ConsoleUser, expectAccessible, screenshot, useConsole } from './harness';

/*
 * The Apify side of the console: Actors, runs, builds, tasks, schedules, issues, notifications
 * and the audit log, in Chromium against the whole stack.
 */

interface Run {
  id: string;
  consoleUrl: string;
  status: string;
  defaultKeyValueStoreId: string;
}

async function createPublicActor(
  h: ConsoleHarness,
  owner: ConsoleUser,
  name = uniqueName('scraper'),
): Promise<string> {
  const res = await h.http().post('/v2/acts').set(owner.auth).send({ name, isPublic: true }).expect(201);
  return res.body.data.id;
}

async function startRun(h: ConsoleHarness, user: ConsoleUser, actorId: string, input: unknown): Promise<Run> {
  return (await h.http().post(`/v2/acts/${actorId}/runs`).set(user.auth).send(input).expect(201)).body.data;
}

/** Waits for the page's <h1> to read `text` (a page is loaded when first visited). */
async function expectHeading(page: Page, text: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name: text, exact: typeof text === 'string' }).waitFor();
}

describe('console: Actors, runs and issues', () => {
  const h = useConsole();

  it('an issue with a run URL gives the Actor owner the run, visible in the Share dialog as a hidden grant', async () => {
    const owner = await h.signUpUser('owner');
    const reporter = await h.signUpUser('reporter');
    const stranger = await h.signUpUser('stranger');
    // Restricted accounts: a run is readable by no one but its owner unless it is shared.
    await restrictResourceAccess(h, owner, reporter, stranger);
    const actorName = uniqueName('scraper');
    const actorId = await createPublicActor(h, owner, actorName);
    const run = await startRun(h, reporter, actorId, { startUrl: 'https://example.com/reporter' });
    // The run is the reporter's: the Actor's owner cannot read it yet.
    await h.http().get(`/v2/actor-runs/${run.id}`).set(owner.auth).expect(404);

    // The reporter opens the Actor's page by `username~name` and reports through the form.
    const reporterPage = await h.signedInPage(reporter, `/actors/${owner.username}~${actorName}?tab=issues`);
    await expectHeading(reporterPage, actorName);
    const form = reporterPage.getByRole('form', { name: 'Report an issue' });
    await form.getByRole('textbox', { name: /^Title/ }).fill('Fails on the second page');
    await form.getByRole('textbox', { name: 'Description' }).fill('It stops after one page, see my run.');
    const runField = form.getByRole('textbox', { name: 'Run URL or run ID' });
    // Bad input: the API's message lands next to the field, and nothing is created.
    await runField.fill('https://console.example.com/actors/not-a-run');
    await form.getByRole('button', { name: 'Create issue' }).click();
    await form.getByText(/must be a run's URL/).waitFor();
    expect(await runField.getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(reporterPage);
    const none = await h.http().get(`/v2/acts/${actorId}/issues`).set(reporter.auth).expect(200);
    expect(none.body.data.total).toBe(0);

    await runField.fill(run.consoleUrl);
    await form.getByRole('button', { name: 'Create issue' }).click();
    await reporterPage.waitForURL(/\/issues\/[A-Za-z0-9]{17}$/);
    const issueId = new URL(reporterPage.url()).pathname.split('/').pop()!;
    await expectHeading(reporterPage, 'Fails on the second page');
    // The author sees the run attached.
    await reporterPage.getByRole('link', { name: `Run ${run.id}` }).waitFor();

    // The issue's grant reaches the owner through events: wait for the API to let them read it.
    await eventually(() => h.http().get(`/v2/actor-runs/${run.id}`).set(owner.auth).expect(200), 10_000);

    // The Actor's owner opens the issue, follows the run link and sees the run with its input.
    const ownerPage = await h.signedInPage(owner, `/issues/${issueId}`);
    await expectHeading(ownerPage, 'Fails on the second page');
    await ownerPage.getByText('It stops after one page, see my run.').waitFor();
    await expectAccessible(ownerPage);
    await screenshot(ownerPage, 'issue');
    await ownerPage.getByRole('link', { name: `Run ${run.id}` }).click();
    await ownerPage.waitForURL(`**/actors/runs/${run.id}`);
    await expectHeading(ownerPage, `Run ${run.id}`);
    await ownerPage.getByTestId('status').first().waitFor();
    await ownerPage
      .getByRole('region', { name: 'Input' })
      .getByText('https://example.com/reporter')
      .waitFor();
    // Read-only: the owner of the Actor cannot abort someone else's run.
    expect(await ownerPage.getByRole('button', { name: 'Abort' }).count()).toBe(0);
    await expectAccessible(ownerPage);

    // Another reader of the public Actor reads the issue but not the run.
    const strangerPage = await h.signedInPage(stranger, `/issues/${issueId}`);
    await expectHeading(strangerPage, 'Fails on the second page');
    expect(await strangerPage.getByText('Attached run').count()).toBe(0);
    await strangerPage.goto(run.consoleUrl);
    await expectHeading(strangerPage, 'Not found');

    // The run's owner manages its access: the API lists the owner's grant as hidden, from the issue.
    const access = await h.http().get(`/v2/actor-runs/${run.id}/access`).set(reporter.auth).expect(200);
    const grant = access.body.data.grants.find((g: { userId: string }) => g.userId === owner.id);
    expect(grant).toMatchObject({
      hidden: true,
      permissions: ['READ'],
      source: { type: 'ACTOR_ISSUE', id: issueId },
    });
    // The Actor's owner only reads the run: its access list is not theirs to see.
    await h.http().get(`/v2/actor-runs/${run.id}/access`).set(owner.auth).expect(403);

    // …and so does the Share dialog of the run's page, opened by its owner.
    await reporterPage.getByRole('link', { name: `Run ${run.id}` }).click();
    await reporterPage.waitForURL(`**/actors/runs/${run.id}`);
    await reporterPage.getByRole('button', { name: 'Share' }).click();
    const dialog = reporterPage.getByRole('dialog');
    const row = dialog.getByTestId('grant-row').filter({ hasText: owner.username });
    await row.getByText('Hidden grant').waitFor();
    await row.getByRole('link', { name: `via issue ${issueId}` }).waitFor();
    await expectAccessible(reporterPage);
    await screenshot(reporterPage, 'run-share-hidden-grant');
  });

  it('issue comments, subscriptions, status and notifications', async () => {
    const owner = await h.signUpUser('owner');
    const reporter = await h.signUpUser('reporter');
    const actorId = await createPublicActor(h, owner);
    const issue = (
      await h
        .http()
        .post(`/v2/acts/${actorId}/issues`)
        .set(reporter.auth)
        .send({ title: 'Slow start', description: 'Takes a minute to begin.' })
        .expect(201)
    ).body.data;

    // The owner subscribes on the issue's page.
    const ownerPage = await h.signedInPage(owner, `/issues/${issue.id}`);
    await ownerPage.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await ownerPage.getByText('You are subscribed').waitFor();

    // The reporter comments, then edits their comment. As the author, they are subscribed.
    const reporterPage = await h.signedInPage(reporter, `/issues/${issue.id}`);
    await reporterPage.getByRole('button', { name: 'Unsubscribe' }).waitFor();
    await reporterPage.getByRole('textbox', { name: 'Add a comment' }).fill('Still slow today.');
    await reporterPage.getByRole('button', { name: 'Comment', exact: true }).click();
    const comments = reporterPage.getByRole('list', { name: 'Comments' });
    await comments.getByText('Still slow today.').waitFor();
    await comments.getByRole('button', { name: 'Edit' }).click();
    await reporterPage
      .getByRole('textbox', { name: 'Edit your comment' })
      .fill('Still slow today, about 70 s.');
    await reporterPage.getByRole('button', { name: 'Save' }).click();
    await comments.getByText('Still slow today, about 70 s.').waitFor();
    await comments.getByText(/edited/).waitFor();
    // The author may close their issue, not reopen it.
    expect(await reporterPage.getByRole('button', { name: 'Reopen issue' }).count()).toBe(0);
    await expectAccessible(reporterPage);

    // The owner's notifications link to the issue.
    await ownerPage.goto('/notifications');
    const notification = ownerPage.getByRole('list', { name: 'Notifications' }).getByRole('listitem').first();
    await notification.getByText(`${reporter.username}`).waitFor();
    await notification.getByText('commented on').waitFor();
    await notification.getByRole('link', { name: 'Slow start' }).waitFor();
    await expectAccessible(ownerPage);
    await screenshot(ownerPage, 'notifications');
    await notification.getByRole('link', { name: 'Slow start' }).click();
    await ownerPage.waitForURL(`**/issues/${issue.id}`);

    // Owner closes, then reopens; the list on the Actor's page follows.
    await ownerPage.getByRole('button', { name: 'Close issue' }).click();
    await ownerPage.getByRole('button', { name: 'Reopen issue' }).waitFor();
    expect(await ownerPage.getByTestId('status').first().innerText()).toBe('CLOSED');
    await ownerPage.goto(`/actors/${actorId}?tab=issues`);
    await ownerPage.getByText('No open issues.').waitFor();
    await ownerPage
      .getByRole('radiogroup', { name: 'Issue status' })
      .getByText('Closed', { exact: true })
      .click();
    await ownerPage
      .getByRole('table', { name: 'Issues' })
      .getByRole('link', { name: 'Slow start' })
      .waitFor();
    expect(new URL(ownerPage.url()).searchParams.get('issueStatus')).toBe('CLOSED');
  });

  it('the Actor page starts a run with validated JSON input; the run page shows it and aborts it', async () => {
    const owner = await h.signUpUser('owner');
    const actorName = uniqueName('crawler');
    const actorId = await createPublicActor(h, owner, actorName);

    // Actor: Start with input checked before it is sent.
    const page = await h.signedInPage(owner, `/actors/${actorId}`);
    await expectHeading(page, actorName);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const input = page.getByRole('dialog').getByRole('textbox', { name: 'Input (JSON)' });
    await input.fill('{ "maxPages": ');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page
      .getByRole('dialog')
      .getByText(/Must be valid JSON/)
      .waitFor();
    await expectAccessible(page);
    await input.fill('{ "maxPages": 3 }');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/actors\/runs\/[A-Za-z0-9]{17}$/);
    const runId = new URL(page.url()).pathname.split('/').pop()!;
    const run = (await h.http().get(`/v2/actor-runs/${runId}`).set(owner.auth).expect(200)).body.data as Run;
    expect(run.status).toMatch(/^(READY|RUNNING)$/);

    // Run: status, input, storages, log; the owner may abort it.
    await expectHeading(page, `Run ${runId}`);
    await page.getByRole('region', { name: 'Input' }).getByText('"maxPages": 3').waitFor();
    await page.getByRole('link', { name: 'Default dataset' }).waitFor();
    await page.getByRole('button', { name: 'Refresh log' }).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'run');
    await page.getByRole('button', { name: 'Abort' }).click();
    await page.getByTestId('status').filter({ hasText: 'ABORTED' }).waitFor();

    // The Actor's runs tab lists it and links to it.
    await page.goto(`/actors/${actorId}`);
    await page.getByRole('table', { name: 'Runs' }).getByRole('link', { name: runId }).waitFor();
    await screenshot(page, 'actor');
  });

  it('build page: status and log, reached from the Actor page', async () => {
    const owner = await h.signUpUser('owner');
    const actorId = await createPublicActor(h, owner);
    const build = (await h.http().post(`/v2/acts/${actorId}/builds`).set(owner.auth).send({}).expect(201))
      .body.data;
    const page = await h.signedInPage(owner, `/actors/${actorId}`);
    await page.getByRole('tab', { name: 'Builds' }).click();
    await page.getByRole('table', { name: 'Builds' }).getByRole('link').first().click();
    await page.waitForURL(`**/actors/builds/${build.id}`);
    await expectHeading(page, /^Build /);
    await page.getByRole('button', { name: 'Refresh log' }).waitFor();
    await expectAccessible(page);
  });

  it('task page: its input is saved through the page, a bad one refused next to the field', async () => {
    const owner = await h.signUpUser('owner');
    const actorId = await createPublicActor(h, owner);
    const task = (
      await h
        .http()
        .post('/v2/actor-tasks')
        .set(owner.auth)
        .send({ actId: actorId, name: uniqueName('daily'), input: { maxPages: 1 } })
        .expect(201)
    ).body.data;
    const page = await h.signedInPage(owner, `/actors/${actorId}?tab=tasks`);
    await page.getByRole('table', { name: 'Tasks' }).getByRole('link', { name: task.name }).click();
    await page.waitForURL(`**/actors/tasks/${task.id}`);
    const taskInput = page.getByRole('textbox', { name: 'Input (JSON)' });
    await taskInput.fill('[1, 2]');
    await page.getByRole('button', { name: 'Save input' }).click();
    await page.getByText(/Must be a JSON object/).waitFor();
    await taskInput.fill('{ "maxPages": 5 }');
    await page.getByRole('button', { name: 'Save input' }).click();
    await eventually(async () => {
      const saved = await h.http().get(`/v2/actor-tasks/${task.id}/input`).set(owner.auth).expect(200);
      expect(saved.body).toEqual({ maxPages: 5 });
    });
    await expectAccessible(page);
  });

  it("schedule page: switched off through the page; a bad cron expression gets the API's message", async () => {
    const owner = await h.signUpUser('owner');
    const actorId = await createPublicActor(h, owner);
    const task = (
      await h
        .http()
        .post('/v2/actor-tasks')
        .set(owner.auth)
        .send({ actId: actorId, name: uniqueName('daily') })
        .expect(201)
    ).body.data;
    const schedule = (
      await h
        .http()
        .post('/v2/schedules')
        .set(owner.auth)
        .send({
          name: uniqueName('nightly'),
          cronExpression: '@daily',
          isEnabled: true,
          actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: task.id }],
        })
        .expect(201)
    ).body.data;
    const page = await h.signedInPage(owner, `/schedules/${schedule.id}`);
    await expectHeading(page, schedule.name);
    await page.getByRole('table', { name: 'Actions' }).getByRole('link', { name: task.id }).waitFor();
    await page.getByRole('switch', { name: 'Enabled' }).click({ force: true });
    await eventually(async () => {
      const now = await h.http().get(`/v2/schedules/${schedule.id}`).set(owner.auth).expect(200);
      expect(now.body.data.isEnabled).toBe(false);
    });
    await page.getByRole('textbox', { name: 'Cron expression' }).fill('61 * * * *');
    await page.getByRole('button', { name: 'Save timing' }).click();
    const cronField = page.getByRole('textbox', { name: 'Cron expression' });
    await eventually(async () => expect(await cronField.getAttribute('aria-invalid')).toBe('true'));
    await expectAccessible(page);
  });

  it('audit log filters refused by the API are marked on the field; an empty notifications page', async () => {
    const owner = await h.signUpUser('owner');
    const page = await h.signedInPage(owner, '/audit-log');
    await expectHeading(page, 'Audit log');
    await page.getByRole('textbox', { name: 'Resource ID' }).fill('not-an-id');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await eventually(async () =>
      expect(await page.getByRole('textbox', { name: 'Resource ID' }).getAttribute('aria-invalid')).toBe(
        'true',
      ),
    );
    await expectAccessible(page);

    // Notifications (none yet).
    await page.goto('/notifications');
    await page.getByText('No notifications yet.').waitFor();
    await expectAccessible(page);
  });

  it("an anonymous visitor reads a public Actor's page and is asked to sign in at a restricted run", async () => {
    const owner = await h.signUpUser('owner');
    await restrictResourceAccess(h, owner);
    const actorName = uniqueName('public');
    const actorId = await createPublicActor(h, owner, actorName);
    const run = await startRun(h, owner, actorId, { q: 1 });

    const page = await h.newPage();
    await page.goto(`/actors/${actorId}?tab=issues`);
    await expectHeading(page, actorName);
    await page.getByText('Sign in to report an issue.').waitFor();
    expect(await page.getByRole('button', { name: 'Start', exact: true }).count()).toBe(0);
    await expectAccessible(page);

    await page.goto(run.consoleUrl);
    await expectHeading(page, 'Sign in to continue');
    await page.getByRole('link', { name: 'Sign in' }).last().click();
    await page.getByLabel('Username or email').fill(owner.username);
    await page.getByLabel(/^Password\b/).fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectHeading(page, `Run ${run.id}`);
  });

  it('the audit log shows the hidden grant an issue gave, to the run owner', async () => {
    const owner = await h.signUpUser('owner');
    const reporter = await h.signUpUser('reporter');
    await restrictResourceAccess(h, owner, reporter);
    const actorId = await createPublicActor(h, owner);
    const run = await startRun(h, reporter, actorId, { q: 1 });
    const issue = (
      await h
        .http()
        .post(`/v2/acts/${actorId}/issues`)
        .set(reporter.auth)
        .send({ title: 'Broken', runUrl: run.consoleUrl })
        .expect(201)
    ).body.data;
    await eventually(() => h.http().get(`/v2/actor-runs/${run.id}`).set(owner.auth).expect(200), 10_000);

    const page = await h.signedInPage(reporter, `/audit-log?resourceId=${run.id}`);
    const row = page
      .getByRole('table', { name: 'Audit log entries' })
      .getByRole('row')
      .filter({ hasText: 'Access granted' });
    await row.getByText(owner.username).waitFor();
    await row.getByRole('link', { name: issue.id }).waitFor();
    await row.getByText(/hidden, through the issue/).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'audit-log');
  });
});
