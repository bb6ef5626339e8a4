import { createOrganization, joinOrganization, restrictResourceAccess, uniqueName } from '@atrium/testing';
import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import {
  ConsoleHarness,
  ConsoleUser,
  expectAccessible,
  screenshot,
  signInThroughForm,
  useConsole,
} from './harness';

/*
 * The Share dialog and the storage pages (issue 15): sharing a dataset through the dialog and
 * taking it back, a console link for anonymous visitors, grantees and strangers, the dialog by
 * keyboard alone, links (pre-signed, rotated), general access, and axe on every page here.
 */

/** Retries `check` until it passes (access decisions reach every cache through events). */
async function eventually(check: () => Promise<void>, timeoutMs = 8_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

interface Storage {
  id: string;
  name: string;
  path: string;
  consoleUrl: string;
}

async function createStorage(
  h: ConsoleHarness,
  owner: ConsoleUser,
  collection: 'datasets' | 'key-value-stores' | 'request-queues',
): Promise<Storage> {
  const name = uniqueName(collection.slice(0, 2));
  const res = await h.http().post(`/v2/${collection}?name=${name}`).set(owner.auth).expect(201);
  const { id, consoleUrl } = res.body.data as { id: string; consoleUrl: string };
  return { id, name, consoleUrl, path: new URL(consoleUrl).pathname };
}

async function createDataset(h: ConsoleHarness, owner: ConsoleUser): Promise<Storage> {
  const dataset = await createStorage(h, owner, 'datasets');
  await h
    .http()
    .post(`/v2/datasets/${dataset.id}/items`)
    .set(owner.auth)
    .send([
      { title: 'First', price: 10, tags: ['a', 'b'] },
      { title: 'Second', price: 20, seller: { name: 'Ann' } },
    ])
    .expect(201);
  return dataset;
}

/** The Share dialog, opened from the page's Share button. */
async function openShareDialog(page: Page, name: string): Promise<Locator> {
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Share ${name}` });
  await dialog.getByRole('table', { name: 'People with access' }).waitFor();
  return dialog;
}

function accessRow(dialog: Locator, username: string): Locator {
  return dialog
    .getByRole('table', { name: 'People with access' })
    .getByRole('row')
    .filter({ hasText: username });
}

/** The sign-in link of the "Sign in to continue" prompt, which returns to the page. */
function signInPrompt(page: Page): Locator {
  return page.locator('main a[href^="/sign-in?next="]');
}

/** The name of the element that has focus (its label, or its text). */
function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return '';
    const labelled = el.getAttribute('aria-labelledby');
    const byId = labelled && document.getElementById(labelled.split(' ')[0])?.textContent;
    const label = (el as HTMLInputElement).labels?.[0]?.textContent;
    return (el.getAttribute('aria-label') ?? label ?? byId ?? el.textContent ?? '').trim();
  });
}

describe('console: the Share dialog and the storage pages', () => {
  const h = useConsole();

  it('A shares a dataset with B through the dialog; B sees it; A revokes; B gets not found', async () => {
    const [a, b] = [await h.signUpUser('sharer'), await h.signUpUser('grantee')];
    await restrictResourceAccess(h, a);
    const dataset = await createDataset(h, a);

    const pageA = await h.signedInPage(a, dataset.path);
    await pageA.getByRole('heading', { level: 1, name: dataset.name }).waitFor();
    const dialog = await openShareDialog(pageA, dataset.name);
    // The account setting applies: the dataset follows it and is restricted in effect.
    expect(await dialog.getByRole('radio', { name: /Follow the account setting/ }).isChecked()).toBe(true);
    expect(await dialog.getByTestId('effective-general-access').textContent()).toContain('Restricted');
    expect(await accessRow(dialog, a.username).textContent()).toContain('Owner');

    // Bad input gets the API's message next to the field: a name nobody has, an email address.
    const who = dialog.getByLabel('Username', { exact: true });
    const share = dialog.getByRole('button', { name: 'Share', exact: true });
    const fieldMessage = async () => {
      await eventually(async () => expect(await who.getAttribute('aria-invalid')).toBe('true'));
      const describedBy = (await who.getAttribute('aria-describedby')) ?? '';
      return pageA.evaluate(
        (ids) =>
          ids
            .split(' ')
            .map((id) => document.getElementById(id)?.textContent ?? '')
            .join(' '),
        describedBy,
      );
    };
    await who.fill('nobody-by-this-name');
    await share.click();
    expect(await fieldMessage()).toContain('The user "nobody-by-this-name" was not found');
    await who.fill(b.email);
    await share.click();
    expect(await fieldMessage()).toContain('an email address is not accepted here');

    await who.fill(b.username);
    await share.click();
    await accessRow(dialog, b.username).waitFor();
    expect(await accessRow(dialog, b.username).textContent()).toContain('View');
    await expectAccessible(pageA);

    // Why can B access it? The explain rule, in words.
    await accessRow(dialog, b.username)
      .getByRole('button', { name: /^Why\?/ })
      .click();
    await dialog.getByTestId('explain-answer').waitFor();
    expect(await dialog.getByTestId('explain-answer').textContent()).toBe(
      'Allowed. It was shared with them directly.',
    );
    await screenshot(pageA, 'share-dialog');

    // B finds it among what is shared with B, and opens its console link.
    const shared = await h.http().get('/v2/datasets?ownership=sharedWithMe').set(b.auth).expect(200);
    expect(shared.body.data.items.map((d: { id: string }) => d.id)).toContain(dataset.id);
    const pageB = await h.signedInPage(b, '/');
    await pageB.getByText('Shared with me', { exact: true }).click();
    await pageB
      .getByRole('table', { name: 'Shared with me' })
      .getByRole('link', { name: dataset.name })
      .click();
    await pageB.getByRole('heading', { level: 1, name: dataset.name }).waitFor();
    expect(new URL(pageB.url()).pathname).toBe(dataset.path);
    await pageB.getByRole('cell', { name: 'Second' }).waitFor();

    // A revokes; B's reload says not found.
    await accessRow(dialog, b.username)
      .getByRole('button', { name: /^Revoke/ })
      .click();
    await dialog.getByRole('button', { name: 'Revoke access' }).click();
    await eventually(async () => expect(await accessRow(dialog, b.username).count()).toBe(0));
    await eventually(async () => {
      await pageB.reload();
      await pageB.getByRole('heading', { level: 1, name: 'Not found' }).waitFor({ timeout: 2_000 });
    });
  });

  it('a console link asks an anonymous visitor to sign in, lands a grantee on the dataset, and tells a stranger not found', async () => {
    const [a, b, stranger] = [
      await h.signUpUser('owner'),
      await h.signUpUser('reader'),
      await h.signUpUser('stranger'),
    ];
    await restrictResourceAccess(h, a);
    const dataset = await createDataset(h, a);
    await h
      .http()
      .post(`/v2/datasets/${dataset.id}/access/grants`)
      .set(a.auth)
      .send({ user: b.username, permissions: ['READ'] })
      .expect(201);

    const visitor = await h.newPage();
    await visitor.goto(dataset.path);
    await visitor.getByRole('heading', { level: 1, name: 'Sign in to continue' }).waitFor();
    await expectAccessible(visitor);
    await signInPrompt(visitor).click();
    await signInThroughForm(visitor, b);
    await visitor.getByRole('heading', { level: 1, name: dataset.name }).waitFor();
    expect(new URL(visitor.url()).pathname).toBe(dataset.path);
    // A reader sees the Share dialog's refusal, not a raw error.
    await visitor.getByRole('button', { name: 'Share', exact: true }).click();
    await visitor
      .getByRole('dialog')
      .getByText('Only people who can manage access to this dataset can see who has access and share it.')
      .waitFor();
    await visitor.keyboard.press('Escape');

    const other = await h.newPage();
    await other.goto(dataset.path);
    await signInPrompt(other).click();
    await signInThroughForm(other, stranger);
    await other.getByRole('heading', { level: 1, name: 'Not found' }).waitFor();
    expect(new URL(other.url()).pathname).toBe(dataset.path);

    // General access in the dialog: "Anyone with the link" lets the stranger in.
    const pageA = await h.signedInPage(a, dataset.path);
    const dialog = await openShareDialog(pageA, dataset.name);
    const anyoneWithLink = dialog.getByRole('radio', { name: 'Anyone with the link', exact: true });
    await anyoneWithLink.click();
    await eventually(async () =>
      expect(await dialog.getByTestId('effective-general-access').count()).toBe(0),
    );
    expect(await anyoneWithLink.isChecked()).toBe(true);
    const updated = await h.http().get(`/v2/datasets/${dataset.id}`).set(a.auth).expect(200);
    expect(updated.body.data.generalAccess).toBe('ANYONE_WITH_ID_CAN_READ');
    await eventually(async () => {
      await other.reload();
      await other.getByRole('heading', { level: 1, name: dataset.name }).waitFor({ timeout: 2_000 });
    });
    // …and an anonymous visitor reads it too, with nothing to share.
    const anonymous = await h.newPage();
    await anonymous.goto(dataset.path);
    await anonymous.getByRole('heading', { level: 1, name: dataset.name }).waitFor();
    await anonymous.getByRole('cell', { name: 'First' }).waitFor();
    expect(await anonymous.getByRole('button', { name: 'Share', exact: true }).count()).toBe(0);
    await expectAccessible(anonymous);
  });

  it('the Share dialog works by keyboard alone', async () => {
    const [a, b] = [await h.signUpUser('keys'), await h.signUpUser('keyed')];
    const dataset = await createDataset(h, a);
    const page = await h.signedInPage(a, dataset.path);
    const button = page.getByRole('button', { name: 'Share', exact: true });
    await button.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: `Share ${dataset.name}` });
    await dialog.getByRole('table', { name: 'People with access' }).waitFor();

    const tabTo = async (name: string | RegExp) => {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        const focused = await focusedName(page);
        if (typeof name === 'string' ? focused === name : name.test(focused)) return;
      }
      throw new Error(`Tab never reached ${name}`);
    };
    await tabTo('Username');
    await page.keyboard.type(b.username);
    await tabTo(/^Edit/);
    await page.keyboard.press('Space');
    expect(await dialog.getByRole('checkbox', { name: /^Edit/ }).isChecked()).toBe(true);
    await tabTo('Share');
    await page.keyboard.press('Enter');
    await accessRow(dialog, b.username).waitFor();
    const row = (await accessRow(dialog, b.username).textContent()) ?? '';
    expect(row).toContain('View');
    expect(row).toContain('Edit');

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await eventually(async () => expect(await focusedName(page)).toBe('Share'));
    const grants = await h.http().get(`/v2/datasets/${dataset.id}/access`).set(a.auth).expect(200);
    expect(grants.body.data.grants).toEqual([
      expect.objectContaining({ userId: b.userId, permissions: ['READ', 'WRITE'] }),
    ]);
  });

  it('derived access: organization members with their role, explained; a grant changed; giving more than one holds is refused next to the field', async () => {
    const [a, member, manager, d, e] = [
      await h.signUpUser('orgowner'),
      await h.signUpUser('member'),
      await h.signUpUser('manager'),
      await h.signUpUser('third'),
      await h.signUpUser('fourth'),
    ];
    const org = await createOrganization(h, a);
    await joinOrganization(h, a, org.id, member, org.roleId('Read only'));
    const name = uniqueName('orgds');
    const created = await h
      .http()
      .post(`/v2/datasets?name=${name}`)
      .set({ ...a.auth, 'x-account-id': org.id })
      .expect(201);
    const dataset = { id: created.body.data.id as string, path: `/storage/datasets/${created.body.data.id}` };
    await h
      .http()
      .post(`/v2/datasets/${dataset.id}/access/grants`)
      .set({ ...a.auth, 'x-account-id': org.id })
      .send({ user: manager.username, permissions: ['READ', 'MANAGE_ACCESS'] })
      .expect(201);

    const page = await h.signedInPage(a, dataset.path);
    const dialog = await openShareDialog(page, name);
    const memberRow = accessRow(dialog, member.username);
    expect(await memberRow.textContent()).toContain('Organization member, role Read only');
    expect(await memberRow.textContent()).toContain('View');
    await memberRow.getByRole('button', { name: /^Why\?/ }).click();
    await dialog.getByTestId('explain-answer').waitFor();
    expect(await dialog.getByTestId('explain-answer').textContent()).toBe(
      'Allowed. They are a member of the organization that owns it; their role gives this.',
    );
    // Asked about a permission the role does not give: not allowed.
    await dialog.getByLabel('Permission to explain').selectOption({ label: 'Edit' });
    await eventually(async () =>
      expect(await dialog.getByTestId('explain-answer').textContent()).toBe(
        'Not allowed. No rule gives this access.',
      ),
    );
    await expectAccessible(page);

    // The manager's grant changed: an expiry added.
    const managerRow = accessRow(dialog, manager.username);
    await managerRow.getByRole('button', { name: /^Change/ }).click();
    const change = dialog.getByRole('form', { name: 'Change access' });
    const expires = new Date(Date.now() + 7 * 24 * 3600_000);
    const local = new Date(expires.getTime() - expires.getTimezoneOffset() * 60_000)
      .toISOString()
      .slice(0, 16);
    await change.getByLabel('Expires (optional)').fill(local);
    await change.getByRole('button', { name: 'Save changes' }).click();
    await change.waitFor({ state: 'detached' });
    await eventually(async () => expect(await managerRow.textContent()).not.toContain('Never'));
    const listed = await h.http().get(`/v2/datasets/${dataset.id}/access`).set(a.auth).expect(200);
    const grant = listed.body.data.grants.find((g: { userId: string }) => g.userId === manager.userId);
    expect(new Date(grant.expiresAt).getTime()).toBe(new Date(local).getTime());

    // The manager may share, but gives only what it holds: the API's refusal next to the permissions.
    const managerPage = await h.signedInPage(manager, dataset.path);
    const managerDialog = await openShareDialog(managerPage, name);
    await managerDialog.getByLabel('Username', { exact: true }).fill(d.username);
    await managerDialog.getByRole('checkbox', { name: /^Edit/ }).check();
    await managerDialog.getByRole('button', { name: 'Share', exact: true }).click();
    // Shown as the Permissions field's error, where Mantine puts it: after the checkboxes.
    await managerDialog.getByText('You can give only permissions you hold on this resource: WRITE').waitFor();
    expect(await managerDialog.getByRole('alert').count()).toBe(0);
    await managerDialog.getByRole('checkbox', { name: /^Edit/ }).uncheck();
    await managerDialog.getByRole('button', { name: 'Share', exact: true }).click();
    await accessRow(managerDialog, d.username).waitFor();
    // Its own power to share ends in 7 days: what it gives with no expiry ends then, and it is told so.
    await managerDialog.getByText(`Shared with ${d.username} until`).waitFor();
    const addPeople = managerDialog.getByRole('form', { name: 'Add people' });
    await addPeople
      .getByText(/^Leave empty to give access until .+, when your own access to manage this dataset ends/)
      .waitFor();
    const later = new Date(expires.getTime() + 24 * 3600_000 - expires.getTimezoneOffset() * 60_000)
      .toISOString()
      .slice(0, 16);
    await addPeople.getByLabel('Username', { exact: true }).fill(e.username);
    await addPeople.getByLabel('Expires (optional)').fill(later);
    await addPeople.getByRole('button', { name: 'Share', exact: true }).click();
    // The API's reason, next to the Expires field: not "you cannot manage access".
    await addPeople
      .getByText(/^Your own access to manage this resource ends at .+: a grant you give must expire by then/)
      .waitFor();
    expect(await managerDialog.getByRole('alert').count()).toBe(0);
  });

  it('a writer copies a pre-signed link and rotates the signing key, which stops the old link', async () => {
    const a = await h.signUpUser('signer');
    await restrictResourceAccess(h, a);
    const dataset = await createDataset(h, a);
    const page = await h.signedInPage(a, dataset.path);
    const dialog = await openShareDialog(page, dataset.name);
    const link = dialog.getByLabel('Pre-signed link', { exact: true });
    const before = await link.inputValue();
    expect(before).toMatch(/\/v2\/datasets\/[^/]+\/items\?signature=/);
    expect(await dialog.getByLabel('Link', { exact: true }).inputValue()).toBe(`${h.baseUrl}${dataset.path}`);
    await h
      .http()
      .get(new URL(before).pathname + new URL(before).search)
      .expect(200);

    await dialog.getByRole('button', { name: 'Rotate signing key' }).click();
    await dialog.getByText('The signing key was replaced').waitFor();
    await eventually(async () => expect(await link.inputValue()).not.toBe(before));
    await h
      .http()
      .get(new URL(before).pathname + new URL(before).search)
      .expect(403);
    const after = await link.inputValue();
    await h
      .http()
      .get(new URL(after).pathname + new URL(after).search)
      .expect(200);
  });

  it('storage pages: dataset items paged with exports, key-value records previewed and downloaded, request queue requests; all accessible', async () => {
    const a = await h.signUpUser('pages');
    const dataset = await createDataset(h, a);
    await h
      .http()
      .post(`/v2/datasets/${dataset.id}/items`)
      .set(a.auth)
      .send(Array.from({ length: 25 }, (_, i) => ({ title: `Bulk ${i + 1}`, price: i })))
      .expect(201);

    const page = await h.signedInPage(a, dataset.path);
    await page.getByRole('heading', { level: 1, name: dataset.name }).waitFor();
    const items = page.getByRole('table', { name: 'Dataset items' });
    await items.getByRole('cell', { name: 'First' }).waitFor();
    expect(await items.getByRole('columnheader').allTextContents()).toEqual([
      '#',
      'title',
      'price',
      'tags',
      'seller',
    ]);
    // A nested value reads as JSON.
    expect(await items.getByRole('row').nth(1).textContent()).toContain('"a"');
    await page.getByRole('button', { name: 'Page 2' }).click();
    await items.getByRole('cell', { name: 'Bulk 19' }).waitFor();
    expect(new URL(page.url()).searchParams.get('page')).toBe('2');
    await expectAccessible(page);
    await screenshot(page, 'dataset');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export items as CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`dataset_${dataset.name}.csv`);
    const csv = readFileSync((await download.path()) as string, 'utf8');
    expect(csv).toContain('title');
    expect(csv).toContain('Bulk 25');

    const store = await createStorage(h, a, 'key-value-stores');
    const put = (key: string, type: string, body: string | Buffer) =>
      h
        .http()
        .put(`/v2/key-value-stores/${store.id}/records/${key}`)
        .set(a.auth)
        .set('content-type', type)
        .send(body)
        .expect(201);
    await put('INPUT', 'application/json', JSON.stringify({ url: 'https://example.com', depth: 2 }));
    await put('notes', 'text/plain', 'plain words');
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    await put('pixel', 'image/png', png);
    await page.goto(store.path);
    await page.getByRole('heading', { level: 1, name: store.name }).waitFor();
    const records = page.getByRole('table', { name: 'Records' });
    await records.getByRole('button', { name: 'Preview INPUT' }).click();
    await page.getByTestId('record-preview').waitFor();
    expect(await page.getByTestId('record-preview').textContent()).toContain('"depth": 2');
    await records.getByRole('button', { name: 'Preview notes' }).click();
    await page.getByTestId('record-preview').filter({ hasText: 'plain words' }).waitFor();
    await records.getByRole('button', { name: 'Preview pixel' }).click();
    const image = page.getByRole('img', { name: 'Image stored as pixel' });
    await image.waitFor();
    expect(await image.getAttribute('src')).toMatch(/^blob:/);
    const [record] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download pixel' }).click(),
    ]);
    expect(readFileSync((await record.path()) as string)).toEqual(png);
    await expectAccessible(page);
    await screenshot(page, 'key-value-store');

    const queue = await createStorage(h, a, 'request-queues');
    await h
      .http()
      .post(`/v2/request-queues/${queue.id}/requests`)
      .set(a.auth)
      .send({ url: 'https://example.com/pending', uniqueKey: 'pending', method: 'GET' })
      .expect(201);
    await h
      .http()
      .post(`/v2/request-queues/${queue.id}/requests`)
      .set(a.auth)
      .send({
        url: 'https://example.com/done',
        uniqueKey: 'done',
        method: 'POST',
        handledAt: new Date().toISOString(),
      })
      .expect(201);
    await page.goto(queue.path);
    await page.getByRole('heading', { level: 1, name: queue.name }).waitFor();
    const all = page.getByRole('table', { name: 'Requests', exact: true });
    await all.getByRole('cell', { name: 'https://example.com/done' }).waitFor();
    expect(await all.getByRole('row').filter({ hasText: '/done' }).textContent()).toContain('Handled');
    expect(await all.getByRole('row').filter({ hasText: '/pending' }).textContent()).toContain('Pending');
    const head = page.getByRole('table', { name: 'Next requests', exact: true });
    expect(await head.getByRole('row').count()).toBe(2);
    await expectAccessible(page);
    await screenshot(page, 'request-queue');

    // The dialog of a request queue: no pre-signed link, the signing key still rotates.
    const dialog = await openShareDialog(page, queue.name);
    expect(await dialog.getByLabel('Pre-signed link', { exact: true }).count()).toBe(0);
    await expectAccessible(page);
  });
});
