import { INestMicroservice } from '@nestjs/common';
import { MAX_BATCH_REQUESTS, RequestQueuesRpc } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { startServiceApp } from '@atrium/messaging';
import {
  ContractHarness,
  expectAppError,
  startContractHarness,
  TEST_AMQP_URL,
  testServiceConfig,
} from '@atrium/testing';
import { ResourcesModule } from '../src/resources.module';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Request-queue batches and locks with two resources replicas on one database (competing
 * consumers on the service's queue): what one replica locks, the other never hands out, and the
 * counts stay exact, because both live in PostgreSQL rows, not in a replica's memory.
 */
describe('request-queue batches and locks message contract (two replicas, RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  let second: INestMicroservice;
  const owner = newId();

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) => ResourcesModule.forRoot(testServiceConfig(url)));
    second = await startServiceApp(ResourcesModule.forRoot(testServiceConfig(h.db.url)), 'resources', {
      amqpUrl: TEST_AMQP_URL,
      logLevel: 'error',
    });
  });
  afterAll(async () => {
    await second.close();
    await h.close();
  });

  const request = (n: number | string) => ({
    uniqueKey: `https://example.com/${n}`,
    url: `https://example.com/${n}`,
  });
  const newQueue = async () =>
    (await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner })).queue.id;
  /** Adds `count` requests numbered from `from`, 25 a call. */
  async function fill(id: string, count: number, from = 0): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i += MAX_BATCH_REQUESTS) {
      const requests = Array.from({ length: Math.min(MAX_BATCH_REQUESTS, count - i) }, (_, j) =>
        request(from + i + j),
      );
      const { processedRequests } = await h.rpc.call(RequestQueuesRpc.batchAddRequests, { id, requests });
      ids.push(...processedRequests.map((p) => p.requestId));
    }
    return ids;
  }

  it('batch-adds up to 25 at once, de-duplicated against the queue and within the batch', async () => {
    const id = await newQueue();
    const first = await h.rpc.call(RequestQueuesRpc.batchAddRequests, {
      id,
      requests: [request(1), request(2), request(1)],
    });
    expect(first.unprocessedRequests).toEqual([]);
    expect(first.processedRequests).toEqual([
      {
        requestId: expect.any(String),
        uniqueKey: request(1).uniqueKey,
        wasAlreadyPresent: false,
        wasAlreadyHandled: false,
      },
      {
        requestId: expect.any(String),
        uniqueKey: request(2).uniqueKey,
        wasAlreadyPresent: false,
        wasAlreadyHandled: false,
      },
      {
        requestId: first.processedRequests[0].requestId,
        uniqueKey: request(1).uniqueKey,
        wasAlreadyPresent: true,
        wasAlreadyHandled: false,
      },
    ]);
    const again = await h.rpc.call(RequestQueuesRpc.batchAddRequests, {
      id,
      requests: [request(2), request(3)],
    });
    expect(again.processedRequests.map((p) => p.wasAlreadyPresent)).toEqual([true, false]);
    expect(await h.rpc.call(RequestQueuesRpc.get, { id })).toMatchObject({
      totalRequestCount: 3,
      handledRequestCount: 0,
      pendingRequestCount: 3,
    });

    // Over the limit, or one bad request: refused whole, naming the field; nothing added.
    const tooMany = Array.from({ length: 26 }, (_, i) => request(`x${i}`));
    const err = await expectAppError(
      h.rpc.call(RequestQueuesRpc.batchAddRequests, { id, requests: tooMany }),
      'invalid-input',
    );
    expect(err.message).toContain('requests');
    const bad = await expectAppError(
      h.rpc.call(RequestQueuesRpc.batchAddRequests, {
        id,
        requests: [request('ok'), { uniqueKey: 'x', url: 'not a url' }],
      }),
      'invalid-input',
    );
    expect(bad.message).toContain('requests.1.url');
    expect((await h.rpc.call(RequestQueuesRpc.get, { id })).totalRequestCount).toBe(3);
  });

  it('batch-deletes by id or uniqueKey, counting exactly; an absent one counts as deleted', async () => {
    const id = await newQueue();
    const [a, b] = await fill(id, 3);
    await h.rpc.call(RequestQueuesRpc.updateRequest, {
      id,
      requestId: b,
      request: { ...request(1), handledAt: new Date().toISOString() },
    });
    const result = await h.rpc.call(RequestQueuesRpc.batchDeleteRequests, {
      id,
      requests: [{ id: a }, { uniqueKey: request(1).uniqueKey }, { uniqueKey: 'https://example.com/none' }],
    });
    expect(result).toEqual({
      processedRequests: [
        { id: a, uniqueKey: request(0).uniqueKey },
        { id: b, uniqueKey: request(1).uniqueKey },
        { uniqueKey: 'https://example.com/none' },
      ],
      unprocessedRequests: [],
    });
    expect(await h.rpc.call(RequestQueuesRpc.get, { id })).toMatchObject({
      totalRequestCount: 1,
      handledRequestCount: 0,
      pendingRequestCount: 1,
    });
  });

  it('8 concurrent listAndLockHead calls over 200 requests on two replicas hand out each request exactly once', async () => {
    const id = await newQueue();
    const added = await fill(id, 200);
    const clients = Array.from({ length: 8 }, (_, i) => `crawler-${i}`);
    const heads = await Promise.all(
      clients.map((clientKey) =>
        h.rpc.call(RequestQueuesRpc.lockHead, { id, limit: 25, lockSecs: 60, client: { clientKey } }),
      ),
    );
    const got = heads.flatMap((head) => head.items.map((item) => item.id));
    expect(got).toHaveLength(200);
    expect(new Set(got).size).toBe(200);
    expect(new Set(got)).toEqual(new Set(added));
    for (const [i, head] of heads.entries()) {
      expect(head).toMatchObject({
        limit: 25,
        lockSecs: 60,
        clientKey: clients[i],
        queueHasLockedRequests: true,
      });
      for (const item of head.items)
        expect(Date.parse(item.lockExpiresAt)).toBeGreaterThan(Date.now() + 50_000);
    }

    // Everything is held: no one gets more, the plain head is empty, and the queue says why.
    const late = await h.rpc.call(RequestQueuesRpc.lockHead, {
      id,
      lockSecs: 60,
      client: { clientKey: 'late' },
    });
    expect(late).toMatchObject({ items: [], queueHasLockedRequests: true, hadMultipleClients: true });
    expect((await h.rpc.call(RequestQueuesRpc.head, { id })).items).toEqual([]);
    const locked = await h.rpc.call(RequestQueuesRpc.listRequests, { id, filter: ['locked'], limit: 1000 });
    expect(locked.count).toBe(200);
    expect(locked.items[0]).toMatchObject({
      lockExpiresAt: expect.any(String),
      lockByClient: expect.any(String),
    });

    // Each client marks its own handled, one after another, the 8 clients at once: exact counts.
    await Promise.all(
      heads.map(async (head) => {
        for (const item of head.items) {
          await h.rpc.call(RequestQueuesRpc.updateRequest, {
            id,
            requestId: item.id,
            request: { uniqueKey: item.uniqueKey, url: item.url, handledAt: new Date().toISOString() },
            client: { clientKey: head.clientKey },
          });
        }
      }),
    );
    expect(await h.rpc.call(RequestQueuesRpc.get, { id })).toMatchObject({
      totalRequestCount: 200,
      handledRequestCount: 200,
      pendingRequestCount: 0,
    });
    const done = await h.rpc.call(RequestQueuesRpc.lockHead, {
      id,
      lockSecs: 60,
      client: { clientKey: 'late' },
    });
    expect(done).toMatchObject({ items: [], queueHasLockedRequests: false });
  });

  it('keeps counts exact when clients on both replicas add overlapping batches at once', async () => {
    const id = await newQueue();
    // 8 clients, each adding 50 of the same 100 uniqueKeys (two batches), all at once.
    await Promise.all(
      Array.from({ length: 8 }, (_, c) =>
        Promise.all(
          [0, 25].map((offset) =>
            h.rpc.call(RequestQueuesRpc.batchAddRequests, {
              id,
              requests: Array.from({ length: 25 }, (_, j) => request(((c * 13 + offset + j) % 100) + 1000)),
              client: { clientKey: `adder-${c}` },
            }),
          ),
        ),
      ),
    );
    const listed = await h.rpc.call(RequestQueuesRpc.listRequests, { id, limit: 1000 });
    const queue = await h.rpc.call(RequestQueuesRpc.get, { id });
    expect(queue.totalRequestCount).toBe(listed.count);
    expect(new Set(listed.items.map((r) => r.uniqueKey)).size).toBe(listed.count);
    expect(queue).toMatchObject({ pendingRequestCount: listed.count, hadMultipleClients: true });
  });

  it('lets only the holder (by clientKey or run) prolong or delete a lock; others get request-handled-or-locked', async () => {
    const id = await newQueue();
    const [first, secondId] = await fill(id, 3);
    const run = newId();
    const mine = await h.rpc.call(RequestQueuesRpc.lockHead, {
      id,
      limit: 2,
      lockSecs: 30,
      client: { clientKey: 'a', runId: run },
    });
    expect(mine.items.map((i) => i.id)).toEqual([first, secondId]);

    for (const client of [{ clientKey: 'b' }, {}]) {
      const prolong = await expectAppError(
        h.rpc.call(RequestQueuesRpc.prolongRequestLock, { id, requestId: first, lockSecs: 60, client }),
        'request-handled-or-locked',
      );
      expect(prolong.message).toContain(first);
      expect(prolong.message).toContain('locked by another client');
      const drop = await expectAppError(
        h.rpc.call(RequestQueuesRpc.deleteRequestLock, { id, requestId: first, client }),
        'request-handled-or-locked',
      );
      expect(drop.message).toContain(first);
    }
    // Refused calls changed nothing: the lock is a's as it was.
    const held = await h.rpc.call(RequestQueuesRpc.getRequest, { id, requestId: first });
    expect(held).toMatchObject({ lockByClient: 'a', lockExpiresAt: mine.items[0].lockExpiresAt });

    // The holder by key, and the run that took it whatever key it sends now.
    const prolonged = await h.rpc.call(RequestQueuesRpc.prolongRequestLock, {
      id,
      requestId: first,
      lockSecs: 120,
      client: { clientKey: 'a' },
    });
    expect(Date.parse(prolonged.lockExpiresAt)).toBeGreaterThan(Date.now() + 100_000);
    await h.rpc.call(RequestQueuesRpc.prolongRequestLock, {
      id,
      requestId: secondId,
      lockSecs: 5,
      client: { clientKey: 'other-key', runId: run },
    });
    await h.rpc.call(RequestQueuesRpc.deleteRequestLock, {
      id,
      requestId: first,
      forefront: true,
      client: { runId: run },
    });
    // Dropped with forefront: first in the head again, and anyone may lock it.
    expect((await h.rpc.call(RequestQueuesRpc.head, { id })).items.map((i) => i.id)).toEqual([
      first,
      expect.any(String),
    ]);
    expect(
      (await h.rpc.call(RequestQueuesRpc.getRequest, { id, requestId: first })).lockExpiresAt,
    ).toBeUndefined();

    // Unknown request: 404; handled: refused with the same Apify type.
    await expectAppError(
      h.rpc.call(RequestQueuesRpc.prolongRequestLock, {
        id,
        requestId: newId(),
        lockSecs: 5,
        client: { clientKey: 'a' },
      }),
      'record-not-found',
    );
    await h.rpc.call(RequestQueuesRpc.updateRequest, {
      id,
      requestId: secondId,
      request: { ...request(1), handledAt: new Date().toISOString() },
      client: { clientKey: 'a' },
    });
    const handled = await expectAppError(
      h.rpc.call(RequestQueuesRpc.prolongRequestLock, {
        id,
        requestId: secondId,
        lockSecs: 5,
        client: { runId: run },
      }),
      'request-handled-or-locked',
    );
    expect(handled.message).toContain('already been handled');
  });

  it('refuses lockSecs out of range and a head lock over 25, naming the field', async () => {
    const id = await newQueue();
    for (const lockSecs of [0, -1, 86_401]) {
      const err = await expectAppError(
        h.rpc.call(RequestQueuesRpc.lockHead, { id, lockSecs }),
        'invalid-input',
      );
      expect(err.message).toContain('lockSecs');
    }
    const err = await expectAppError(
      h.rpc.call(RequestQueuesRpc.lockHead, { id, lockSecs: 5, limit: 26 }),
      'invalid-input',
    );
    expect(err.message).toContain('limit');
  });

  it('lets a lock expire by the database clock: then another client gets the request', async () => {
    const id = await newQueue();
    const [only] = await fill(id, 1);
    const a = await h.rpc.call(RequestQueuesRpc.lockHead, { id, lockSecs: 0.5, client: { clientKey: 'a' } });
    expect(a.items.map((i) => i.id)).toEqual([only]);
    expect(
      (await h.rpc.call(RequestQueuesRpc.lockHead, { id, lockSecs: 60, client: { clientKey: 'b' } })).items,
    ).toEqual([]);
    await sleep(700);
    expect((await h.rpc.call(RequestQueuesRpc.head, { id })).items.map((i) => i.id)).toEqual([only]);
    const b = await h.rpc.call(RequestQueuesRpc.lockHead, { id, lockSecs: 60, client: { clientKey: 'b' } });
    expect(b.items.map((i) => i.id)).toEqual([only]);
    // a's lock is gone: prolonging now is refused, b holds it.
    await expectAppError(
      h.rpc.call(RequestQueuesRpc.prolongRequestLock, {
        id,
        requestId: only,
        lockSecs: 60,
        client: { clientKey: 'a' },
      }),
      'request-handled-or-locked',
    );
  });

  it('unlocks every lock a client holds, and only those', async () => {
    const id = await newQueue();
    await fill(id, 10);
    await h.rpc.call(RequestQueuesRpc.lockHead, { id, limit: 4, lockSecs: 60, client: { clientKey: 'a' } });
    await h.rpc.call(RequestQueuesRpc.lockHead, { id, limit: 3, lockSecs: 60, client: { clientKey: 'b' } });
    expect(await h.rpc.call(RequestQueuesRpc.unlockRequests, { id, client: { clientKey: 'a' } })).toEqual({
      unlockedCount: 4,
    });
    expect(await h.rpc.call(RequestQueuesRpc.unlockRequests, { id, client: {} })).toEqual({
      unlockedCount: 0,
    });
    expect((await h.rpc.call(RequestQueuesRpc.head, { id })).items).toHaveLength(7);
    const locked = await h.rpc.call(RequestQueuesRpc.listRequests, { id, filter: ['locked'] });
    expect(locked.items.map((r) => r.lockByClient)).toEqual(['b', 'b', 'b']);
    const pending = await h.rpc.call(RequestQueuesRpc.listRequests, { id, filter: ['pending', 'locked'] });
    expect(pending.count).toBe(10);
  });

  it('tells one client from many: hadMultipleClients', async () => {
    const id = await newQueue();
    await h.rpc.call(RequestQueuesRpc.batchAddRequests, {
      id,
      requests: [request(1)],
      client: { clientKey: 'solo' },
    });
    await h.rpc.call(RequestQueuesRpc.lockHead, { id, lockSecs: 5, client: { clientKey: 'solo' } });
    expect((await h.rpc.call(RequestQueuesRpc.get, { id })).hadMultipleClients).toBe(false);
    await h.rpc.call(RequestQueuesRpc.lockHead, { id, lockSecs: 5, client: { clientKey: 'another' } });
    expect((await h.rpc.call(RequestQueuesRpc.get, { id })).hadMultipleClients).toBe(true);
    expect((await h.rpc.call(RequestQueuesRpc.head, { id })).hadMultipleClients).toBe(true);
  });
});
