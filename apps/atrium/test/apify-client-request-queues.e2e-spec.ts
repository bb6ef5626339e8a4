import { uniqueName } from '@atrium/testing';
import { ApifyApiError, ApifyClient } from 'apify-client';
import { SignedUpUser, signUpEach, startListeningTestStack, TestStack } from './test-stack';

/** The error apify-client throws for a call, as `{ statusCode, type, message }`. */
async function apiError(call: Promise<unknown>): Promise<ApifyApiError> {
  const err = await call.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApifyApiError);
  return err as ApifyApiError;
}

/**
 * Request queues as the SDK and Crawlee use them, through the official apify-client, unchanged:
 * batches, locks with client keys, paging and counts.
 */
describe('apify-client request queues with locks against Atrium', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let baseUrl: string;
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });
  const requests = (from: number, count: number, prefix = 'https://example.com/page') =>
    Array.from({ length: count }, (_, i) => ({
      url: `${prefix}/${from + i}`,
      uniqueKey: `${prefix}/${from + i}`,
    }));

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
  });
  afterAll(() => t.close());

  it('batch-adds, locks the head per client, prolongs, drops and unlocks, with exact counts', async () => {
    const owner = client(alice.accessToken);
    const { id } = await owner.requestQueues().getOrCreate(uniqueName('crawl'));
    const one = owner.requestQueue(id, { clientKey: 'crawler-one' });
    const two = owner.requestQueue(id, { clientKey: 'crawler-two' });

    // 60 requests: the client sends them 25 a call (one call at a time, to keep their order).
    const added = await one.batchAddRequests(requests(0, 60), { maxParallel: 1 });
    expect(added.unprocessedRequests).toEqual([]);
    expect(added.processedRequests).toHaveLength(60);
    expect(added.processedRequests.every((p) => !p.wasAlreadyPresent)).toBe(true);
    const again = await one.batchAddRequests(requests(55, 10));
    expect(again.processedRequests.filter((p) => p.wasAlreadyPresent)).toHaveLength(5);
    expect(await one.get()).toMatchObject({
      totalRequestCount: 65,
      handledRequestCount: 0,
      pendingRequestCount: 65,
      hadMultipleClients: false,
    });

    const mine = await one.listAndLockHead({ lockSecs: 60, limit: 25 });
    expect(mine).toMatchObject({
      limit: 25,
      lockSecs: 60,
      clientKey: 'crawler-one',
      queueHasLockedRequests: true,
    });
    expect(mine.items).toHaveLength(25);
    expect(mine.items[0]).toMatchObject({ url: 'https://example.com/page/0', method: 'GET', retryCount: 0 });
    expect(mine.items[0].lockExpiresAt).toBeInstanceOf(Date);
    const theirs = await two.listAndLockHead({ lockSecs: 60, limit: 25 });
    expect(theirs.items).toHaveLength(25);
    expect(theirs.hadMultipleClients).toBe(true);
    const mineIds = new Set(mine.items.map((i) => i.id));
    expect(theirs.items.some((i) => mineIds.has(i.id))).toBe(false);
    // The plain head leaves out what is locked.
    expect((await one.listHead({ limit: 100 })).items).toHaveLength(15);

    // Another client's lock: Apify's error, naming the request; the lock stays as it was.
    const target = mine.items[3].id;
    for (const call of [
      () => two.prolongRequestLock(target, { lockSecs: 600 }),
      () => two.deleteRequestLock(target),
      () => owner.requestQueue(id).prolongRequestLock(target, { lockSecs: 600 }),
    ]) {
      const err = await apiError(call());
      expect(err).toMatchObject({ statusCode: 403, type: 'request-handled-or-locked' });
      expect(err.message).toContain(target);
    }
    expect((await one.getRequest(target)) as unknown).toMatchObject({ lockByClient: 'crawler-one' });

    const prolonged = await one.prolongRequestLock(target, { lockSecs: 300 });
    expect(prolonged.lockExpiresAt).toBeInstanceOf(Date);
    expect(prolonged.lockExpiresAt.getTime()).toBeGreaterThan(Date.now() + 250_000);
    await one.deleteRequestLock(target, { forefront: true });
    expect((await one.listHead({ limit: 1 })).items[0].id).toBe(target);

    // Handled requests leave the head and count; the lock goes with them.
    for (const item of mine.items.slice(0, 10)) {
      await one.updateRequest({ ...(await one.getRequest(item.id))!, handledAt: new Date().toISOString() });
    }
    expect(await one.get()).toMatchObject({
      totalRequestCount: 65,
      handledRequestCount: 10,
      pendingRequestCount: 55,
    });

    expect(await two.unlockRequests()).toEqual({ unlockedCount: 25 });
    expect(await owner.requestQueue(id, { clientKey: 'nobody' }).unlockRequests()).toEqual({
      unlockedCount: 0,
    });
    expect((await one.listHead({ limit: 100 })).items).toHaveLength(55 - 15);

    const deleted = await one.batchDeleteRequests([
      { id: target },
      { uniqueKey: 'https://example.com/page/64' },
    ]);
    expect(deleted.processedRequests).toHaveLength(2);
    expect(deleted.unprocessedRequests).toEqual([]);
    expect(await one.get()).toMatchObject({
      totalRequestCount: 63,
      handledRequestCount: 9,
      pendingRequestCount: 54,
    });
  });

  it('pages through every request with listRequests and paginateRequests (cursor)', async () => {
    const owner = client(alice.accessToken);
    const { id } = await owner.requestQueues().getOrCreate(uniqueName('paged'));
    const rq = owner.requestQueue(id, { clientKey: 'pager' });
    await rq.batchAddRequests(requests(0, 45));

    const first = await rq.listRequests({ limit: 20 });
    expect(first.items).toHaveLength(20);
    expect(first.nextCursor).toEqual(expect.any(String));
    const next = await rq.listRequests({ limit: 20, cursor: first.nextCursor });
    expect(next.items[0].id > first.items[19].id).toBe(true);

    const pages: number[] = [];
    const seen = new Set<string>();
    for await (const page of rq.paginateRequests({ maxPageLimit: 10 })) {
      pages.push(page.items.length);
      for (const item of page.items) seen.add(item.id);
    }
    expect(pages).toEqual([10, 10, 10, 10, 5]);
    expect(seen.size).toBe(45);

    let iterated = 0;
    for await (const item of rq.listRequests({ limit: 30 })) {
      expect(item.url).toMatch(/^https:\/\/example\.com\/page\/\d+$/);
      iterated += 1;
    }
    expect(iterated).toBe(30);

    await rq.listAndLockHead({ lockSecs: 60, limit: 5 });
    const locked = await rq.listRequests({ filter: ['locked'] });
    expect(locked.items).toHaveLength(5);
    expect(
      locked.items.every((r) => (r as unknown as { lockByClient: string }).lockByClient === 'pager'),
    ).toBe(true);
  });

  it('two crawler clients draining one queue at once process every request exactly once', async () => {
    const owner = client(alice.accessToken);
    const { id } = await owner.requestQueues().getOrCreate(uniqueName('shared'));
    await owner.requestQueue(id).batchAddRequests(requests(0, 120));
    const processed: string[] = [];
    const crawl = async (clientKey: string) => {
      const rq = owner.requestQueue(id, { clientKey });
      for (;;) {
        const head = await rq.listAndLockHead({ lockSecs: 60, limit: 7 });
        if (head.items.length === 0 && !head.queueHasLockedRequests) return;
        await Promise.all(
          head.items.map(async (item) => {
            processed.push(item.uniqueKey);
            await rq.updateRequest({
              id: item.id,
              uniqueKey: item.uniqueKey,
              url: item.url,
              handledAt: new Date().toISOString(),
            });
          }),
        );
      }
    };
    await Promise.all(['crawler-a', 'crawler-b', 'crawler-c'].map(crawl));
    expect(processed).toHaveLength(120);
    expect(new Set(processed).size).toBe(120);
    expect(await owner.requestQueue(id).get()).toMatchObject({
      totalRequestCount: 120,
      handledRequestCount: 120,
      pendingRequestCount: 0,
      hadMultipleClients: true,
    });
  });

  it('needs WRITE to lock or batch; READ still lists the head', async () => {
    const owner = client(alice.accessToken);
    const { id } = await owner.requestQueues().getOrCreate(uniqueName('guarded'));
    await owner.requestQueue(id).batchAddRequests(requests(0, 3));
    // Alice's queues follow her account setting: anyone with the id can read.
    const reader = client(bob.accessToken).requestQueue(id, { clientKey: 'reader' });
    expect((await reader.listHead()).items).toHaveLength(3);
    for (const call of [
      () => reader.listAndLockHead({ lockSecs: 60 }),
      () =>
        reader.batchAddRequests(requests(10, 1), { maxUnprocessedRequestsRetries: 0 }).then((r) => {
          if (r.unprocessedRequests.length) throw r.unprocessedRequests;
        }),
      () => reader.batchDeleteRequests([{ uniqueKey: 'https://example.com/page/0' }]),
      () => reader.unlockRequests(),
    ]) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      // batchAddRequests reports a refused batch as unprocessed rather than throwing.
      if (err instanceof ApifyApiError)
        expect(err).toMatchObject({ statusCode: 403, type: 'insufficient-permissions' });
      else
        expect(err).toEqual([
          { url: 'https://example.com/page/10', uniqueKey: 'https://example.com/page/10' },
        ]);
    }
    const anonymous = await apiError(client().requestQueue(id).listAndLockHead({ lockSecs: 60 }));
    expect([401, 403]).toContain(anonymous.statusCode);
    expect((await owner.requestQueue(id).get())?.totalRequestCount).toBe(3);
  });

  it('refuses lockSecs out of range, a head lock over 25 and a batch over 25 with invalid-input naming the field', async () => {
    const owner = client(alice.accessToken);
    const { id } = await owner.requestQueues().getOrCreate(uniqueName('strict'));
    const rq = owner.requestQueue(id, { clientKey: 'strict' });
    await rq.batchAddRequests(requests(0, 2));
    for (const lockSecs of [0, -5, 86_401]) {
      const err = await apiError(rq.listAndLockHead({ lockSecs }));
      expect(err).toMatchObject({ statusCode: 400, type: 'invalid-input' });
      expect(err.message).toContain('query.lockSecs');
    }
    // Left out or not a number, it is named as such (the new-user pass got "received nan").
    for (const [query, says] of [
      ['', 'is required'],
      ['?lockSecs=abc', 'must be a number of seconds'],
    ]) {
      const res = await t
        .http()
        .post(`/v2/request-queues/${id}/head/lock${query}`)
        .set(alice.auth)
        .expect(400);
      expect(res.body.error.message).toContain('query.lockSecs');
      expect(res.body.error.message).toContain(says);
    }
    const overLimit = await apiError(rq.listAndLockHead({ lockSecs: 60, limit: 26 }));
    expect(overLimit.message).toContain('query.limit');
    const [{ id: requestId }] = (await rq.listHead()).items;
    const badProlong = await apiError(rq.prolongRequestLock(requestId, { lockSecs: 100_000 }));
    expect(badProlong.message).toContain('query.lockSecs');
    const badKey = await apiError(
      owner.requestQueue(id, { clientKey: 'k'.repeat(33) }).listAndLockHead({ lockSecs: 5 }),
    );
    expect(badKey.message).toContain('query.clientKey');

    // apify-client never sends more than 25 at once; a plain HTTP caller that does is refused whole.
    const res = await fetch(`${baseUrl}/v2/request-queues/${id}/requests/batch`, {
      method: 'POST',
      headers: { authorization: alice.auth.authorization, 'content-type': 'application/json' },
      body: JSON.stringify(requests(100, 26)),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid-input');
    expect(body.error.message).toContain('body');
    expect(body.error.message).toContain('25');
    expect((await rq.get())?.totalRequestCount).toBe(2);
    expect((await rq.listHead()).items).toHaveLength(2);
  });
});
