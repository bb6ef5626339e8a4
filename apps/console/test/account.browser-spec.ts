import type { Page } from 'playwright-core';
import { createDataset, uniqueName } from '@atrium/testing';
import {
  ConsoleUser,
  expectAccessible,
  screenshot,
  signInThroughForm,
  TEST_PASSWORD,
  useConsole,
} from './harness';

/**
 * The account pages: sign-up, sign-in and sign-out through the forms, email verification, password
 * reset and change, Home (owned and shared, type filter, search, create), Settings (privacy, API
 * tokens with a scope, usage). Each asserts what the API then does, not only what the page says.
 */

/** The message shown next to a field: the text of the elements its input is described by. */
async function fieldError(page: Page, label: string | RegExp): Promise<string> {
  const input = page.getByLabel(label, { exact: typeof label === 'string' });
  await page.waitForFunction(
    (el) => el?.getAttribute('aria-invalid') === 'true',
    await input.elementHandle(),
  );
  const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  const texts = await Promise.all(
    ids.map((id) =>
      page
        .locator(`[id="${id}"]`)
        .innerText()
        .catch(() => ''),
    ),
  );
  return texts.join(' ').trim();
}

/** No page shows a stack trace or a raw error object. */
async function expectNoRawError(page: Page): Promise<void> {
  const text = await page.locator('body').innerText();
  expect(text).not.toMatch(/\bat \S+ \(|\n\s+at |\[object Object\]|TypeError|undefined is not/);
}

/** The API's own message for a field, as the console shows it (without the `Field "body.x" is invalid:` prefix). */
function fieldMessage(apiMessage: string): string {
  return apiMessage.replace(/^Field "[^"]+" (is invalid: )?/, '');
}

describe('account pages', () => {
  const h = useConsole();

  it('signs up through the form, signs out, and signs in again through the form; bad sign-ups get the API message', async () => {
    const taken = await h.signUpUser('taken');
    const page = await h.newPage();
    await page.goto('/sign-up');
    await expectAccessible(page);

    // A username the API refuses: its message next to the Username field.
    const bad = { email: `${uniqueName('bad')}@example.com`, username: 'a!', password: TEST_PASSWORD };
    const refused = await h.http().post('/v2/auth/signup').send(bad).expect(400);
    await page.getByLabel(/^Email/).fill(bad.email);
    await page.getByLabel(/^Username/).fill(bad.username);
    await page.getByLabel(/^Password/).fill(bad.password);
    await page.getByRole('button', { name: 'Sign up' }).click();
    expect(await fieldError(page, /^Username/)).toContain(fieldMessage(refused.body.error.message));
    await expectNoRawError(page);

    // A taken username: the API names no field, so its message is above the form.
    await page.getByLabel(/^Username/).fill(taken.username);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('alert').getByText('That username or email is already registered').waitFor();
    await expectNoRawError(page);

    const username = uniqueName('newbie');
    await page.getByLabel(/^Email/).fill(`${username}@example.com`);
    await page.getByLabel(/^Username/).fill(username);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByTestId('signed-in-user').getByText(username).waitFor();
    await page.waitForURL((url) => url.pathname === '/');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username or email').waitFor();
    await expectAccessible(page);
    expect(await page.getByTestId('signed-in-user').count()).toBe(0);
    // Signed out: the session cookie no longer resumes a session.
    await page.goto('/settings');
    await page.getByLabel('Username or email').waitFor();
    await signInThroughForm(page, { username, password: TEST_PASSWORD });
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await page.waitForURL((url) => url.pathname === '/settings');
  });

  it('verifies the email with the mailed link, refuses the used link with the API message, and resends to a signed-in user', async () => {
    const user = await h.signUpUser('verify');
    const mail = await h.readMail(user.email, 'Verify');
    const link = new URL(/^https?:\/\/\S+\/verify-email\?token=\S+$/m.exec(mail.text)![0]);
    const page = await h.newPage();
    await page.goto(link.pathname + link.search);
    await page.getByRole('status').getByText('Your email address is verified').waitFor();
    await expectAccessible(page);
    expect((await h.http().get('/v2/users/me').set(user.auth).expect(200)).body.data.emailVerified).toBe(
      true,
    );

    const again = await h.http().post('/v2/auth/verify-email').send({ token: mail.token });
    expect(again.status).toBeGreaterThanOrEqual(400);
    await page.goto(link.pathname + link.search);
    await page.getByRole('alert').getByText(again.body.error.message).waitFor();
    await expectNoRawError(page);
    await expectAccessible(page);

    const unverified = await h.signUpUser('unverified');
    const first = await h.readMail(unverified.email, 'Verify');
    const signedIn = await h.signedInPage(unverified, '/verify-email');
    await signedIn.getByText(`Your email address ${unverified.email} is not verified yet`).waitFor();
    await expectAccessible(signedIn);
    await signedIn.getByRole('button', { name: 'Send a new verification link' }).click();
    await signedIn.getByRole('status').getByText(/./).first().waitFor();
    // A new mail with another token, which verifies.
    let resent = first;
    for (let i = 0; i < 50 && resent.token === first.token; i++) {
      await new Promise((r) => setTimeout(r, 100));
      resent = await h.readMail(unverified.email, 'Verify');
    }
    expect(resent.token).not.toBe(first.token);
    await h.http().post('/v2/auth/verify-email').send({ token: resent.token }).expect(200);
  });

  it('resets a forgotten password with the mailed link, then signs in with the new one', async () => {
    const user = await h.signUpUser('forgot');
    const page = await h.newPage();
    await page.goto('/sign-in');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel(/^Email/).fill(user.email);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page
      .getByRole('status')
      .getByText(/one hour/)
      .waitFor();

    const mail = await h.readMail(user.email, 'password');
    const link = new URL(/^https?:\/\/\S+\/reset-password\?token=\S+$/m.exec(mail.text)![0]);
    await page.goto(link.pathname + link.search);
    await expectAccessible(page);
    // Too short: the API's message next to the field.
    const weak = await h
      .http()
      .post('/v2/auth/password-reset/confirm')
      .send({ token: 'x.y', newPassword: 'short' });
    await page.getByLabel(/^New password/).fill('short');
    await page.getByLabel(/^Repeat the new password/).fill('short');
    await page.getByRole('button', { name: 'Set password' }).click();
    expect(await fieldError(page, /^New password/)).toContain(fieldMessage(weak.body.error.message));

    const newPassword = 'a brand new passphrase';
    await page.getByLabel(/^New password/).fill(newPassword);
    await page.getByLabel(/^Repeat the new password/).fill(newPassword);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').getByText('Your password is changed').waitFor();

    await h.http().post('/v2/auth/login').send({ login: user.username, password: TEST_PASSWORD }).expect(401);
    await page.getByRole('link', { name: 'Sign in', exact: true }).last().click();
    await signInThroughForm(page, { username: user.username, password: newPassword });
    await page.getByTestId('signed-in-user').getByText(user.username).waitFor();
  });

  it('Home lists what I own and what is shared with me, filters by type, searches by name and creates a dataset', async () => {
    const [owner, friend] = [await h.signUpUser('home'), await h.signUpUser('friend')];
    const alpha = await createDataset(h, owner, 'alpha-data');
    const beta = (await h.http().post('/v2/key-value-stores?name=beta-store').set(owner.auth).expect(201))
      .body.data.id;
    const shared = await createDataset(h, friend, 'from-a-friend');
    await h
      .http()
      .post(`/v2/datasets/${shared}/access/grants`)
      .set(friend.auth)
      .send({ user: owner.username, permissions: ['READ'] })
      .expect(201);

    const page = await h.signedInPage(owner, '/');
    const table = page.getByRole('table', { name: 'Owned by me' });
    await table.getByRole('link', { name: 'alpha-data' }).waitFor();
    await table.getByRole('link', { name: 'beta-store' }).waitFor();
    expect(await table.getByRole('link', { name: 'from-a-friend' }).count()).toBe(0);
    const row = table.getByRole('row').filter({ has: page.getByRole('link', { name: 'alpha-data' }) });
    expect(await row.innerText()).toContain('Dataset');
    expect(await row.innerText()).toContain(owner.username);
    expect(await table.getByRole('link', { name: 'alpha-data' }).getAttribute('href')).toBe(
      `/storage/datasets/${alpha}`,
    );
    await expectAccessible(page);
    await screenshot(page, 'home-owned');

    // Search by name, kept in the URL.
    await page.getByLabel('Search by name').fill('ALPHA');
    await table.getByRole('link', { name: 'beta-store' }).waitFor({ state: 'detached' });
    await table.getByRole('link', { name: 'alpha-data' }).waitFor();
    expect(new URL(page.url()).searchParams.get('q')).toBe('ALPHA');
    await page.getByLabel('Search by name').fill('');

    // Type filter.
    await page.getByRole('combobox', { name: 'Type' }).click();
    await page.getByRole('option', { name: 'Key-value store' }).click();
    await table.getByRole('link', { name: 'alpha-data' }).waitFor({ state: 'detached' });
    expect(await table.getByRole('link', { name: 'beta-store' }).getAttribute('href')).toBe(
      `/storage/key-value-stores/${beta}`,
    );
    expect(new URL(page.url()).searchParams.get('type')).toBe('key-value-stores');
    await page.reload();
    await table.getByRole('link', { name: 'beta-store' }).waitFor();
    expect(await table.getByRole('link', { name: 'alpha-data' }).count()).toBe(0);

    // Shared with me, every type.
    await page.goto('/?ownership=shared');
    const sharedTable = page.getByRole('table', { name: 'Shared with me' });
    await sharedTable.getByRole('link', { name: 'from-a-friend' }).waitFor();
    expect(await sharedTable.getByRole('link', { name: 'alpha-data' }).count()).toBe(0);
    const sharedRow = sharedTable
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: 'from-a-friend' }) });
    await sharedRow.getByText(friend.username).waitFor();
    await expectAccessible(page);
    await page.getByText('Owned by me', { exact: true }).click();
    await table.getByRole('link', { name: 'alpha-data' }).waitFor();

    // Create a dataset from the menu: the API's message for a bad name, then its page.
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('menuitem', { name: 'Dataset' }).click();
    const dialog = page.getByRole('dialog', { name: 'New dataset' });
    await dialog.getByLabel(/^Name/).fill('not a valid name!');
    await expectAccessible(page);
    await dialog.getByRole('button', { name: 'Create dataset' }).click();
    await dialog.getByRole('alert').or(dialog.locator('[aria-invalid="true"]')).first().waitFor();
    await expectNoRawError(page);
    await dialog.getByLabel(/^Name/).fill('made-in-console');
    await dialog.getByRole('button', { name: 'Create dataset' }).click();
    await page.waitForURL(/\/storage\/datasets\/\w+$/);
    const createdId = new URL(page.url()).pathname.split('/').pop();
    const created = await h.http().get(`/v2/datasets/${createdId}`).set(owner.auth).expect(200);
    expect(created.body.data.name).toBe('made-in-console');

    // Actors and apps are made from the same menu, each landing on its page.
    for (const [kind, name, path] of [
      ['Actor', 'console-actor', /\/actors\/\w+$/],
      ['App', 'console-app', /\/apps\/\w+$/],
    ] as const) {
      await page.goto('/');
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('menuitem', { name: kind, exact: true }).click();
      const form = page.getByRole('dialog', { name: `New ${kind.toLowerCase()}` });
      await form.getByLabel(/^Name/).fill(name);
      await form.getByRole('button', { name: `Create ${kind.toLowerCase()}` }).click();
      await page.waitForURL(path);
      await page.getByRole('heading', { level: 1, name: new RegExp(name) }).waitFor();
    }
  });

  it('pages Home 20 rows at a time, the page kept in the URL across a reload', async () => {
    const user = await h.signUpUser('pages');
    for (let i = 1; i <= 23; i++) await createDataset(h, user, `page-item-${String(i).padStart(2, '0')}`);
    const page = await h.signedInPage(user, '/?type=datasets');
    const table = page.getByRole('table', { name: 'Owned by me' });
    await table.getByRole('link', { name: 'page-item-23' }).waitFor();
    expect(await table.getByRole('link').count()).toBe(20);
    await page.getByRole('button', { name: 'Page 2' }).click();
    await table.getByRole('link', { name: 'page-item-01' }).waitFor();
    expect(await table.getByRole('link').count()).toBe(3);
    expect(new URL(page.url()).searchParams.get('page')).toBe('2');
    await page.reload();
    await table.getByRole('link', { name: 'page-item-02' }).waitFor();
    expect(await table.getByRole('link', { name: 'page-item-23' }).count()).toBe(0);
    await expectAccessible(page);
  });

  it('creates a scoped API token in Settings: shown once, works within its scope, and stops at once when revoked', async () => {
    const user = await h.signUpUser('tokens');
    const datasetId = await createDataset(h, user, 'token-data');
    const otherId = await createDataset(h, user, 'other-data');
    const page = await h.signedInPage(user, '/settings?tab=tokens');
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Create token' }).click();

    // A name the API refuses: its message next to the field.
    const long = 'n'.repeat(101);
    const refused = await h
      .http()
      .post('/v2/users/me/tokens')
      .set(user.auth)
      .send({ name: long })
      .expect(400);
    await page.getByLabel(/^Token name/).fill(long);
    await page
      .getByRole('group', { name: /^Storages/ })
      .getByLabel('Read')
      .check();
    await page.getByRole('button', { name: 'Create token' }).click();
    expect(await fieldError(page, /^Token name/)).toContain(fieldMessage(refused.body.error.message));
    await expectNoRawError(page);
    await expectAccessible(page);

    await page.getByLabel(/^Token name/).fill('read my storages');
    // And write to one dataset, picked by name.
    await page.getByRole('button', { name: 'Add a resource' }).click();
    await page.getByRole('combobox', { name: 'Resource' }).click();
    await page.getByRole('option', { name: `token-data (${datasetId})` }).click();
    // With a pill chosen, Mantine's MultiSelect takes the click on its box, not on the input.
    await page
      .getByRole('combobox', { name: 'Permissions' })
      .locator('xpath=ancestor::div[contains(@class, "mantine-MultiSelect-input")]')
      .click();
    await page.getByRole('option', { name: 'Write' }).click();
    await page.keyboard.press('Escape');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Create token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your new API token' });
    await dialog.getByText('This is the only time').waitFor();
    const secret = (await dialog.getByTestId('token-secret').innerText()).trim();
    expect(secret.length).toBeGreaterThan(20);
    await expectAccessible(page);
    await screenshot(page, 'api-token-created');

    const bearer = { authorization: `Bearer ${secret}` };
    expect((await h.http().get(`/v2/datasets/${datasetId}`).set(bearer).expect(200)).body.data.id).toBe(
      datasetId,
    );
    // Authenticated, but a scoped token is kept off the account's own routes.
    expect((await h.http().get('/v2/users/me').set(bearer).expect(403)).body.error.type).toBe(
      'insufficient-permissions',
    );
    // The scope has no CREATE: creating is refused.
    await h.http().post('/v2/datasets?name=not-allowed').set(bearer).expect(403);
    // WRITE on the chosen dataset only.
    await h
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(bearer)
      .send([{ a: 1 }])
      .expect(201);
    await h
      .http()
      .post(`/v2/datasets/${otherId}/items`)
      .set(bearer)
      .send([{ a: 1 }])
      .expect(403);
    const listed = (await h.http().get('/v2/users/me/tokens').set(user.auth).expect(200)).body.data.items;
    expect(listed).toEqual([
      expect.objectContaining({
        name: 'read my storages',
        scope: {
          account: { STORAGE: ['READ'] },
          resources: [{ type: 'DATASET', id: datasetId, permissions: ['READ', 'WRITE'] }],
        },
      }),
    ]);

    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.waitFor({ state: 'detached' });
    // Never again: the list shows only the prefix.
    expect(await page.getByText(secret).count()).toBe(0);
    const tokens = page.getByRole('table', { name: 'API tokens' });
    await tokens.getByText('Scoped — Storages: Read; 1 specific resource').waitFor();

    await tokens.getByRole('button', { name: 'Revoke read my storages' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
    await tokens.waitFor({ state: 'detached' });
    await h.http().get(`/v2/datasets/${datasetId}`).set(bearer).expect(401);
    await h.http().get('/v2/users/me').set(bearer).expect(401);
  });

  it('rotates a token: the new secret works and the old one is refused', async () => {
    const user = await h.signUpUser('rotate');
    const created = (
      await h.http().post('/v2/users/me/tokens').set(user.auth).send({ name: 'ci', scope: null }).expect(201)
    ).body.data;
    const old = created.token as string;
    const page = await h.signedInPage(user, '/settings?tab=tokens');
    await page.getByRole('button', { name: 'Rotate ci' }).click();
    await page
      .getByRole('dialog', { name: /Rotate/ })
      .getByRole('button', { name: 'Rotate token' })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Your new API token' });
    const secret = (await dialog.getByTestId('token-secret').innerText()).trim();
    expect(secret).not.toBe(old);
    // A full-access token: the account's routes too.
    expect(
      (
        await h
          .http()
          .get('/v2/users/me')
          .set({ authorization: `Bearer ${secret}` })
          .expect(200)
      ).body.data.id,
    ).toBe(user.id);
    await h
      .http()
      .get('/v2/users/me')
      .set({ authorization: `Bearer ${old}` })
      .expect(401);
  });

  it('Settings saves the general resource access, changes the password, and shows usage against limits', async () => {
    const user: ConsoleUser = await h.signUpUser('settings');
    await createDataset(h, user, 'counted');
    const page = await h.signedInPage(user, '/settings');
    await page.getByRole('heading', { name: 'Privacy' }).waitFor();
    await expectAccessible(page);
    await page.getByLabel('Restricted').check();
    await page.getByLabel('Share runs with public Actor creators').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').getByText('Settings saved.').waitFor();
    const me = (await h.http().get('/v2/users/me').set(user.auth).expect(200)).body.data;
    expect(me.settings).toEqual({
      generalResourceAccess: 'RESTRICTED',
      shareRunsWithPublicActorCreators: true,
    });
    await page.reload();
    expect(await page.getByLabel('Restricted').isChecked()).toBe(true);

    await page.getByRole('tab', { name: 'Password' }).click();
    expect(new URL(page.url()).searchParams.get('tab')).toBe('password');
    await expectAccessible(page);
    await page.getByLabel(/^Current password/).fill('not my password');
    await page.getByLabel(/^New password/).fill('another good passphrase');
    await page.getByLabel(/^Repeat the new password/).fill('another good passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').or(page.locator('[aria-invalid="true"]')).first().waitFor();
    await expectNoRawError(page);
    await page.getByLabel(/^Current password/).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('status').getByText('Password changed.').waitFor();
    await h
      .http()
      .post('/v2/auth/login')
      .send({ login: user.username, password: 'another good passphrase' })
      .expect(200);

    await page.getByRole('tab', { name: 'Usage and limits' }).click();
    const usage = page.getByRole('table', { name: 'Usage and limits' });
    const datasets = usage
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'Datasets' }) });
    expect(await datasets.innerText()).toMatch(/Datasets\s+1\s+\d+/);
    await expectAccessible(page);
    await screenshot(page, 'settings-usage');
  });
});
