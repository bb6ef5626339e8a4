import { ApifyClient } from 'apify-client';
import { request as httpRequest } from 'http';
import { SignedUpUser, signUpEach, startTestStack, TestStack } from './test-stack';

/** Key-value stores and request queues through the gateway: apify-client unchanged, sharing, bad input. */
describe('key-value stores and request queues end to end', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let baseUrl: string;
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });

  beforeAll(async () => {
    t = await startTestStack();
    await t.stack.gateway.listen(0, '127.0.0.1');
    baseUrl = await t.stack.gateway.getUrl();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
  });
  afterAll(() => t.close());

  describe('with apify-client', () => {
    it('gets or creates a store and round-trips JSON, text and binary records', async () => {
      const owner = client(alice.accessToken);
      const store = await owner.keyValueStores().getOrCreate('sdk-store');
      expect(store).toMatchObject({
        name: 'sdk-store',
        userId: alice.id,
        generalAccess: 'FOLLOW_USER_SETTING',
      });
      expect(store.createdAt).toBeInstanceOf(Date);
      expect(store.urlSigningSecretKey).toEqual(expect.any(String));
      expect((store as unknown as { consoleUrl: string }).consoleUrl).toContain(
        `/storage/key-value-stores/${store.id}`,
      );
      expect((await owner.keyValueStores().getOrCreate('sdk-store')).id).toBe(store.id);
      const kvs = owner.keyValueStore(store.id);

      await kvs.setRecord({ key: 'OUTPUT', value: { hello: 'world', list: [1, 2, 3] } });
      expect(await kvs.getRecord('OUTPUT')).toEqual({
        key: 'OUTPUT',
        value: { hello: 'world', list: [1, 2, 3] },
        contentType: 'application/json; charset=utf-8',
      });
      await kvs.setRecord({ key: 'note.txt', value: 'plain text, ünïcode' });
      expect(await kvs.getRecord('note.txt')).toMatchObject({
        value: 'plain text, ünïcode',
        contentType: 'text/plain; charset=utf-8',
      });
      // Over 1 KB: apify-client sends it brotli-compressed.
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0xff]), Buffer.alloc(5000, 7)]);
      await kvs.setRecord({ key: 'screenshot.png', value: png as never, contentType: 'image/png' });
      const image = await kvs.getRecord('screenshot.png', { buffer: true });
      expect(image?.contentType).toBe('image/png');
      expect(Buffer.compare(image!.value as Buffer, png)).toBe(0);
      const csv = Buffer.from('a,b\n1,2\n');
      await kvs.setRecord({ key: 'data.csv', value: csv as never, contentType: 'text/csv' });
      expect((await kvs.getRecord('data.csv'))?.value).toBe('a,b\n1,2\n');

      expect(await kvs.recordExists('OUTPUT')).toBe(true);
      expect(await kvs.recordExists('MISSING')).toBe(false);
      expect(await kvs.getRecord('MISSING')).toBeUndefined();
      await kvs.deleteRecord('data.csv');
      expect(await kvs.recordExists('data.csv')).toBe(false);
      const fetched = await kvs.get();
      expect((fetched as unknown as { stats: { recordCount: number } }).stats.recordCount).toBe(3);
    });

    it('lists keys with prefix, limit and exclusiveStartKey', async () => {
      const kvs = client(alice.accessToken).keyValueStore(
        (await client(alice.accessToken).keyValueStores().getOrCreate()).id,
      );
      for (const key of ['img-3', 'img-1', 'doc-1', 'img-2', 'img-4'])
        await kvs.setRecord({ key, value: key });
      const all = await kvs.listKeys();
      expect(all.items.map((i) => i.key)).toEqual(['doc-1', 'img-1', 'img-2', 'img-3', 'img-4']);
      expect(all).toMatchObject({ count: 5, isTruncated: false, nextExclusiveStartKey: null });
      expect(all.items[0]).toMatchObject({ key: 'doc-1', size: 5 });
      const first = await kvs.listKeys({ prefix: 'img-', limit: 2 });
      expect(first).toMatchObject({ count: 2, limit: 2, isTruncated: true, nextExclusiveStartKey: 'img-2' });
      const next = await kvs.listKeys({
        prefix: 'img-',
        limit: 2,
        exclusiveStartKey: first.nextExclusiveStartKey,
      });
      expect(next.items.map((i) => i.key)).toEqual(['img-3', 'img-4']);
      expect(next).toMatchObject({ exclusiveStartKey: 'img-2', isTruncated: false });
    });

    it('adds (de-duplicated), gets, updates, heads, lists and deletes requests', async () => {
      const owner = client(alice.accessToken);
      const queue = await owner.requestQueues().getOrCreate('sdk-queue');
      expect(queue).toMatchObject({
        name: 'sdk-queue',
        userId: alice.id,
        totalRequestCount: 0,
        hadMultipleClients: false,
      });
      expect((await owner.requestQueues().getOrCreate('sdk-queue')).id).toBe(queue.id);
      // One clientKey throughout: one client (calls without a key count as a new client each).
      const rq = owner.requestQueue(queue.id, { clientKey: 'sdk' });

      const a = await rq.addRequest({
        uniqueKey: 'https://example.com/a',
        url: 'https://example.com/a',
        userData: { label: 'A' },
      });
      expect(a).toEqual({
        requestId: expect.any(String),
        wasAlreadyPresent: false,
        wasAlreadyHandled: false,
      });
      const again = await rq.addRequest({ uniqueKey: 'https://example.com/a', url: 'https://example.com/a' });
      expect(again).toEqual({ requestId: a.requestId, wasAlreadyPresent: true, wasAlreadyHandled: false });
      const b = await rq.addRequest({
        uniqueKey: 'b',
        url: 'https://example.com/b',
        method: 'POST',
        payload: '{"q":1}',
      });
      const urgent = await rq.addRequest(
        { uniqueKey: 'urgent', url: 'https://example.com/urgent' },
        { forefront: true },
      );

      const got = await rq.getRequest(a.requestId);
      expect(got).toMatchObject({
        id: a.requestId,
        url: 'https://example.com/a',
        method: 'GET',
        userData: { label: 'A' },
        retryCount: 0,
      });
      expect(await rq.getRequest('AAAAAAAAAAAAAAAAA')).toBeUndefined();

      const head = await rq.listHead();
      expect(head).toMatchObject({ limit: 100, hadMultipleClients: false });
      expect(head.queueModifiedAt).toBeInstanceOf(Date);
      expect(head.items.map((i) => i.id)).toEqual([urgent.requestId, a.requestId, b.requestId]);
      expect((await rq.listHead({ limit: 1 })).items.map((i) => i.id)).toEqual([urgent.requestId]);

      // Marking handled (as a crawler does: the whole request back, with handledAt) leaves the head.
      const handled = await rq.updateRequest({
        ...(await rq.getRequest(urgent.requestId))!,
        handledAt: new Date().toISOString(),
      });
      expect(handled).toEqual({
        requestId: urgent.requestId,
        wasAlreadyPresent: true,
        wasAlreadyHandled: false,
      });
      expect((await rq.listHead()).items.map((i) => i.id)).toEqual([a.requestId, b.requestId]);
      expect(
        ((await rq.getRequest(urgent.requestId)) as unknown as { handledAt: Date }).handledAt,
      ).toBeInstanceOf(Date);
      expect(await rq.get()).toMatchObject({
        totalRequestCount: 3,
        handledRequestCount: 1,
        pendingRequestCount: 2,
      });
      // Reclaimed with forefront: first again.
      await rq.updateRequest({ ...(await rq.getRequest(b.requestId))!, retryCount: 1 }, { forefront: true });
      expect((await rq.listHead()).items).toEqual([
        expect.objectContaining({ id: b.requestId, retryCount: 1, method: 'POST' }),
        expect.objectContaining({ id: a.requestId }),
      ]);

      const firstPage = await rq.listRequests({ limit: 2 });
      expect(firstPage.items).toHaveLength(2);
      expect(firstPage.nextCursor).toEqual(expect.any(String));
      const rest = await rq.listRequests({ limit: 2, exclusiveStartId: firstPage.items[1].id });
      expect(rest.items).toHaveLength(1);
      expect(rest.nextCursor).toBeUndefined();
      const paged: string[] = [];
      for await (const page of rq.paginateRequests({ maxPageLimit: 1 }))
        paged.push(...page.items.map((r) => r.id));
      expect(paged.sort()).toEqual([a.requestId, b.requestId, urgent.requestId].sort());

      await rq.deleteRequest(a.requestId);
      expect(await rq.getRequest(a.requestId)).toBeUndefined();
      expect(await rq.get()).toMatchObject({ totalRequestCount: 2, handledRequestCount: 1 });
      await rq.delete();
      expect(await rq.get()).toBeUndefined();
    });

    it('lists my stores and queues, and updates and deletes a store', async () => {
      const owner = client(alice.accessToken);
      const stores = await owner.keyValueStores().list();
      expect(stores.items.map((s) => s.name)).toContain('sdk-store');
      expect(stores.items.every((s) => s.urlSigningSecretKey)).toBe(true);
      const unnamed = await owner.keyValueStores().list({ unnamed: true });
      expect(unnamed.total).toBeGreaterThan(stores.total);
      const extra = await owner.keyValueStores().getOrCreate('to-rename');
      const renamed = await owner.keyValueStore(extra.id).update({ name: 'renamed' });
      expect(renamed.name).toBe('renamed');
      await owner.keyValueStore(extra.id).delete();
      expect(await owner.keyValueStore(extra.id).get()).toBeUndefined();
      const queues = await owner.requestQueues().list({ unnamed: true });
      expect(queues.items.every((q) => q.userId === alice.id)).toBe(true);
    });
  });

  describe('records over plain HTTP', () => {
    let storeId: string;
    beforeAll(async () => {
      storeId = (await t.http().post('/v2/key-value-stores?name=raw').set(alice.auth).expect(201)).body.data
        .id;
    });

    it('keeps the exact bytes and content type of any record; HEAD answers without a body', async () => {
      const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
      await t
        .http()
        .put(`/v2/key-value-stores/${storeId}/records/blob`)
        .set(alice.auth)
        .set('content-type', 'application/x-custom; v=1')
        .send(bytes)
        .expect(201);
      const res = await t
        .http()
        .get(`/v2/key-value-stores/${storeId}/records/blob`)
        .set(alice.auth)
        .buffer(true)
        .parse((response, done) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(res.headers['content-type']).toBe('application/x-custom; v=1');
      expect(Buffer.compare(res.body as Buffer, bytes)).toBe(0);

      await t
        .http()
        .put(`/v2/key-value-stores/${storeId}/records/json`)
        .set(alice.auth)
        .send({ a: [1, 2] })
        .expect(201);
      const json = await t
        .http()
        .get(`/v2/key-value-stores/${storeId}/records/json`)
        .set(alice.auth)
        .expect(200);
      expect(json.headers['content-type']).toMatch(/^application\/json/);
      expect(json.text).toBe('{"a":[1,2]}');
      // A JSON string or null stays JSON.
      await t
        .http()
        .put(`/v2/key-value-stores/${storeId}/records/str`)
        .set(alice.auth)
        .set('content-type', 'application/json')
        .send('"hi"')
        .expect(201);
      expect(
        (await t.http().get(`/v2/key-value-stores/${storeId}/records/str`).set(alice.auth).expect(200)).body,
      ).toBe('hi');
      await t
        .http()
        .put(`/v2/key-value-stores/${storeId}/records/nul`)
        .set(alice.auth)
        .set('content-type', 'application/json')
        .send('null')
        .expect(201);
      expect(
        (await t.http().get(`/v2/key-value-stores/${storeId}/records/nul`).set(alice.auth).expect(200)).text,
      ).toBe('null');
      await t
        .http()
        .put(`/v2/key-value-stores/${storeId}/records/form`)
        .set(alice.auth)
        .type('form')
        .send('a=1&b=x+y')
        .expect(201);
      const form = await t
        .http()
        .get(`/v2/key-value-stores/${storeId}/records/form`)
        .set(alice.auth)
        .expect(200);
      expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(form.text).toBe('a=1&b=x+y');

      // No content type at all: stored as octet-stream; an empty body is an empty record.
      await t.http().put(`/v2/key-value-stores/${storeId}/records/empty`).set(alice.auth).expect(201);
      const empty = await t
        .http()
        .head(`/v2/key-value-stores/${storeId}/records/empty`)
        .set(alice.auth)
        .expect(200);
      expect(empty.headers['content-type']).toBe('application/octet-stream');
      await t.http().head(`/v2/key-value-stores/${storeId}/records/absent`).set(alice.auth).expect(404);
      await t.http().delete(`/v2/key-value-stores/${storeId}/records/empty`).set(alice.auth).expect(204);
      await t.http().delete(`/v2/key-value-stores/${storeId}/records/empty`).set(alice.auth).expect(404);
    });

    it.each([
      [
        'an oversized key',
        (id: string) => ['put', `/v2/key-value-stores/${id}/records/${'k'.repeat(257)}`, 'text/plain', 'x'],
        400,
        'recordKey',
      ],
      [
        'a key with a bad character',
        (id: string) => ['put', `/v2/key-value-stores/${id}/records/a%20b`, 'text/plain', 'x'],
        400,
        'recordKey',
      ],
      [
        'an oversized key on read',
        (id: string) => ['get', `/v2/key-value-stores/${id}/records/${'k'.repeat(300)}`],
        400,
        'recordKey',
      ],
      [
        'malformed JSON',
        (id: string) => ['put', `/v2/key-value-stores/${id}/records/j`, 'application/json', '{"a":'],
        400,
        '',
      ],
      [
        'an unparseable content type',
        (id: string) => ['put', `/v2/key-value-stores/${id}/records/c`, 'nonsense', 'x'],
        415,
        'Media Type',
      ],
      [
        'a bad content type',
        (id: string) => ['put', `/v2/key-value-stores/${id}/records/c`, `text/${'x'.repeat(300)}`, 'x'],
        400,
        'content-type',
      ],
      [
        'an unknown store field',
        (id: string) => ['put', `/v2/key-value-stores/${id}`, 'application/json', '{"title":"x"}'],
        400,
        'body.title',
      ],
      [
        'a bad general access',
        (id: string) => ['put', `/v2/key-value-stores/${id}`, 'application/json', '{"generalAccess":"ALL"}'],
        400,
        'body.generalAccess',
      ],
      [
        'a non-JSON store update',
        (id: string) => ['put', `/v2/key-value-stores/${id}`, 'text/plain', 'name=x'],
        400,
        'JSON',
      ],
      [
        'a bad keys limit',
        (id: string) => ['get', `/v2/key-value-stores/${id}/keys?limit=0`],
        400,
        'query.limit',
      ],
      [
        'a bad exclusiveStartKey',
        (id: string) => ['get', `/v2/key-value-stores/${id}/keys?exclusiveStartKey=a%20b`],
        400,
        'query.exclusiveStartKey',
      ],
      ['a bad store name', () => ['post', '/v2/key-value-stores?name=no%20spaces'], 400, 'query.name'],
      ['an unknown store', () => ['get', '/v2/key-value-stores/AAAAAAAAAAAAAAAAA/records/x'], 404, ''],
      ['an invalid store id', () => ['get', '/v2/key-value-stores/not*an*id'], 404, ''],
    ] as const)('answers %s with a clear 4xx', async (_name, build, status, field) => {
      const [method, path, contentType, body] = build(storeId) as readonly string[];
      let req = t.http()[method as 'get' | 'put' | 'post'](path).set(alice.auth);
      if (contentType) req = req.set('content-type', contentType).send(body);
      const res = await req;
      expect(res.status).toBe(status);
      expect(res.body.error.type).toEqual(expect.any(String));
      expect(res.body.error.message).toContain(field);
    });

    it.each(['..', '.'])(
      'refuses a record key of "%s", sent as is: no URL could read it back',
      async (key) => {
        // A path sent as is (curl --path-as-is): fetch, apify-client and the console remove the segment.
        const { status, body } = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
          const { hostname, port } = new URL(baseUrl);
          // `path` as given: a URL string would be normalized first.
          const req = httpRequest(
            {
              hostname,
              port,
              path: `/v2/key-value-stores/${storeId}/records/${key}`,
              method: 'PUT',
              headers: { ...alice.auth, 'content-type': 'text/plain' },
            },
            (res) => {
              let text = '';
              res.on('data', (chunk: Buffer) => (text += chunk.toString()));
              res.on('end', () => resolve({ status: res.statusCode, body: text }));
            },
          );
          req.on('error', reject);
          req.end('x');
        });
        expect(status).toBe(400);
        expect(JSON.parse(body).error).toEqual({
          type: 'invalid-input',
          message: 'Field "recordKey" is invalid: cannot be "." or "..": URLs remove them from a path',
        });
      },
    );

    it('refuses a record over 9 MB with 413', async () => {
      const res = await t
        .http()
        .put(`/v2/key-value-stores/${storeId}/records/big`)
        .set(alice.auth)
        .set('content-type', 'application/octet-stream')
        .send(Buffer.alloc(9 * 1024 * 1024 + 1));
      expect(res.status).toBe(413);
      await t.http().get(`/v2/key-value-stores/${storeId}/records/big`).set(alice.auth).expect(404);
    });
  });

  describe('bad request-queue input', () => {
    let queueId: string;
    beforeAll(async () => {
      queueId = (await t.http().post('/v2/request-queues').set(alice.auth).expect(201)).body.data.id;
    });

    it.each([
      ['an unknown field', { uniqueKey: 'u', url: 'https://example.com', lockSecs: 5 }, 'body.lockSecs'],
      ['no uniqueKey', { url: 'https://example.com' }, 'body.uniqueKey'],
      ['a bad url', { uniqueKey: 'u', url: 'example' }, 'body.url'],
      ['a bad method', { uniqueKey: 'u', url: 'https://example.com', method: 'GRAB' }, 'body.method'],
      ['an id', { id: 'AAAAAAAAAAAAAAAAA', uniqueKey: 'u', url: 'https://example.com' }, 'body.id'],
      [
        'a non-object userData',
        { uniqueKey: 'u', url: 'https://example.com', userData: 'x' },
        'body.userData',
      ],
    ])('refuses a request with %s, naming the field', async (_name, body, field) => {
      const res = await t
        .http()
        .post(`/v2/request-queues/${queueId}/requests`)
        .set(alice.auth)
        .send(body)
        .expect(400);
      expect(res.body.error.message).toContain(field);
    });

    it('refuses bad queries and foreign ids, and changes nothing', async () => {
      const { requestId } = (
        await t
          .http()
          .post(`/v2/request-queues/${queueId}/requests`)
          .set(alice.auth)
          .send({ uniqueKey: 'k', url: 'https://example.com/k' })
          .expect(201)
      ).body.data;
      expect(
        (await t.http().get(`/v2/request-queues/${queueId}/head?limit=x`).set(alice.auth).expect(400)).body
          .error.message,
      ).toContain('query.limit');
      expect(
        (
          await t
            .http()
            .get(`/v2/request-queues/${queueId}/requests?exclusiveStartId=nope`)
            .set(alice.auth)
            .expect(400)
        ).body.error.message,
      ).toContain('query.exclusiveStartId');
      expect(
        (
          await t
            .http()
            .post(`/v2/request-queues/${queueId}/requests?forefront=maybe`)
            .set(alice.auth)
            .send({ uniqueKey: 'z', url: 'https://example.com' })
            .expect(400)
        ).body.error.message,
      ).toContain('query.forefront');
      const changed = await t
        .http()
        .put(`/v2/request-queues/${queueId}/requests/${requestId}`)
        .set(alice.auth)
        .send({ id: 'BBBBBBBBBBBBBBBBB', uniqueKey: 'k', url: 'https://example.com/k' })
        .expect(400);
      expect(changed.body.error.message).toContain('body.id');
      await t
        .http()
        .put(`/v2/request-queues/${queueId}/requests/${requestId}`)
        .set(alice.auth)
        .send({ uniqueKey: 'other', url: 'https://example.com/k' })
        .expect(400);
      await t.http().get(`/v2/request-queues/${queueId}/requests/not-an-id`).set(alice.auth).expect(404);
      await t
        .http()
        .delete(`/v2/request-queues/${queueId}/requests/AAAAAAAAAAAAAAAAA`)
        .set(alice.auth)
        .expect(404);
      const queue = await t.http().get(`/v2/request-queues/${queueId}`).set(alice.auth).expect(200);
      expect(queue.body.data).toMatchObject({ totalRequestCount: 1, pendingRequestCount: 1 });
    });
  });

  describe('sharing', () => {
    let storeId: string;
    let queueId: string;
    const store = (path = '') => `/v2/key-value-stores/${storeId}${path}`;
    const queue = (path = '') => `/v2/request-queues/${queueId}${path}`;
    const setAccess = (path: string, generalAccess: string) =>
      t.http().put(path).set(alice.auth).send({ generalAccess }).expect(200);

    beforeAll(async () => {
      storeId = (await t.http().post('/v2/key-value-stores?name=shared').set(alice.auth).expect(201)).body
        .data.id;
      queueId = (await t.http().post('/v2/request-queues?name=shared').set(alice.auth).expect(201)).body.data
        .id;
      await t.http().put(store('/records/OUTPUT')).set(alice.auth).send({ ok: true }).expect(201);
      await t
        .http()
        .post(queue('/requests'))
        .set(alice.auth)
        .send({ uniqueKey: 'a', url: 'https://example.com/a' })
        .expect(201);
    });

    it('hides RESTRICTED storages from others with 404, reads included', async () => {
      await setAccess(store(), 'RESTRICTED');
      await setAccess(queue(), 'RESTRICTED');
      for (const path of [
        store(),
        store('/keys'),
        store('/records/OUTPUT'),
        queue(),
        queue('/head'),
        queue('/requests'),
      ]) {
        const res = await t.http().get(path).set(bob.auth).expect(404);
        expect(res.body.error.type).toBe('record-not-found');
        await t.http().get(path).expect(404);
      }
      await t.http().put(store('/records/OUTPUT')).set(bob.auth).send({ hacked: true }).expect(404);
      await t
        .http()
        .post(queue('/requests'))
        .set(bob.auth)
        .send({ uniqueKey: 'b', url: 'https://example.com/b' })
        .expect(404);
      expect(await client(bob.accessToken).keyValueStore(storeId).get()).toBeUndefined();
      expect(await client(bob.accessToken).requestQueue(queueId).get()).toBeUndefined();
    });

    it('lets anyone with the id read under ANYONE_WITH_ID_CAN_READ, never write, and not by name', async () => {
      await setAccess(store(), 'ANYONE_WITH_ID_CAN_READ');
      await setAccess(queue(), 'ANYONE_WITH_ID_CAN_READ');
      const read = await t.http().get(store()).set(bob.auth).expect(200);
      expect(read.body.data.urlSigningSecretKey).toBeUndefined();
      expect(
        (await t.http().get(queue()).set(bob.auth).expect(200)).body.data.urlSigningSecretKey,
      ).toBeUndefined();
      const bobs = client(bob.accessToken);
      expect((await bobs.keyValueStore(storeId).getRecord('OUTPUT'))?.value).toEqual({ ok: true });
      expect((await bobs.requestQueue(queueId).listHead()).items).toHaveLength(1);
      expect((await client().keyValueStore(storeId).listKeys()).items.map((i) => i.key)).toEqual(['OUTPUT']);

      const denied = await t
        .http()
        .put(store('/records/OUTPUT'))
        .set(bob.auth)
        .send({ hacked: true })
        .expect(403);
      expect(denied.body.error.type).toBe('insufficient-permissions');
      await t.http().delete(store('/records/OUTPUT')).set(bob.auth).expect(403);
      await t
        .http()
        .post(queue('/requests'))
        .set(bob.auth)
        .send({ uniqueKey: 'b', url: 'https://example.com/b' })
        .expect(403);
      await t.http().delete(queue()).set(bob.auth).expect(403);
      await t.http().put(store('/records/OUTPUT')).send({ hacked: true }).expect(401);
      await t.http().get(`/v2/key-value-stores/${alice.username}~shared`).set(bob.auth).expect(404);
      await t.http().get(`/v2/request-queues/${alice.username}~shared`).set(bob.auth).expect(404);
    });

    it('lets anyone address by owner~name under ANYONE_WITH_NAME_CAN_READ', async () => {
      await setAccess(store(), 'ANYONE_WITH_NAME_CAN_READ');
      await setAccess(queue(), 'ANYONE_WITH_NAME_CAN_READ');
      const byName = await t
        .http()
        .get(`/v2/key-value-stores/${alice.username}~shared`)
        .set(bob.auth)
        .expect(200);
      expect(byName.body.data.id).toBe(storeId);
      const record = await t
        .http()
        .get(`/v2/key-value-stores/${alice.username}~shared/records/OUTPUT`)
        .expect(200);
      expect(record.body).toEqual({ ok: true });
      expect((await client().requestQueue(`${alice.username}~shared`).get())?.id).toBe(queueId);
    });

    it('grants READ then WRITE on a RESTRICTED store, lists it as shared, and keeps access management to the owner', async () => {
      await setAccess(store(), 'RESTRICTED');
      await setAccess(queue(), 'RESTRICTED');
      const grant = await t
        .http()
        .post(store('/access/grants'))
        .set(alice.auth)
        .send({ user: bob.username, permissions: ['READ'] })
        .expect(201);
      await t
        .http()
        .post(queue('/access/grants'))
        .set(alice.auth)
        .send({ user: bob.id, permissions: ['READ'] })
        .expect(201);
      await t.http().get(store('/records/OUTPUT')).set(bob.auth).expect(200);
      await t.http().get(queue('/head')).set(bob.auth).expect(200);
      await t.http().put(store('/records/OUTPUT')).set(bob.auth).send({ v: 2 }).expect(403);
      await t
        .http()
        .post(queue('/requests'))
        .set(bob.auth)
        .send({ uniqueKey: 'c', url: 'https://example.com/c' })
        .expect(403);
      await t.http().get(store('/access')).set(bob.auth).expect(403);

      const sharedStores = await client(bob.accessToken)
        .keyValueStores()
        .list({ ownership: 'sharedWithMe' } as never);
      expect(sharedStores.items.map((s) => s.id)).toEqual([storeId]);
      expect(sharedStores.items[0].urlSigningSecretKey).toBeUndefined();
      const sharedQueues = await t
        .http()
        .get('/v2/request-queues?ownership=sharedWithMe')
        .set(bob.auth)
        .expect(200);
      expect(sharedQueues.body.data).toMatchObject({ total: 1, count: 1 });
      expect(sharedQueues.body.data.items[0].id).toBe(queueId);
      const owned = await t.http().get('/v2/key-value-stores?ownership=ownedByMe').set(bob.auth).expect(200);
      expect(owned.body.data.items.map((s: { id: string }) => s.id)).not.toContain(storeId);

      await t
        .http()
        .put(store(`/access/grants/${grant.body.data.id}`))
        .set(alice.auth)
        .send({ permissions: ['WRITE'] })
        .expect(200);
      await client(bob.accessToken).keyValueStore(storeId).setRecord({ key: 'FROM_BOB', value: 'hi' });
      expect((await t.http().get(store()).set(bob.auth).expect(200)).body.data.urlSigningSecretKey).toEqual(
        expect.any(String),
      );
      // WRITE is not MANAGE_ACCESS: general access stays the owner's.
      await t
        .http()
        .put(store())
        .set(bob.auth)
        .send({ generalAccess: 'ANYONE_WITH_ID_CAN_READ' })
        .expect(403);
      await t.http().put(store()).set(bob.auth).send({ name: 'bobs-name' }).expect(200);

      await t
        .http()
        .delete(store(`/access/grants/${grant.body.data.id}`))
        .set(alice.auth)
        .expect(204);
      await t.http().get(store()).set(bob.auth).expect(404);
      expect((await t.http().get(store('/records/FROM_BOB')).set(alice.auth).expect(200)).text).toBe('hi');
    });

    it('deletes storages: gone for everyone at once', async () => {
      await t.http().delete(store()).set(bob.auth).expect(404);
      await t.http().delete(store()).set(alice.auth).expect(204);
      await t.http().get(store()).set(alice.auth).expect(404);
      await t.http().get(store('/records/OUTPUT')).set(alice.auth).expect(404);
      await t.http().delete(queue()).set(alice.auth).expect(204);
      await t.http().get(queue('/head')).set(bob.auth).expect(404);
    });
  });
});
