import type { Page } from 'playwright-core';
import { ConsoleUser, expectAccessible, screenshot, useConsole } from './harness';

/** Issue 15: an app collaborator sees only what its scopes allow, and gets its personal access token. */
describe('apps in the console', () => {
  const h = useConsole();
  let owner: ConsoleUser;
  let collaborator: ConsoleUser;
  let appId: string;

  beforeAll(async () => {
    [owner, collaborator] = await Promise.all([h.signUpUser('appowner'), h.signUpUser('appcollab')]);
    const app = await h
      .http()
      .post('/v2/apps')
      .set(owner.auth)
      .send({ name: 'pets', description: 'Pet photos' })
      .expect(201);
    appId = app.body.data.id;
    const path = (rest: string) => `/v2/apps/${appId}/${rest}`;
    await h.http().post(path('concepts')).set(owner.auth).send({ id: 'dog', name: 'Dog' }).expect(201);
    await h
      .http()
      .post(path('inputs'))
      .set(owner.auth)
      .send({ data: { text: 'a puppy in the park' } })
      .expect(201);
    await h
      .http()
      .post(path('models'))
      .set(owner.auth)
      .send({ name: 'pet classifier', conceptIds: ['dog'] })
      .expect(201);
  });

  const tab = (page: Page, name: string) => page.getByRole('tab', { name, exact: true });
  const asToken = (secret: string) => ({ authorization: `Bearer ${secret}` });

  it('the owner adds a collaborator with limited scopes through the Collaborators tab', async () => {
    const page = await h.signedInPage(owner, `/apps/${appId}`);
    await page.getByRole('heading', { level: 1, name: 'pets' }).waitFor();
    await page.getByRole('cell', { name: 'a puppy in the park', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Add input' }).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'app-owner');

    await tab(page, 'Models').click();
    await page.getByRole('cell', { name: 'pet classifier', exact: true }).waitFor();

    await tab(page, 'Collaborators').click();
    await page.getByText('No collaborators yet.').waitFor();
    const form = page.getByRole('form', { name: 'Add a collaborator' });
    // Bad input: the API's message next to the field it names.
    await form.getByLabel(/^Username/).fill('nobody-at-all');
    await form.getByRole('checkbox', { name: 'Input', exact: true }).check();
    await form.getByRole('button', { name: 'Add collaborator' }).click();
    await form.getByText('The user "nobody-at-all" (body.user) was not found').waitFor();
    await form.getByLabel(/^Username/).fill(owner.username);
    await form.getByRole('button', { name: 'Add collaborator' }).click();
    await form.getByText(`${owner.username} owns this app and holds every scope`).waitFor();

    // Advanced scopes: only reading inputs and concepts.
    await form.getByLabel(/^Username/).fill(collaborator.username);
    await form.getByText('Advanced scopes').click();
    await form.getByRole('checkbox', { name: 'Inputs:Get' }).check();
    await form.getByRole('checkbox', { name: 'Concepts:Get' }).check();
    await form.getByRole('button', { name: 'Add collaborator' }).click();
    const row = page.getByRole('row', { name: new RegExp(collaborator.username) });
    await row.getByText('Inputs:Get').waitFor();
    await row.getByText('Concepts:Get').waitFor();
    await expectAccessible(page);
    await screenshot(page, 'app-collaborators');

    const listed = await h.http().get(`/v2/apps/${appId}/collaborators`).set(owner.auth).expect(200);
    expect(listed.body.data.items).toEqual([
      expect.objectContaining({ userId: collaborator.id, scopes: ['Concepts:Get', 'Inputs:Get'] }),
    ]);
  });

  it('the collaborator sees only what its scopes allow, its scopes, and its token secret, which works within them', async () => {
    const shared = await h.http().get('/v2/apps?ownership=sharedWithMe').set(collaborator.auth).expect(200);
    expect(shared.body.data.items.map((a: { id: string }) => a.id)).toEqual([appId]);

    const page = await h.signedInPage(collaborator, `/apps/${appId}`);
    await page.getByRole('heading', { level: 1, name: 'pets' }).waitFor();
    await page.getByRole('heading', { name: 'Your access' }).waitFor();
    const panel = page.getByRole('tabpanel');
    await panel.getByText('Inputs:Get', { exact: true }).first().waitFor();
    expect(await panel.getByText('Models:Get').count()).toBe(0);

    await page.getByRole('button', { name: 'Reveal token' }).click();
    const secret = (await page.getByTestId('token-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^atrium_api_/);
    await expectAccessible(page);
    await screenshot(page, 'app-your-access');

    // The secret acts on the app within the collaborator's scopes only.
    await h.http().get(`/v2/apps/${appId}/inputs`).set(asToken(secret)).expect(200);
    await h.http().get(`/v2/apps/${appId}/models`).set(asToken(secret)).expect(403);
    await h
      .http()
      .post(`/v2/apps/${appId}/inputs`)
      .set(asToken(secret))
      .send({ data: { text: 'x' } })
      .expect(403);
    await h.http().get('/v2/users/me/tokens').set(asToken(secret)).expect(403);

    // Inputs: readable, but no add form and no delete buttons.
    await tab(page, 'Inputs').click();
    await page.getByRole('cell', { name: 'a puppy in the park', exact: true }).waitFor();
    await page.getByText('Your access does not include Inputs:Add').waitFor();
    expect(await page.getByRole('button', { name: /^Delete input/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Add input' }).count()).toBe(0);

    // Models: not readable — a clear message, and the API refuses the session too if forced.
    await tab(page, 'Models').click();
    await page.getByText('Your access does not include Models:Get').waitFor();
    await expectAccessible(page);
    await h.http().get(`/v2/apps/${appId}/models`).set(collaborator.auth).expect(403);
    await h.http().delete(`/v2/apps/${appId}`).set(collaborator.auth).expect(403);

    await tab(page, 'Collaborators').click();
    await page.getByText('Your access does not include Collaborators:Get').waitFor();

    // The owner widens its scopes: the token follows at once; removing revokes it.
    const owners = await h.signedInPage(owner, `/apps/${appId}?tab=collaborators`);
    await owners.getByRole('button', { name: `Change scopes of ${collaborator.username}` }).click();
    const dialog = owners.getByRole('dialog');
    await dialog.getByRole('checkbox', { name: 'Models:Get' }).check();
    await dialog.getByRole('button', { name: 'Save scopes' }).click();
    await owners
      .getByRole('row', { name: new RegExp(collaborator.username) })
      .getByText('Models:Get')
      .waitFor();
    await h.http().get(`/v2/apps/${appId}/models`).set(asToken(secret)).expect(200);

    await page.reload();
    await page.getByRole('tab', { name: 'Models', exact: true }).click();
    await page.getByRole('cell', { name: 'pet classifier', exact: true }).waitFor();

    await owners.getByRole('button', { name: `Remove ${collaborator.username}` }).click();
    await owners.getByText('No collaborators yet.').waitFor();
    await h.http().get(`/v2/apps/${appId}`).set(asToken(secret)).expect(401);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Not found' }).waitFor();
  });
});
