import type { Page } from 'playwright-core';
import { expectAccessible, screenshot, useConsole, type ConsoleUser } from './harness';

/**
 * Teams in the console: organizations (create, invite as Read only, accept in the inbox, act as the
 * organization) and account collaboration (a member sees only the environments shared with it).
 */
/** Long journeys with an axe scan per page: more than Jest's default 60 s on a busy machine. */
const JOURNEY_TIMEOUT_MS = 240_000;

describe('console: organizations and collaboration', () => {
  const h = useConsole();

  const api = (user: ConsoleUser) => ({
    get: (path: string, accountId?: string) => {
      const req = h.http().get(path).set(user.auth);
      return accountId ? req.set('x-account-id', accountId) : req;
    },
    post: (path: string, body: object, accountId?: string) => {
      const req = h.http().post(path).set(user.auth).send(body);
      return accountId ? req.set('x-account-id', accountId) : req;
    },
    put: (path: string, body: object, accountId?: string) => {
      const req = h.http().put(path).set(user.auth).send(body);
      return accountId ? req.set('x-account-id', accountId) : req;
    },
    delete: (path: string, accountId?: string) => {
      const req = h.http().delete(path).set(user.auth);
      return accountId ? req.set('x-account-id', accountId) : req;
    },
  });

  /** Picks `option` in the Mantine Select (or MultiSelect) labelled `label`. */
  async function choose(page: Page, label: string, option: string): Promise<void> {
    // Mantine appends " *" to a required field's label; a MultiSelect's wrapper takes the click.
    const name = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\*)?$`);
    await page.getByLabel(name).and(page.locator('input')).click({ force: true });
    await page.getByRole('option', { name: option, exact: true }).click();
  }

  it(
    'A creates an organization and invites B as Read only; B accepts in the inbox, acts as the organization, sees its datasets and cannot change them',
    async () => {
      const a = await h.signUpUser('orgowner');
      const b = await h.signUpUser('orgreader');
      const orgName = `team-${a.username}`.slice(0, 30);

      // A creates the organization through the form; a bad name gets the API's message at the field.
      const pageA = await h.signedInPage(a, '/organizations');
      await pageA.getByRole('heading', { level: 1, name: 'Organizations' }).waitFor();
      await expectAccessible(pageA);
      await pageA.getByLabel(/^Organization username/).fill('no spaces allowed');
      await pageA.getByRole('button', { name: 'Create', exact: true }).click();
      await pageA.locator('.mantine-TextInput-error').first().waitFor();
      await pageA.getByLabel(/^Organization username/).fill(orgName);
      await pageA.getByRole('button', { name: 'Create', exact: true }).click();
      await pageA.waitForURL(/\/organizations\/[A-Za-z0-9]{17}$/);
      const orgId = new URL(pageA.url()).pathname.split('/').pop()!;
      await pageA.getByRole('heading', { level: 1, name: orgName }).waitFor();
      await pageA.getByRole('table', { name: 'Members' }).getByText(a.username).waitFor();
      await expectAccessible(pageA);

      // The role editor: built-in roles marked, a checkbox per permission of each category.
      await pageA.getByRole('tab', { name: 'Roles' }).click();
      await pageA.getByRole('button', { name: /Read only/ }).click();
      const readOnly = pageA.getByRole('region', { name: /Read only/ });
      await expect(readOnly.getByLabel(/^Role name/).inputValue()).resolves.toBe('Read only');
      expect(await readOnly.locator('input[type=checkbox]:checked').count()).toBeGreaterThan(0);
      expect(await pageA.getByText('Built in').count()).toBeGreaterThanOrEqual(4);
      await expectAccessible(pageA);
      await screenshot(pageA, 'organization-roles');
      // A custom role from the checkboxes: Storages → Read.
      const newRole = pageA
        .locator('form')
        .filter({ has: pageA.getByRole('button', { name: 'Create role' }) });
      await newRole.getByLabel(/^Role name/).fill('Storage reader');
      await newRole.getByRole('group', { name: 'Storages' }).getByLabel('Read', { exact: true }).check();
      await newRole.getByRole('button', { name: 'Create role' }).click();
      await pageA.getByRole('button', { name: /^Storage reader/ }).waitFor();
      const roles = (await api(a).get(`/v2/organizations/${orgId}/roles`).expect(200)).body.data.items;
      expect(roles.find((r: { name: string }) => r.name === 'Storage reader')?.permissions.STORAGE).toEqual([
        'READ',
      ]);

      // A invites B as Read only.
      await pageA.getByRole('tab', { name: 'Invitations sent' }).click();
      await pageA.getByLabel(/^Username or email/).fill(b.username);
      await choose(pageA, 'Role', 'Read only');
      await pageA.getByRole('button', { name: 'Invite', exact: true }).click();
      const sent = pageA.getByRole('table', { name: 'Invitations sent' });
      await sent.getByRole('row', { name: new RegExp(`${b.username}.*Read only.*PENDING`) }).waitFor();
      await expectAccessible(pageA);
      await pageA.getByRole('tab', { name: 'Settings' }).click();
      await pageA.getByRole('button', { name: 'Delete organization' }).waitFor();
      await expectAccessible(pageA);

      // A creates a dataset in the organization through the API (acting as it).
      const dataset = await api(a).post(`/v2/datasets?name=org-results`, {}, orgId).expect(201);
      const datasetId: string = dataset.body.data.id;
      expect(dataset.body.data.userId).toBe(orgId);

      // B accepts in the inbox.
      const pageB = await h.signedInPage(b, '/invitations');
      const inbox = pageB.getByRole('table', { name: 'Organization invitations' });
      await inbox.getByRole('row', { name: new RegExp(`${orgName}.*Read only`) }).waitFor();
      await expectAccessible(pageB);
      await pageB.getByRole('button', { name: `Accept the invitation to ${orgName}` }).click();
      await pageB.getByText('No pending invitation into an organization.').waitFor();
      await expect(api(b).get(`/v2/organizations/${orgId}`).expect(200)).resolves.toBeDefined();

      // B switches to the organization in the header and sees its datasets on Home.
      await choose(pageB, 'Account', orgName);
      await pageB.waitForURL((url) => url.pathname === '/');
      await pageB.getByText(`Acting as the organization ${orgName}`).waitFor();
      await pageB
        .getByRole('table', { name: 'Owned by me' })
        .getByRole('link', { name: 'org-results' })
        .click();
      await pageB.waitForURL(new RegExp(`/storage/datasets/${datasetId}$`));
      await pageB.getByRole('heading', { level: 1, name: 'org-results' }).waitFor();
      // No write action is offered to a Read only member…
      await expect(pageB.getByRole('button', { name: /delete|rename/i }).count()).resolves.toBe(0);
      // …and one forced through the API is refused: B can read the dataset, not change it.
      await api(b).get(`/v2/datasets/${datasetId}`, orgId).expect(200);
      const rename = await api(b).put(`/v2/datasets/${datasetId}`, { name: 'renamed' }, orgId);
      expect(rename.status).toBe(403);
      expect(rename.body.error.type).toBe('insufficient-permissions');
      await api(b).delete(`/v2/datasets/${datasetId}`, orgId).expect(403);

      // B sees the organization with its role, and its members; A changes B's role from the page.
      await pageB.goto(`/organizations/${orgId}`);
      await pageB.getByRole('heading', { level: 1, name: orgName }).waitFor();
      await pageB.getByText('Read only').first().waitFor();
      await expectAccessible(pageB);
      await pageA.getByRole('tab', { name: 'Members' }).click();
      await choose(pageA, `Role of ${b.username}`, 'Developer');
      for (let i = 0; ; i++) {
        const role = (await api(b).get(`/v2/organizations/${orgId}`)).body.data.role.name;
        if (role === 'Developer') break;
        if (i > 50) throw new Error(`B's role stayed ${role}`);
        await pageA.waitForTimeout(100);
      }
    },
    JOURNEY_TIMEOUT_MS,
  );

  it(
    'a collaboration member sees only the environments shared with it; a refused action shows the API message',
    async () => {
      const a = await h.signUpUser('primary');
      const b = await h.signUpUser('member');
      // Collaboration invitations go to an address: only its verified owner answers them.
      const mail = await h.readMail(b.email, 'Verify');
      await h.http().post('/v2/auth/verify-email').send({ token: mail.token }).expect(200);

      const shared = (await api(a).post('/v2/environments', { name: 'shared-env' }).expect(201)).body.data;
      const hidden = (await api(a).post('/v2/environments', { name: 'hidden-env' }).expect(201)).body.data;

      // A builds a role from the View policy and invites B sharing only one environment.
      const pageA = await h.signedInPage(a, '/collaboration?tab=roles');
      await pageA.getByRole('heading', { level: 1, name: 'Collaboration' }).waitFor();
      await pageA.getByLabel('Role name').fill('Viewer');
      await pageA.getByLabel('View', { exact: true }).check();
      await pageA.getByRole('button', { name: 'Create role' }).click();
      await pageA.getByRole('button', { name: /^Viewer/ }).waitFor();
      await expectAccessible(pageA);
      await pageA.getByRole('tab', { name: 'Policies' }).click();
      await pageA.getByRole('table', { name: 'System policies' }).getByText('Start/Stop').waitFor();
      await expectAccessible(pageA);

      await pageA.getByRole('tab', { name: 'Members' }).click();
      await pageA.getByLabel(/^Email/).fill(b.email);
      await pageA.getByRole('button', { name: 'Add a shared item' }).click();
      await choose(pageA, 'Shared item 1', 'shared-env');
      await choose(pageA, 'Roles on item 1', 'Viewer');
      await pageA.keyboard.press('Escape');
      await pageA.getByRole('button', { name: 'Invite', exact: true }).click();
      const members = pageA.getByRole('table', { name: 'Collaboration members' });
      await members
        .getByRole('row', { name: new RegExp(`${b.email}.*PENDING.*shared-env: Viewer`) })
        .waitFor();
      await expectAccessible(pageA);
      await screenshot(pageA, 'collaboration-members');

      // B accepts in the inbox.
      const pageB = await h.signedInPage(b, '/invitations');
      await pageB.getByRole('table', { name: 'Collaboration invitations' }).getByText(a.username).waitFor();
      await expectAccessible(pageB);
      await pageB.getByRole('button', { name: `Accept the collaboration with ${a.username}` }).click();
      await pageB.getByText('No pending invitation into a collaboration.').waitFor();

      // B's collaborations list only the shared environment.
      await pageB.goto('/collaborations');
      const card = pageB.getByRole('region', { name: `Collaboration with ${a.username}` });
      await card.getByText('ACTIVE').waitFor();
      const usable = pageB.getByRole('list', { name: `Environments shared by ${a.username}` });
      await usable.getByRole('link', { name: 'shared-env' }).waitFor();
      await expect(pageB.getByText('hidden-env').count()).resolves.toBe(0);
      await expectAccessible(pageB);

      // The shared environment opens; an action its role lacks is refused with the API's message.
      await usable.getByRole('link', { name: 'shared-env' }).click();
      await pageB.waitForURL(new RegExp(`/environments/${shared.id}$`));
      await pageB.getByRole('heading', { level: 1, name: 'shared-env' }).waitFor();
      await pageB.getByRole('button', { name: 'Start', exact: true }).click();
      await pageB
        .getByRole('alert')
        .getByText('You need START_STOP permission on this environment to start it')
        .waitFor();
      await expect(pageB.getByTestId('environment-status').textContent()).resolves.toBe('CREATED');
      await expectAccessible(pageB);

      // A, who holds every operation, starts it from the same page.
      await pageA.goto(`/environments/${shared.id}`);
      await pageA.getByRole('button', { name: 'Start', exact: true }).click();
      await pageA.getByTestId('environment-status').getByText('RUNNING').waitFor();
      await expectAccessible(pageA);

      // The other environment is "not found" for B, as the API says.
      await pageB.goto(`/environments/${hidden.id}`);
      await pageB.getByRole('heading', { level: 1, name: 'Not found' }).waitFor();
      await api(b).get(`/v2/environments/${hidden.id}`).expect(404);
      await expectAccessible(pageB);

      // A shares the other environment too by editing B's shares; then suspends B.
      await pageA.goto('/collaboration');
      await pageA.getByRole('button', { name: `Edit shares of ${b.email}` }).click();
      const edit = pageA.locator('form').filter({ has: pageA.getByRole('button', { name: 'Save shares' }) });
      await edit.getByRole('button', { name: 'Add a shared item' }).click();
      await choose(pageA, 'Shared item 2', 'hidden-env');
      await choose(pageA, 'Roles on item 2', 'Viewer');
      await pageA.keyboard.press('Escape');
      await edit.getByRole('button', { name: 'Save shares' }).click();
      await members
        .getByRole('row', { name: new RegExp(`${b.email}.*ACTIVE.*hidden-env: Viewer`) })
        .waitFor();
      await pageB.goto('/collaborations');
      await usable.getByRole('link', { name: 'hidden-env' }).waitFor();
      await pageA.getByRole('button', { name: `Suspend ${b.email}` }).click();
      await members.getByRole('row', { name: new RegExp(`${b.email}.*SUSPENDED`) }).waitFor();
      await pageB.reload();
      await card.getByText('SUSPENDED').waitFor();
      await pageB.goto(`/environments/${shared.id}`);
      await pageB.getByRole('heading', { level: 1, name: 'Not found' }).waitFor();

      // A group page lists its environments (smoke, with the group's Share button).
      const group = (await api(a).post('/v2/environment-groups', { name: 'prod' }).expect(201)).body.data;
      await api(a).put(`/v2/environments/${hidden.id}`, { groupId: group.id }).expect(200);
      await pageA.goto(`/environment-groups/${group.id}`);
      await pageA.getByRole('heading', { level: 1, name: 'prod' }).waitFor();
      await pageA
        .getByRole('table', { name: 'Environments in this group' })
        .getByRole('link', { name: 'hidden-env' })
        .waitFor();
      await expectAccessible(pageA);
    },
    JOURNEY_TIMEOUT_MS,
  );
});
