import { uniqueName } from '@atrium/testing';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { createDataset, FAIL_FAST, SignedUpUser, signUp, startTestStack, TestStack } from './test-stack';

describe('bad input, fail-closed authorization and operations endpoints', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let datasetId: string;

  beforeAll(async () => {
    // It stops the permissions service and times how soon the gateway answers 503.
    t = await startTestStack(FAIL_FAST);
    alice = await signUp(t, uniqueName('alice'));
    datasetId = await createDataset(t, alice, 'box');
    await t.http().post(`/v2/datasets/${datasetId}/items`).set(alice.auth).send({ kept: true }).expect(201);
  });
  afterAll(() => t.close());

  const itemCount = async () =>
    (await t.http().get(`/v2/datasets/${datasetId}`).set(alice.auth).expect(200)).body.data.itemCount;

  it.each([
    [
      'malformed JSON',
      (r: ReturnType<TestStack['http']>) =>
        r.post(`/v2/datasets/${datasetId}/items`).set('content-type', 'application/json').send('{"a": '),
      400,
    ],
    [
      'a non-object item',
      (r: ReturnType<TestStack['http']>) => r.post(`/v2/datasets/${datasetId}/items`).send([{ a: 1 }, 5]),
      400,
    ],
    [
      'a NUL character PostgreSQL refuses',
      (r: ReturnType<TestStack['http']>) =>
        r
          .post(`/v2/datasets/${datasetId}/items`)
          .set('content-type', 'application/json')
          .send('{"a":"\\u0000"}'),
      400,
    ],
    [
      'an unpaired surrogate PostgreSQL refuses (a value)',
      (r: ReturnType<TestStack['http']>) =>
        r
          .post(`/v2/datasets/${datasetId}/items`)
          .set('content-type', 'application/json')
          .send('{"a":"ok","b":[{"c":"\\udfff"}]}'),
      400,
    ],
    [
      'an unpaired surrogate PostgreSQL refuses (a key)',
      (r: ReturnType<TestStack['http']>) =>
        r
          .post(`/v2/datasets/${datasetId}/items`)
          .set('content-type', 'application/json')
          .send('{"\\ud800k":1}'),
      400,
    ],
    [
      'an empty array',
      (r: ReturnType<TestStack['http']>) => r.post(`/v2/datasets/${datasetId}/items`).send([]),
      400,
    ],
    [
      'a wrong type',
      (r: ReturnType<TestStack['http']>) => r.put(`/v2/datasets/${datasetId}`).send({ name: 42 }),
      400,
    ],
    [
      'an unknown field',
      (r: ReturnType<TestStack['http']>) => r.put(`/v2/datasets/${datasetId}`).send({ nmae: 'x' }),
      400,
    ],
    [
      'a bad enum',
      (r: ReturnType<TestStack['http']>) =>
        r.put(`/v2/datasets/${datasetId}`).send({ generalAccess: 'EVERYONE' }),
      400,
    ],
    ['a bad name', (r: ReturnType<TestStack['http']>) => r.post('/v2/datasets?name=no spaces!'), 400],
    [
      'a bad limit',
      (r: ReturnType<TestStack['http']>) => r.get(`/v2/datasets/${datasetId}/items?limit=-1`),
      400,
    ],
    [
      'an unsupported format',
      (r: ReturnType<TestStack['http']>) => r.get(`/v2/datasets/${datasetId}/items?format=pdf`),
      400,
    ],
    ['an invalid id', (r: ReturnType<TestStack['http']>) => r.get('/v2/datasets/not*an*id'), 404],
    ['an unknown id', (r: ReturnType<TestStack['http']>) => r.get('/v2/datasets/AAAAAAAAAAAAAAAAA'), 404],
    [
      'a malformed grant id',
      (r: ReturnType<TestStack['http']>) => r.delete(`/v2/datasets/${datasetId}/access/grants/x%00y`),
      404,
    ],
    ['a malformed token id', (r: ReturnType<TestStack['http']>) => r.delete('/v2/users/me/tokens/%00'), 404],
    ['an unknown route', (r: ReturnType<TestStack['http']>) => r.get('/v2/nothing-here'), 404],
    [
      'a wrong-typed settings value',
      (r: ReturnType<TestStack['http']>) =>
        r.put('/v2/users/me/settings').send({ generalResourceAccess: 'FOLLOW_USER_SETTING' }),
      400,
    ],
  ])('answers %s with a clear 4xx and changes nothing', async (_name, send, status) => {
    const res = await send(t.http()).set(alice.auth);
    expect(res.status).toBe(status);
    expect(res.body.error.type).toEqual(expect.any(String));
    expect(res.body.error.message).toEqual(expect.any(String));
    expect(await itemCount()).toBe(1);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'foo'])(
    'answers the access routes under the collection %s with 404: it names no collection',
    async (collection) => {
      for (const send of [
        (r: ReturnType<TestStack['http']>) => r.get(`/v2/${collection}/${datasetId}/access`),
        (r: ReturnType<TestStack['http']>) =>
          r.post(`/v2/${collection}/${datasetId}/access/grants`).send({ user: 'bob', permissions: ['READ'] }),
      ]) {
        for (const auth of [alice.auth, {}]) {
          const res = await send(t.http()).set(auth);
          expect({ status: res.status, type: res.body.error?.type }).toEqual({
            status: 404,
            type: 'record-not-found',
          });
        }
      }
    },
  );

  it('keeps a surrogate pair and a backslash as sent, and the dataset statistics still answer', async () => {
    const id = await createDataset(t, alice, 'unicode');
    const item = { emoji: '\ud83d\ude00', escaped: '\\ud800', text: 'é' };
    await t
      .http()
      .post(`/v2/datasets/${id}/items`)
      .set(alice.auth)
      .set('content-type', 'application/json')
      .send(JSON.stringify([item]))
      .expect(201);
    expect((await t.http().get(`/v2/datasets/${id}/items`).set(alice.auth).expect(200)).body).toEqual([item]);
    const stats = await t.http().get(`/v2/datasets/${id}/statistics`).set(alice.auth).expect(200);
    expect(stats.body.data.fieldStatistics.emoji).toMatchObject({ nullCount: 0, emptyCount: 0 });
    const refused = await t
      .http()
      .post(`/v2/datasets/${id}/items`)
      .set(alice.auth)
      .set('content-type', 'application/json')
      .send('{"a":"\\ud800"}')
      .expect(400);
    expect(refused.body.error.message).toContain('unpaired surrogate (\\ud800)');
    const inBatch = await t
      .http()
      .post(`/v2/datasets/${id}/items`)
      .set(alice.auth)
      .set('content-type', 'application/json')
      .send('[{"a":1},{"a":2},{"a":"\\ud83d"}]')
      .expect(400);
    expect(inBatch.body.error.message).toContain('(item 3 of 3)');
    await t.http().get(`/v2/datasets/${id}/statistics`).set(alice.auth).expect(200);
  });

  it('names the failing field', async () => {
    const res = await t
      .http()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ name: 42 })
      .expect(400);
    expect(res.body.error.message).toContain('body.name');
    const signup = await t
      .http()
      .post('/v2/auth/signup')
      .send({ email: 'nope', username: 'abc', password: 'long enough' })
      .expect(400);
    expect(signup.body.error.message).toContain('body.email');
  });

  it('refuses what JavaScript would quietly reinterpret: an overflowing number, a __proto__ key, a hex query number', async () => {
    const push = (body: string) =>
      t
        .http()
        .post(`/v2/datasets/${datasetId}/items`)
        .set(alice.auth)
        .set('content-type', 'application/json')
        .send(body)
        .expect(400);
    // JSON.parse reads 1e309 as Infinity, which would be stored as null.
    expect((await push('[{"price":1},{"price":1e309}]')).body.error.message).toContain(
      'beyond the range of a double (1e309)',
    );
    expect((await push('{"__proto__":{"admin":true},"b":2}')).body.error.message).toContain('"__proto__"');
    expect(await itemCount()).toBe(1);
    for (const limit of ['0x10', '1e1', ' 5']) {
      const res = await t
        .http()
        .get(`/v2/datasets/${datasetId}/items`)
        .query({ limit })
        .set(alice.auth)
        .expect(400);
      expect(res.body.error.message).toBe('Field "query.limit" must be a whole number in decimal digits');
    }
    await t.http().get(`/v2/datasets/${datasetId}/items?limit=16`).set(alice.auth).expect(200);
    // An integer beyond 2^53 that a double would round, and one JavaScript wrote (it reads back as written).
    expect((await push('{"id":18446744073709551617}')).body.error.message).toContain(
      'cannot hold exactly (18446744073709551617)',
    );
    expect((await push('{"tiny":1e-400}')).body.error.message).toContain('stored as 0');
    // Bytes that are not UTF-8 would become U+FFFD.
    const bad = await t
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(alice.auth)
      .set('content-type', 'application/json')
      .serialize((bytes: Buffer) => bytes as unknown as string) // as sent, not as JSON of a Buffer
      .send(Buffer.from([...Buffer.from('{"a":"'), 0xff, 0xfe, ...Buffer.from('"}')]))
      .expect(400);
    expect(bad.body.error.message).toBe('The body is not valid UTF-8');
    // One item of more fields than any export should walk.
    const wide = Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, 1]));
    expect((await push(JSON.stringify({ nested: wide }))).body.error.message).toContain(
      'at most 10,000 fields',
    );
    expect(await itemCount()).toBe(1);
    const other = await createDataset(t, alice, 'numbers');
    await t
      .http()
      .post(`/v2/datasets/${other}/items`)
      .set(alice.auth)
      .send({ id: 18446744073709552000, inherited: 'no' })
      .expect(201);
    // `fields` picks the item's own fields, never JavaScript's built-ins.
    const picked = await t
      .http()
      .get(`/v2/datasets/${other}/items?fields=__proto__,constructor,id`)
      .set(alice.auth)
      .expect(200);
    expect(JSON.stringify(picked.body)).toBe('[{"id":18446744073709552000}]');
    // Tables read each row's own fields, in plain names: a `constructor` key or a dotted one
    // neither blanks a CSV nor invents a cell from JavaScript's built-ins.
    await t
      .http()
      .post(`/v2/datasets/${other}/items`)
      .set(alice.auth)
      .send({ constructor: 'own', 'price.usd': 5 })
      .expect(201);
    const items = (format: string) =>
      t.http().get(`/v2/datasets/${other}/items?format=${format}&bom=0`).set(alice.auth).expect(200);
    expect((await items('csv')).text).toBe(
      'id,inherited,constructor,price.usd\n18446744073709552000,no,,\n,,own,5\n',
    );
    const html = (await items('html')).text;
    expect(html).not.toContain('native code');
    expect(html).toContain('<td>own</td><td>5</td>');
    // XML: no key or value makes markup; a `hasOwnProperty` key no longer cuts the export short.
    await t
      .http()
      .post(`/v2/datasets/${other}/items`)
      .set(alice.auth)
      .send({
        '@': { 'a b': 1, a_b: 2, xmlns: 'urn:evil' },
        '#': { '!': '--></item><item><url>forged</url><!--' },
        hasOwnProperty: '<h>',
      })
      .expect(201);
    const xml = (await items('xml')).text;
    expect(xml).not.toContain('<url>forged');
    expect(xml).toContain('<_>--&gt;&lt;/item&gt;&lt;item&gt;&lt;url&gt;forged');
    expect(xml).toContain('<hasOwnProperty>&lt;h&gt;</hasOwnProperty></item>\n</items>\n');
    // Attribute names stay distinct (a duplicate makes the document unreadable) and not XML's own.
    expect(xml).toContain('<item a_b="1" _a_b="2" _xmlns="urn:evil">');
    // Array elements count too: 200,000 zeros in one item held an XML export for seconds.
    expect((await push(JSON.stringify({ a: Array(200_001).fill(0) }))).body.error.message).toContain(
      'at most 200,000 values',
    );
    for (const query of ['limit=0x10', 'cursor=9999999999999999999'])
      await t.http().get(`/v2/audit-log?${query}`).set(alice.auth).expect(400);
    await t.http().get('/v2/actor-runs?startedAfter=2026-02-30T00:00:00Z').set(alice.auth).expect(400);
    await t.http().get('/v2/actor-runs?startedAfter=99999-01-01').set(alice.auth).expect(400);
    // ISO 8601 only: Date alone also reads these, the last as the server's local time.
    for (const time of ['2026', 'Jan%2015%202026', '1%2F2%2F2026'])
      await t.http().get(`/v2/actor-runs?startedAfter=${time}`).set(alice.auth).expect(400);
    for (const time of ['2026-01-15', '2026-01-15T08:00', '2026-01-15T08:00:00.5%2B02:00'])
      await t.http().get(`/v2/actor-runs?startedBefore=${time}`).set(alice.auth).expect(200);
    const noDay = await t.http().get('/v2/actor-runs?startedAfter=2026-02-29').set(alice.auth).expect(400);
    expect(noDay.body.error.message).toContain('names a day that does not exist');
    const noHour = await t
      .http()
      .get('/v2/actor-runs?startedAfter=2026-12-06T25:00Z')
      .set(alice.auth)
      .expect(400);
    expect(noHour.body.error.message).toContain('must be an ISO 8601 date');
    await t
      .http()
      .get('/v2/actor-runs?startedAfter=2026-12-06T12:04:46.865999999999Z')
      .set(alice.auth)
      .expect(200);
    // Times PostgreSQL has no literal for (year 0000, an offset of 16 h) or that later years write
    // as +010000: refused by name, or taken in UTC, never PostgreSQL's own error.
    const yearZero = await t.http().get('/v2/actor-runs?startedAfter=0000-01-01T00:00:00Z').set(alice.auth);
    const auditYearZero = await t.http().get('/v2/audit-log?from=0000-01-01T00:00:00Z').set(alice.auth);
    for (const res of [yearZero, auditYearZero]) {
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('between the years 0001 and 9999');
    }
    await t.http().get('/v2/audit-log?from=2026-12-06T11:00:00%2B16:00').set(alice.auth).expect(200);
    const late = await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: 'someone-else', permissions: ['READ'], expiresAt: '9999-12-31T23:59:59-23:59' });
    expect(late.status).toBe(400);
    expect(late.body.error.message).toContain('body.expiresAt');
  });

  it('refuses a 10 MB body with 413 and keeps the dataset unchanged', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(10 * 1024 * 1024) });
    const res = await t
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(alice.auth)
      .set('content-type', 'application/json')
      .send(big)
      .expect(413);
    expect(res.body.error.type).toBe('payload-too-large');
    expect(await itemCount()).toBe(1);
  });

  it('refuses a body nested thousands deep with 400, not 500, and stores nothing', async () => {
    const storeId = (await t.http().post('/v2/key-value-stores').set(alice.auth).expect(201)).body.data.id;
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    for (const path of [`/v2/datasets/${datasetId}/items`, `/v2/key-value-stores/${storeId}/records/deep`]) {
      const req = path.includes('records') ? t.http().put(path) : t.http().post(path);
      const res = await req.set(alice.auth).set('content-type', 'application/json').send(deep).expect(400);
      expect(res.body.error.message).toContain('nests deeper than');
    }
    expect(await itemCount()).toBe(1);
    await t.http().get(`/v2/key-value-stores/${storeId}/records/deep`).set(alice.auth).expect(404);
  });

  it('refuses a small gzip of millions of empty arrays before parsing it, even anonymously', async () => {
    // 9 KB that expands to just under 9 MiB of `[[],[],…]`: 3 million arrays, seconds to parse.
    const arrays = `[${Array(3_100_000).fill('[]').join(',')}]`;
    const bomb = gzipSync(Buffer.from(arrays), { level: 9 });
    expect(bomb.length).toBeLessThan(20_000);
    for (const auth of [alice.auth, {}]) {
      const res = await t
        .http()
        .post(`/v2/datasets/${datasetId}/items`)
        .set(auth)
        .set('content-type', 'application/json')
        .set('content-encoding', 'gzip')
        .serialize((body: Buffer) => body as unknown as string)
        .send(bomb)
        .expect(400);
      expect(res.body.error.message).toContain('more than 500,000 objects and arrays');
    }
    expect(await itemCount()).toBe(1);
  });

  it('refuses a compressed body that expands past the limit (no zip bombs)', async () => {
    const bomb = brotliCompressSync(Buffer.from(JSON.stringify({ blob: 'a'.repeat(20 * 1024 * 1024) })));
    expect(bomb.length).toBeLessThan(100_000);
    const bombRes = await t
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(alice.auth)
      .set('content-type', 'application/json')
      .set('content-encoding', 'br')
      .serialize((body: Buffer) => body as unknown as string)
      .send(bomb);
    expect(bombRes.status).toBe(413);
    expect(bombRes.body.error.type).toBe('payload-too-large');
    expect(await itemCount()).toBe(1);
  });

  it('writes all items of a push or none', async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ i }));
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(alice.auth)
      .send([...items, 'not an object'])
      .expect(400);
    expect(await itemCount()).toBe(1);
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    await t.http().get('/health/live').expect(200);
    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.services).toEqual({ identity: 'up', resources: 'up', permissions: 'up', issues: 'up' });
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toContain('atrium_http_request_duration_seconds');
    const ui = await t.http().get('/docs').expect(200);
    expect(ui.headers['content-type']).toMatch(/^text\/html/);
    expect(ui.text).toContain('/docs/swagger-ui-bundle.js');
    await t.http().get('/docs/swagger-ui-bundle.js').expect(200);
    const docs = await t.http().get('/docs/openapi.json').expect(200);
    expect(docs.body.openapi).toBe('3.1.0');
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/v2/datasets/{datasetId}', '/v2/auth/signup']),
    );
  });

  it('answers 503 on resource routes while the permissions service is down, never 200', async () => {
    await t.stack.stopService('permissions');
    try {
      // The gateway stops serving cached decisions once the permissions heartbeat fails (≤ ~1 s).
      await new Promise((r) => setTimeout(r, 2500));
      const started = Date.now();
      const res = await t.http().get(`/v2/datasets/${datasetId}`).set(alice.auth);
      expect(res.status).toBe(503);
      expect(res.body.error.type).toBe('service-unavailable');
      expect(Date.now() - started).toBeLessThan(5000);
      await t.http().get(`/v2/datasets/${datasetId}`).expect(503);
      await t
        .http()
        .post(`/v2/datasets/${datasetId}/items`)
        .set(alice.auth)
        .send({ sneaky: true })
        .expect(503);
      const ready = await t.http().get('/health/ready').expect(503);
      expect(ready.body.services.permissions).toBe('down');
    } finally {
      await t.stack.startService('permissions');
    }
    await t.http().get(`/v2/datasets/${datasetId}`).set(alice.auth).expect(200);
    expect(await itemCount()).toBe(1);
  });
});
