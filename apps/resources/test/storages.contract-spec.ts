import {
  EventEnvelope,
  Events,
  KeyValueStoresRpc,
  RequestQueuesRpc,
  ResourcesRpc,
  RpcRoute,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import {
  ContractHarness,
  eventually,
  expectAppError,
  recordEvents,
  startContractHarness,
  testServiceConfig,
} from '@atrium/testing';
import { DataSource } from 'typeorm';
import { KeyValueStoresService } from '../src/key-value-stores/key-value-stores.service';
import { RequestQueuesService } from '../src/request-queues/request-queues.service';
import { ResourcesModule } from '../src/resources.module';

const b64 = (s: string | Buffer) => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8')).toString('base64');

describe('key-value stores and request queues message contract (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const received: EventEnvelope[] = [];
  const owner = newId();
  const page = { offset: 0, limit: 100, desc: false };

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) => ResourcesModule.forRoot(testServiceConfig(url)));
    await recordEvents(
      h,
      'storages',
      [Events.resourceCreated.name, Events.resourceUpdated.name, Events.resourceDeleted.name],
      received,
    );
  });
  afterAll(() => h.close());

  /** The call fails with invalid-input whose message names `field`. */
  async function expectInvalid(route: RpcRoute, payload: unknown, field: string): Promise<void> {
    const err = await expectAppError(h.rpc.call(route, payload as never), 'invalid-input');
    expect(err.message).toContain(field);
  }

  describe('key-value stores', () => {
    it('creates (get-or-create by name), publishes resource.created, updates and deletes', async () => {
      const first = await h.rpc.call(KeyValueStoresRpc.create, {
        ownerId: owner,
        name: 'kv-alpha',
        createdBy: owner,
      });
      expect(first.created).toBe(true);
      expect(first.store).toMatchObject({
        name: 'kv-alpha',
        userId: owner,
        generalAccess: 'FOLLOW_USER_SETTING',
        stats: { recordCount: 0, storageBytes: 0 },
      });
      expect(first.store.id).toMatch(/^[A-Za-z0-9]{17}$/);
      expect(first.store.urlSigningSecretKey).toHaveLength(32);
      const again = await h.rpc.call(KeyValueStoresRpc.create, {
        ownerId: owner,
        name: 'kv-alpha',
        createdBy: owner,
      });
      expect(again).toMatchObject({ created: false, store: { id: first.store.id } });
      await eventually(async () =>
        expect(received).toContainEqual(
          expect.objectContaining({
            name: 'resource.created',
            payload: expect.objectContaining({
              id: first.store.id,
              type: 'KEY_VALUE_STORE',
              ownerId: owner,
              name: 'kv-alpha',
            }),
          }),
        ),
      );

      const { store } = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: owner, createdBy: owner });
      expect(store.name).toBeNull();
      const updated = await h.rpc.call(KeyValueStoresRpc.update, {
        id: store.id,
        changes: { name: 'kv-beta', generalAccess: 'ANYONE_WITH_NAME_CAN_READ' },
      });
      expect(updated).toMatchObject({ name: 'kv-beta', generalAccess: 'ANYONE_WITH_NAME_CAN_READ' });
      await expectAppError(
        h.rpc.call(KeyValueStoresRpc.update, { id: store.id, changes: { name: 'kv-alpha' } }),
        'conflict',
      );
      await h.rpc.call(KeyValueStoresRpc.delete, { id: store.id });
      await expectAppError(h.rpc.call(KeyValueStoresRpc.get, { id: store.id }), 'record-not-found');
      await expectAppError(h.rpc.call(KeyValueStoresRpc.delete, { id: store.id }), 'record-not-found');
      await eventually(async () =>
        expect(received).toContainEqual(
          expect.objectContaining({
            name: 'resource.deleted',
            payload: expect.objectContaining({ id: store.id, type: 'KEY_VALUE_STORE' }),
          }),
        ),
      );
    });

    it('does not take another type for a store', async () => {
      const { queue } = await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner });
      await expectAppError(h.rpc.call(KeyValueStoresRpc.get, { id: queue.id }), 'record-not-found');
      await expectAppError(
        h.rpc.call(KeyValueStoresRpc.setRecord, {
          id: queue.id,
          key: 'x',
          contentType: 'text/plain',
          value: b64('x'),
        }),
        'record-not-found',
      );
    });

    it('lists by owner (named unless asked) and by ids in the given order', async () => {
      const other = newId();
      const a = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: other, name: 'one', createdBy: other });
      const b = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: other, createdBy: other });
      const named = await h.rpc.call(KeyValueStoresRpc.list, { ownerId: other, page });
      expect(named.items.map((s) => s.id)).toEqual([a.store.id]);
      const all = await h.rpc.call(KeyValueStoresRpc.list, {
        ownerId: other,
        unnamed: true,
        page: { ...page, desc: true },
      });
      expect(all).toMatchObject({ total: 2, count: 2, desc: true });
      expect(all.items.map((s) => s.id)).toEqual([b.store.id, a.store.id]);
      const byIds = await h.rpc.call(KeyValueStoresRpc.list, { ids: [b.store.id, a.store.id], page });
      expect(byIds.items.map((s) => s.id)).toEqual([b.store.id, a.store.id]);
      await expectAppError(h.rpc.call(KeyValueStoresRpc.list, { page } as never), 'invalid-input');
    });

    it("moves its change version with every change of a store's view, and only then", async () => {
      const version = async () => (await h.rpc.call(ResourcesRpc.changeVersion, {})).version;
      const { store } = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: owner, createdBy: owner });
      const created = await version();
      await h.rpc.call(KeyValueStoresRpc.get, { id: store.id });
      await h.rpc.call(KeyValueStoresRpc.list, { ids: [store.id], page });
      expect(await version()).toBe(created);
      // A record changes the store's view (its count and size).
      await h.rpc.call(KeyValueStoresRpc.setRecord, {
        id: store.id,
        key: 'OUTPUT',
        contentType: 'text/plain',
        value: b64('v'),
      });
      const recorded = await version();
      expect(recorded).not.toBe(created);
      await h.rpc.call(KeyValueStoresRpc.update, {
        id: store.id,
        changes: { name: `kv-${newId()}`.toLowerCase() },
      });
      expect(await version()).not.toBe(recorded);
    });

    it('stores records of any content type and returns the exact bytes', async () => {
      const { store } = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: owner, createdBy: owner });
      const binary = Buffer.from([0, 255, 1, 254, 0x89, 0x50, 0x4e, 0x47, 0]);
      await h.rpc.call(KeyValueStoresRpc.setRecord, {
        id: store.id,
        key: 'OUTPUT',
        contentType: 'application/json; charset=utf-8',
        value: b64('{"a":1}'),
      });
      await h.rpc.call(KeyValueStoresRpc.setRecord, {
        id: store.id,
        key: 'note.txt',
        contentType: 'text/plain',
        value: b64('héllo'),
      });
      expect(
        await h.rpc.call(KeyValueStoresRpc.setRecord, {
          id: store.id,
          key: 'img',
          contentType: 'image/png',
          value: b64(binary),
        }),
      ).toEqual({ key: 'img', size: binary.length });
      await h.rpc.call(KeyValueStoresRpc.setRecord, {
        id: store.id,
        key: 'empty',
        contentType: 'application/octet-stream',
        value: '',
      });

      const img = await h.rpc.call(KeyValueStoresRpc.getRecord, { id: store.id, key: 'img' });
      expect(img).toMatchObject({ key: 'img', contentType: 'image/png', size: binary.length });
      expect(Buffer.from(img.value, 'base64').equals(binary)).toBe(true);
      const text = await h.rpc.call(KeyValueStoresRpc.getRecord, { id: store.id, key: 'note.txt' });
      expect(Buffer.from(text.value, 'base64').toString('utf8')).toBe('héllo');
      expect(text.size).toBe(6);
      expect(await h.rpc.call(KeyValueStoresRpc.getRecord, { id: store.id, key: 'empty' })).toMatchObject({
        size: 0,
        value: '',
      });

      // Replacing a record changes its value, type and the store's totals.
      await h.rpc.call(KeyValueStoresRpc.setRecord, {
        id: store.id,
        key: 'OUTPUT',
        contentType: 'text/csv',
        value: b64('a,b\n1,2\n'),
      });
      expect(await h.rpc.call(KeyValueStoresRpc.getRecord, { id: store.id, key: 'OUTPUT' })).toMatchObject({
        contentType: 'text/csv',
        size: 8,
      });
      expect((await h.rpc.call(KeyValueStoresRpc.get, { id: store.id })).stats).toEqual({
        recordCount: 4,
        storageBytes: 8 + 6 + binary.length,
      });

      await h.rpc.call(KeyValueStoresRpc.deleteRecord, { id: store.id, key: 'img' });
      await expectAppError(
        h.rpc.call(KeyValueStoresRpc.getRecord, { id: store.id, key: 'img' }),
        'record-not-found',
      );
      await expectAppError(
        h.rpc.call(KeyValueStoresRpc.deleteRecord, { id: store.id, key: 'img' }),
        'record-not-found',
      );
      expect((await h.rpc.call(KeyValueStoresRpc.get, { id: store.id })).stats).toEqual({
        recordCount: 3,
        storageBytes: 14,
      });
      await expectAppError(
        h.rpc.call(KeyValueStoresRpc.getRecord, { id: newId(), key: 'OUTPUT' }),
        'record-not-found',
      );

      // Deleting the store takes its records with it.
      await h.rpc.call(KeyValueStoresRpc.delete, { id: store.id });
      await expectAppError(
        h.rpc.call(KeyValueStoresRpc.getRecord, { id: store.id, key: 'OUTPUT' }),
        'record-not-found',
      );
    });

    it('lists keys in byte order with limit, exclusiveStartKey and a literal prefix', async () => {
      const { store } = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: owner, createdBy: owner });
      const keys = ['b', 'a_2', 'A', 'a_1', 'ax', "a'(1)", 'c!'];
      for (const key of keys) {
        await h.rpc.call(KeyValueStoresRpc.setRecord, {
          id: store.id,
          key,
          contentType: 'text/plain',
          value: b64(key),
        });
      }
      const sorted = [...keys].sort();
      const all = await h.rpc.call(KeyValueStoresRpc.listKeys, { id: store.id });
      expect(all).toMatchObject({
        count: 7,
        limit: 1000,
        isTruncated: false,
        exclusiveStartKey: null,
        nextExclusiveStartKey: null,
      });
      expect(all.items.map((i) => i.key)).toEqual(sorted);
      expect(all.items[0]).toEqual({ key: 'A', size: 1 });

      const first = await h.rpc.call(KeyValueStoresRpc.listKeys, { id: store.id, limit: 3 });
      expect(first).toMatchObject({
        count: 3,
        limit: 3,
        isTruncated: true,
        nextExclusiveStartKey: sorted[2],
      });
      const second = await h.rpc.call(KeyValueStoresRpc.listKeys, {
        id: store.id,
        limit: 3,
        exclusiveStartKey: sorted[2],
      });
      expect(second.items.map((i) => i.key)).toEqual(sorted.slice(3, 6));
      expect(second).toMatchObject({ exclusiveStartKey: sorted[2], isTruncated: true });
      const last = await h.rpc.call(KeyValueStoresRpc.listKeys, {
        id: store.id,
        limit: 3,
        exclusiveStartKey: sorted[5],
      });
      expect(last).toMatchObject({ count: 1, isTruncated: false, nextExclusiveStartKey: null });

      // "_" and "%" in a prefix are literal, not LIKE wildcards.
      const prefixed = await h.rpc.call(KeyValueStoresRpc.listKeys, { id: store.id, prefix: 'a_' });
      expect(prefixed.items.map((i) => i.key)).toEqual(['a_1', 'a_2']);
      expect((await h.rpc.call(KeyValueStoresRpc.listKeys, { id: store.id, prefix: '%' })).count).toBe(0);
      const page2 = await h.rpc.call(KeyValueStoresRpc.listKeys, {
        id: store.id,
        prefix: 'a',
        limit: 1,
        exclusiveStartKey: "a'(1)",
      });
      expect(page2.items.map((i) => i.key)).toEqual(['a_1']);
    });

    it('refuses invalid payloads, naming the field', async () => {
      const { store } = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: owner, createdBy: owner });
      const record = { id: store.id, key: 'ok', contentType: 'text/plain', value: b64('x') };
      await expectInvalid(KeyValueStoresRpc.setRecord, { ...record, key: 'k'.repeat(257) }, 'payload.key');
      await expectInvalid(KeyValueStoresRpc.setRecord, { ...record, key: 'a/b' }, 'payload.key');
      await expectInvalid(KeyValueStoresRpc.setRecord, { ...record, key: '' }, 'payload.key');
      await expectInvalid(
        KeyValueStoresRpc.setRecord,
        { ...record, contentType: 'not a type' },
        'payload.contentType',
      );
      await expectInvalid(KeyValueStoresRpc.setRecord, { ...record, value: 'not base64!' }, 'payload.value');
      await expectInvalid(KeyValueStoresRpc.setRecord, { ...record, extra: 1, key: '' }, 'payload.key');
      await expectInvalid(KeyValueStoresRpc.setRecord, { ...record, id: 'short' }, 'payload.id');
      await expectInvalid(KeyValueStoresRpc.getRecord, { id: store.id, key: 'x'.repeat(300) }, 'payload.key');
      await expectInvalid(KeyValueStoresRpc.deleteRecord, { id: store.id }, 'payload.key');
      await expectInvalid(KeyValueStoresRpc.listKeys, { id: store.id, limit: 0 }, 'payload.limit');
      await expectInvalid(KeyValueStoresRpc.listKeys, { id: store.id, limit: 1001 }, 'payload.limit');
      await expectInvalid(
        KeyValueStoresRpc.listKeys,
        { id: store.id, exclusiveStartKey: 'a b' },
        'payload.exclusiveStartKey',
      );
      await expectInvalid(
        KeyValueStoresRpc.listKeys,
        { id: store.id, prefix: 'p'.repeat(257) },
        'payload.prefix',
      );
      await expectInvalid(
        KeyValueStoresRpc.create,
        { ownerId: owner, name: 'bad name', createdBy: owner },
        'payload.name',
      );
      await expectInvalid(
        KeyValueStoresRpc.update,
        { id: store.id, changes: { generalAccess: 'PUBLIC' } },
        'payload.changes.generalAccess',
      );
      // Fields this release does not know (a later release's) are ignored, not refused (README,
      // "Rolling upgrades"): the store gets no title, and a delete with an unknown flag is a delete.
      expect(
        await h.rpc.call(KeyValueStoresRpc.update, { id: store.id, changes: { title: 'x' } } as never),
      ).not.toHaveProperty('title');
      await expectInvalid(KeyValueStoresRpc.get, {}, 'payload.id');
      await expectInvalid(KeyValueStoresRpc.delete, { id: 'short', force: true }, 'payload.id');
    });

    it('creates a store and its records inside a caller transaction (a run’s default store and INPUT)', async () => {
      const service = h.app.get(KeyValueStoresService);
      const dataSource = h.app.get(DataSource);
      const row = await dataSource.transaction(async (manager) => {
        const created = await service.createIn(manager, { ownerId: owner, createdBy: owner, runId: newId() });
        await service.setRecordIn(
          manager,
          created.resource.id,
          'INPUT',
          Buffer.from('{"x":1}'),
          'application/json',
        );
        return created;
      });
      const input = await h.rpc.call(KeyValueStoresRpc.getRecord, { id: row.resource.id, key: 'INPUT' });
      expect(Buffer.from(input.value, 'base64').toString()).toBe('{"x":1}');
      expect((await h.rpc.call(KeyValueStoresRpc.get, { id: row.resource.id })).actRunId).toBe(
        row.resource.runId,
      );

      // A rolled-back transaction leaves nothing behind.
      let rolledBack = '';
      await expect(
        dataSource.transaction(async (manager) => {
          rolledBack = (await service.createIn(manager, { ownerId: owner, createdBy: owner })).resource.id;
          await service.setRecordIn(manager, rolledBack, 'INPUT', Buffer.from('x'), 'text/plain');
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      await expectAppError(h.rpc.call(KeyValueStoresRpc.get, { id: rolledBack }), 'record-not-found');
    });
  });

  describe('request queues', () => {
    const request = (n: number | string, extra: Record<string, unknown> = {}) => ({
      uniqueKey: `https://example.com/${n}`,
      url: `https://example.com/${n}`,
      ...extra,
    });

    it('creates (get-or-create by name), updates, lists and deletes queues', async () => {
      const first = await h.rpc.call(RequestQueuesRpc.create, {
        ownerId: owner,
        name: 'rq-alpha',
        createdBy: owner,
      });
      expect(first).toMatchObject({
        created: true,
        queue: {
          name: 'rq-alpha',
          userId: owner,
          totalRequestCount: 0,
          handledRequestCount: 0,
          pendingRequestCount: 0,
          hadMultipleClients: false,
        },
      });
      expect(
        (await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, name: 'rq-alpha', createdBy: owner }))
          .queue.id,
      ).toBe(first.queue.id);
      await eventually(async () =>
        expect(received).toContainEqual(
          expect.objectContaining({
            name: 'resource.created',
            payload: expect.objectContaining({ id: first.queue.id, type: 'REQUEST_QUEUE' }),
          }),
        ),
      );
      const updated = await h.rpc.call(RequestQueuesRpc.update, {
        id: first.queue.id,
        changes: { generalAccess: 'RESTRICTED' },
      });
      expect(updated.generalAccess).toBe('RESTRICTED');

      const other = newId();
      const a = await h.rpc.call(RequestQueuesRpc.create, { ownerId: other, name: 'q', createdBy: other });
      const b = await h.rpc.call(RequestQueuesRpc.create, { ownerId: other, createdBy: other });
      expect(
        (await h.rpc.call(RequestQueuesRpc.list, { ownerId: other, page })).items.map((q) => q.id),
      ).toEqual([a.queue.id]);
      const byIds = await h.rpc.call(RequestQueuesRpc.list, { ids: [b.queue.id, a.queue.id], page });
      expect(byIds.items.map((q) => q.id)).toEqual([b.queue.id, a.queue.id]);

      await h.rpc.call(RequestQueuesRpc.addRequest, { id: b.queue.id, request: request(1) });
      await h.rpc.call(RequestQueuesRpc.delete, { id: b.queue.id });
      await expectAppError(h.rpc.call(RequestQueuesRpc.get, { id: b.queue.id }), 'record-not-found');
    });

    it('de-duplicates by uniqueKey and keeps the counts', async () => {
      const { queue } = await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner });
      const added = await h.rpc.call(RequestQueuesRpc.addRequest, {
        id: queue.id,
        request: request('dedupe', {
          userData: { label: 'START' },
          method: 'POST',
          payload: 'a=1',
          headers: { 'x-a': '1' },
        }),
      });
      expect(added).toEqual({
        requestId: expect.stringMatching(/^[A-Za-z0-9]{17}$/),
        wasAlreadyPresent: false,
        wasAlreadyHandled: false,
      });
      const dup = await h.rpc.call(RequestQueuesRpc.addRequest, {
        id: queue.id,
        request: { uniqueKey: 'https://example.com/dedupe', url: 'https://example.com/other' },
      });
      expect(dup).toEqual({ requestId: added.requestId, wasAlreadyPresent: true, wasAlreadyHandled: false });
      expect(
        await h.rpc.call(RequestQueuesRpc.getRequest, { id: queue.id, requestId: added.requestId }),
      ).toEqual({
        id: added.requestId,
        uniqueKey: 'https://example.com/dedupe',
        url: 'https://example.com/dedupe',
        method: 'POST',
        payload: 'a=1',
        headers: { 'x-a': '1' },
        userData: { label: 'START' },
        retryCount: 0,
        noRetry: false,
        errorMessages: [],
      });
      // A long uniqueKey (beyond a B-tree entry) de-duplicates too.
      const long = `https://example.com/?q=${'é'.repeat(3000)}`;
      const l1 = await h.rpc.call(RequestQueuesRpc.addRequest, {
        id: queue.id,
        request: { uniqueKey: long, url: 'https://example.com/long' },
      });
      const l2 = await h.rpc.call(RequestQueuesRpc.addRequest, {
        id: queue.id,
        request: { uniqueKey: long, url: 'https://example.com/long' },
      });
      expect(l2).toMatchObject({ requestId: l1.requestId, wasAlreadyPresent: true });
      expect(await h.rpc.call(RequestQueuesRpc.get, { id: queue.id })).toMatchObject({
        totalRequestCount: 2,
        handledRequestCount: 0,
        pendingRequestCount: 2,
      });

      // Concurrent adds of one uniqueKey create it once.
      const racing = await Promise.all(
        Array.from({ length: 8 }, () =>
          h.rpc.call(RequestQueuesRpc.addRequest, { id: queue.id, request: request('race') }),
        ),
      );
      expect(new Set(racing.map((r) => r.requestId)).size).toBe(1);
      expect(racing.filter((r) => !r.wasAlreadyPresent)).toHaveLength(1);
    });

    it('serves the head in order (forefront first), without handled requests', async () => {
      const { queue } = await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner });
      const ids: Record<string, string> = {};
      for (const n of ['1', '2', '3'])
        ids[n] = (
          await h.rpc.call(RequestQueuesRpc.addRequest, { id: queue.id, request: request(n) })
        ).requestId;
      ids.f1 = (
        await h.rpc.call(RequestQueuesRpc.addRequest, {
          id: queue.id,
          request: request('f1'),
          forefront: true,
        })
      ).requestId;
      ids.f2 = (
        await h.rpc.call(RequestQueuesRpc.addRequest, {
          id: queue.id,
          request: request('f2'),
          forefront: true,
        })
      ).requestId;
      ids.h = (
        await h.rpc.call(RequestQueuesRpc.addRequest, {
          id: queue.id,
          request: request('h', { handledAt: new Date().toISOString() }),
        })
      ).requestId;

      const head = await h.rpc.call(RequestQueuesRpc.head, { id: queue.id });
      // Adds without a clientKey come from a new client each (Apify): several clients.
      expect(head).toMatchObject({ limit: 100, hadMultipleClients: true });
      expect(head.queueModifiedAt).toEqual(expect.any(String));
      expect(head.items.map((i) => i.id)).toEqual([ids.f2, ids.f1, ids['1'], ids['2'], ids['3']]);
      expect(head.items[0]).toEqual({
        id: ids.f2,
        retryCount: 0,
        uniqueKey: 'https://example.com/f2',
        url: 'https://example.com/f2',
        method: 'GET',
      });
      expect(
        (await h.rpc.call(RequestQueuesRpc.head, { id: queue.id, limit: 2 })).items.map((i) => i.id),
      ).toEqual([ids.f2, ids.f1]);

      // Handling takes a request out of the head; reclaiming puts it at the back, or with forefront at the front.
      const handledAt = new Date().toISOString();
      const done = await h.rpc.call(RequestQueuesRpc.updateRequest, {
        id: queue.id,
        requestId: ids.f2,
        request: { ...request('f2'), id: ids.f2, handledAt },
      });
      expect(done).toEqual({ requestId: ids.f2, wasAlreadyPresent: true, wasAlreadyHandled: false });
      await h.rpc.call(RequestQueuesRpc.updateRequest, {
        id: queue.id,
        requestId: ids.f1,
        request: { ...request('f1'), retryCount: 1 },
      });
      await h.rpc.call(RequestQueuesRpc.updateRequest, {
        id: queue.id,
        requestId: ids['3'],
        request: { ...request('3'), userData: { again: true } },
        forefront: true,
      });
      expect((await h.rpc.call(RequestQueuesRpc.head, { id: queue.id })).items.map((i) => i.id)).toEqual([
        ids['3'],
        ids['1'],
        ids['2'],
        ids.f1,
      ]);
      const handled = await h.rpc.call(RequestQueuesRpc.getRequest, { id: queue.id, requestId: ids.f2 });
      expect(new Date(handled.handledAt ?? 0).toISOString()).toBe(handledAt);
      expect(await h.rpc.call(RequestQueuesRpc.get, { id: queue.id })).toMatchObject({
        totalRequestCount: 6,
        handledRequestCount: 2,
        pendingRequestCount: 4,
      });

      // Un-handling brings it back; deleting drops it from the counts.
      const undone = await h.rpc.call(RequestQueuesRpc.updateRequest, {
        id: queue.id,
        requestId: ids.f2,
        request: request('f2'),
      });
      expect(undone.wasAlreadyHandled).toBe(true);
      await h.rpc.call(RequestQueuesRpc.deleteRequest, { id: queue.id, requestId: ids.h });
      await h.rpc.call(RequestQueuesRpc.deleteRequest, { id: queue.id, requestId: ids['1'] });
      await expectAppError(
        h.rpc.call(RequestQueuesRpc.deleteRequest, { id: queue.id, requestId: ids['1'] }),
        'record-not-found',
      );
      expect(await h.rpc.call(RequestQueuesRpc.get, { id: queue.id })).toMatchObject({
        totalRequestCount: 4,
        handledRequestCount: 0,
        pendingRequestCount: 4,
      });
      expect((await h.rpc.call(RequestQueuesRpc.head, { id: queue.id })).items.map((i) => i.id)).toEqual([
        ids['3'],
        ids['2'],
        ids.f1,
        ids.f2,
      ]);
    });

    it('lists every request in pages by exclusiveStartId', async () => {
      const { queue } = await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner });
      for (let n = 0; n < 5; n++)
        await h.rpc.call(RequestQueuesRpc.addRequest, { id: queue.id, request: request(n) });
      const all = await h.rpc.call(RequestQueuesRpc.listRequests, { id: queue.id });
      expect(all).toMatchObject({
        count: 5,
        limit: 1000,
        exclusiveStartId: null,
        nextExclusiveStartId: null,
      });
      const ids = all.items.map((r) => r.id);
      expect(new Set(ids).size).toBe(5);
      const first = await h.rpc.call(RequestQueuesRpc.listRequests, { id: queue.id, limit: 2 });
      expect(first.items.map((r) => r.id)).toEqual(ids.slice(0, 2));
      expect(first.nextExclusiveStartId).toBe(ids[1]);
      const rest = await h.rpc.call(RequestQueuesRpc.listRequests, {
        id: queue.id,
        limit: 3,
        exclusiveStartId: ids[1],
      });
      expect(rest.items.map((r) => r.id)).toEqual(ids.slice(2));
      expect(rest.nextExclusiveStartId).toBeNull();
    });

    it('refuses invalid payloads and requests of other queues', async () => {
      const { queue } = await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner });
      const other = await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner });
      const { requestId } = await h.rpc.call(RequestQueuesRpc.addRequest, {
        id: queue.id,
        request: request('x'),
      });
      await expectInvalid(
        RequestQueuesRpc.addRequest,
        { id: queue.id, request: { url: 'https://example.com' } },
        'payload.request.uniqueKey',
      );
      await expectInvalid(
        RequestQueuesRpc.addRequest,
        { id: queue.id, request: request(1, { url: 'not a url' }) },
        'payload.request.url',
      );
      await expectInvalid(
        RequestQueuesRpc.addRequest,
        { id: queue.id, request: request(1, { method: 'FETCH' }) },
        'payload.request.method',
      );
      await expectInvalid(
        RequestQueuesRpc.addRequest,
        { id: queue.id, request: request(1, { userData: [] }) },
        'payload.request.userData',
      );
      // An id the caller sets is not a field of a new request: ignored (a new one is given), never
      // used to overwrite the request that has it (README, "Rolling upgrades").
      const added = await h.rpc.call(RequestQueuesRpc.addRequest, {
        id: queue.id,
        request: request('y', { id: requestId }),
      } as never);
      expect(added.requestId).not.toBe(requestId);
      await expectInvalid(
        RequestQueuesRpc.addRequest,
        { id: queue.id, request: request(1, { retryCount: -1 }) },
        'payload.request.retryCount',
      );
      await expectInvalid(
        RequestQueuesRpc.addRequest,
        { id: queue.id, request: request(1, { handledAt: 'yesterday' }) },
        'payload.request.handledAt',
      );
      await expectInvalid(
        RequestQueuesRpc.addRequest,
        { id: queue.id, request: request(1, { uniqueKey: 'u'.repeat(8193) }) },
        'payload.request.uniqueKey',
      );
      await expectInvalid(
        RequestQueuesRpc.addRequest,
        { id: queue.id, request: request(1), forefront: 'yes' },
        'payload.forefront',
      );
      await expectInvalid(
        RequestQueuesRpc.updateRequest,
        { id: queue.id, requestId, request: { ...request('x'), lockExpiresAt: 1 } },
        'payload.request.lockExpiresAt',
      );
      await expectInvalid(
        RequestQueuesRpc.updateRequest,
        { id: queue.id, requestId, request: { ...request('x'), id: newId() } },
        'request.id',
      );
      await expectInvalid(
        RequestQueuesRpc.updateRequest,
        { id: queue.id, requestId, request: request('changed') },
        'uniqueKey',
      );
      await expectInvalid(
        RequestQueuesRpc.getRequest,
        { id: queue.id, requestId: 'nope' },
        'payload.requestId',
      );
      await expectInvalid(RequestQueuesRpc.head, { id: queue.id, limit: 1001 }, 'payload.limit');
      await expectInvalid(
        RequestQueuesRpc.listRequests,
        { id: queue.id, exclusiveStartId: 'x' },
        'payload.exclusiveStartId',
      );
      await expectInvalid(
        RequestQueuesRpc.update,
        { id: queue.id, changes: { name: '' } },
        'payload.changes.name',
      );

      // A request is found only through its own queue.
      await expectAppError(
        h.rpc.call(RequestQueuesRpc.getRequest, { id: other.queue.id, requestId }),
        'record-not-found',
      );
      await expectAppError(
        h.rpc.call(RequestQueuesRpc.updateRequest, { id: other.queue.id, requestId, request: request('x') }),
        'record-not-found',
      );
      await expectAppError(
        h.rpc.call(RequestQueuesRpc.deleteRequest, { id: other.queue.id, requestId }),
        'record-not-found',
      );
      await expectAppError(
        h.rpc.call(RequestQueuesRpc.addRequest, { id: newId(), request: request(1) }),
        'record-not-found',
      );
    });

    it('creates a queue inside a caller transaction (a run’s default queue)', async () => {
      const service = h.app.get(RequestQueuesService);
      const runId = newId();
      const row = await h.app
        .get(DataSource)
        .transaction((manager) => service.createIn(manager, { ownerId: owner, createdBy: owner, runId }));
      expect(await h.rpc.call(RequestQueuesRpc.get, { id: row.resource.id })).toMatchObject({
        actRunId: runId,
        userId: owner,
        name: null,
      });
    });
  });
});
