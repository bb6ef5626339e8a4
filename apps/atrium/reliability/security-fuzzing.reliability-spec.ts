import fc from 'fast-check';
import { Client } from 'pg';
import { startTestStack, TestStack } from '../test/test-stack';
import { readRouteTable, Route } from './route-table';
import { buildFixtures, Fixtures, instantiate, RouteInstance } from './security-fixtures';

/**
 * Issue 8, item 17: random and hostile bodies, parameters and headers on every route of the
 * gateway's route table. No 5xx, no hang, and a rejected request leaves no trace in the database.
 */

const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS_PER_ROUTE ?? 24);
const REQUEST_TIMEOUT_MS = 5000;

/** Strings that have broken parsers, routers, ORMs and template engines before. */
const HOSTILE = [
  '',
  ' ',
  '.',
  '..',
  '../../etc/passwd',
  '%2e%2e%2f',
  '%00',
  '\u0000',
  '~',
  'a~b',
  '~~~',
  '-1',
  '0',
  '1e309',
  'NaN',
  'Infinity',
  '9007199254740993',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  "' OR '1'='1",
  '"; DROP TABLE user_account; --',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '\u202e\u0301𝕏🙂',
  '\ud800',
  'a'.repeat(300),
  'a'.repeat(20_000),
];
const QUERY_KEYS = [
  'offset',
  'limit',
  'desc',
  'fields',
  'omit',
  'clean',
  'name',
  'ownership',
  'token',
  'signature',
  'version',
  'status',
  'format',
  'build',
  'timeout',
  'memory',
  'unwind',
  'resourceId',
  'permission',
  'userId',
  'from',
  'to',
  'exclusiveStartKey',
  'prefix',
  'forefront',
  '__proto__',
  'constructor',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'image/png',
  '*/*',
  'application/json, text/plain',
  ';;;',
];

/** Percent-encoded; a lone surrogate (not encodable) becomes the invalid UTF-8 it would be. */
const enc = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
  }
};

const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string(),
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.integer().map(String),
  fc.double().map(String),
);
const headerValue = fc.oneof(
  fc.constantFrom(...HOSTILE.filter((s) => /^[\x20-\x7e]*$/.test(s))),
  fc.string(),
);
/** JSON an attacker would send: anything, deep nesting, prototype keys, huge and odd numbers. */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(
    fc.constantFrom('name', 'user', 'permissions', 'scope', 'data', 'title', 'url', 'id'),
    hostileString,
  ),
  fc.constant(JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}')),
  fc.integer({ min: 100, max: 3000 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
  fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER + 2, 0.1 + 0.2),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 300 }),
  fc.string({ maxLength: 2000 }),
);

interface FuzzRequest {
  /** A path parameter replaced by a hostile value (null: the fixture's). */
  param: { index: number; value: string } | null;
  query: [string, string][];
  headers: Record<string, string>;
  auth: 'owner' | 'anonymous' | 'other' | 'garbage';
  body:
    | { kind: 'none' }
    | { kind: 'json'; value: unknown }
    | { kind: 'text'; value: string; contentType: string }
    | { kind: 'bytes'; value: Uint8Array; contentType: string };
}

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  param: fc.option(fc.record({ index: fc.nat(3), value: hostileString.map(enc) }), {
    freq: 2,
  }),
  query: fc.array(
    fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 10 })), hostileString),
    {
      maxLength: 5,
    },
  ),
  headers: fc.record(
    {
      'content-type': fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerValue),
      'content-encoding': fc.oneof(
        { weight: 4, arbitrary: fc.constant('identity') },
        { weight: 1, arbitrary: fc.constantFrom('gzip', 'br', 'deflate', 'compress', 'x') },
      ),
      'x-account-id': headerValue,
      accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml'),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', '::1', 'garbage'),
    },
    { requiredKeys: [] },
  ),
  auth: fc.constantFrom('owner', 'owner', 'owner', 'anonymous', 'other', 'garbage'),
  body: fc.oneof(
    fc.constant({ kind: 'none' as const }),
    hostileJson.map((value) => ({ kind: 'json' as const, value })),
    fc.record({
      kind: fc.constant('text' as const),
      value: fc.oneof(
        fc.string(),
        fc.constantFrom('{"a":', '{"a":1}}', '[1,]', 'nul', '\u0000{}', '{"a":1e99999}'),
      ),
      contentType: fc.constantFrom(...CONTENT_TYPES),
    }),
    fc.record({
      kind: fc.constant('bytes' as const),
      value: fc.uint8Array({ maxLength: 512 }),
      contentType: fc.constantFrom(...CONTENT_TYPES),
    }),
  ),
});

/** Tables whose rows a rejected request may legitimately add or touch, each with why. */
const LOGGED_ON_REJECTION: Record<string, string> = {
  'identity.auth_failure': 'failed logins are counted (per-account brute-force limit)',
  'identity.rate_limit_window': 'attempts on the auth routes are counted per address, refused or not',
  'permissions.audit_entry': 'denials are audited',
  'permissions.account_projection': "a read-through cache of identity's facts, filled on a miss",
  'permissions.membership_projection': "a read-through cache of identity's facts, filled on a miss",
  'permissions.resource_projection': "a read-through cache of resources' facts, filled on a miss",
  'permissions.rpc_idempotency':
    "a write request's authorization check fills those caches in a keyed transaction, recorded under its key",
};
/** Columns that reads update (last use, last access): not a change of the data. */
const VOLATILE_COLUMNS = ['accessed_at', 'last_used_at', 'updated_at', 'modified_at', 'sent_at', 'attempts'];

describe('security: fuzzing every route (item 17)', () => {
  let t: TestStack;
  let f: Fixtures;
  let db: Client;
  let fingerprintSql: string;
  let targets: RouteInstance[];

  beforeAll(async () => {
    t = await startTestStack();
    f = await buildFixtures(t, { expiredGrants: false });
    db = new Client({ connectionString: t.db.url });
    await db.connect();
    // Each row as its columns' text, volatile ones left out. Not through jsonb: a `json` value
    // holding an escape jsonb refuses ("\u0000", an unpaired surrogate) cannot be converted.
    const columns = await db.query<{ table_schema: string; table_name: string; column_name: string }>(
      `SELECT c.table_schema, c.table_name, c.column_name
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
          AND c.table_name NOT LIKE '%migrations%' AND c.table_name NOT IN ('outbox_message', 'processed_message')
        ORDER BY 1, 2, c.ordinal_position`,
    );
    const skipped = new Set(Object.keys(LOGGED_ON_REJECTION));
    const tables = new Map<string, string[]>();
    for (const c of columns.rows) {
      const table = `"${c.table_schema}"."${c.table_name}"`;
      if (skipped.has(`${c.table_schema}.${c.table_name}`)) continue;
      if (!tables.has(table)) tables.set(table, []);
      if (!VOLATILE_COLUMNS.includes(c.column_name)) tables.get(table)!.push(`x."${c.column_name}"`);
    }
    fingerprintSql = [...tables]
      .map(([table, kept]) => {
        const row = `ROW(${kept.join(', ') || 'NULL'})::text`;
        return `SELECT '${table.replace(/"/g, '')}' AS t, count(*) AS n, md5(coalesce(string_agg(${row}, ',' ORDER BY ${row}), '')) AS h FROM ${table} x`;
      })
      .join(' UNION ALL ');
    // One instance per route, on the personal fixtures where they apply; destructive last.
    const rank = (r: Route) =>
      r.method !== 'DELETE' ? 0 : r.path === '/v2/organizations/:orgId' ? 99 : 50 - r.params.length;
    targets = readRouteTable(t.stack.gateway)
      .sort((a, b) => rank(a) - rank(b))
      .map((r) => instantiate(r, f.personal)[0] ?? instantiate(r, f.org)[0] ?? unparameterized(r));
  }, 90_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  /** Routes no fixture set aims at (public profiles): every parameter names alice. */
  const unparameterized = (route: Route): RouteInstance => ({
    route,
    set: f.personal,
    path: route.path.replace(/:\w+/g, f.alice.id),
  });

  const fingerprint = async () => {
    const rows = await db.query<{ t: string; n: string; h: string }>(fingerprintSql);
    return new Map(rows.rows.map((r) => [r.t, `${r.n}:${r.h}`]));
  };

  /** Waits out the asynchronous effects (events) of accepted writes: two equal fingerprints in a row. */
  const settled = async () => {
    let last = await fingerprint();
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const next = await fingerprint();
      if ([...next].every(([k, v]) => last.get(k) === v)) return next;
      last = next;
    }
    return last;
  };

  const send = async (target: RouteInstance, req: FuzzRequest) => {
    let path = target.path;
    if (req.param && target.route.params.length) {
      const segments = target.route.path.split('/');
      const paramSegments = segments.flatMap((s, i) => (s.startsWith(':') ? [i] : []));
      const index = paramSegments[req.param.index % paramSegments.length];
      const actual = path.split('/');
      actual[index] = req.param.value || '%20';
      path = actual.join('/');
    }
    const agent = t.http();
    const method = target.route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    const query = req.query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
    let r = agent[method](query ? `${path}?${query}` : path).timeout(REQUEST_TIMEOUT_MS);
    const auth = {
      owner: target.set.ownerHeaders.authorization,
      anonymous: undefined,
      other: f.bob.auth.authorization,
      garbage: 'Bearer atrium_api_garbage',
    }[req.auth];
    if (auth) r = r.set('authorization', auth);
    for (const [k, v] of Object.entries(req.headers)) r = r.set(k, v);
    if (req.body.kind === 'json')
      r = r.set('content-type', 'application/json').send(JSON.stringify(req.body.value));
    else if (req.body.kind === 'text') r = r.set('content-type', req.body.contentType).send(req.body.value);
    else if (req.body.kind === 'bytes')
      r = r.set('content-type', req.body.contentType).send(Buffer.from(req.body.value));
    const started = Date.now();
    try {
      const res = await r;
      // A body superagent does not read as text (a record's own content type) is named by its type.
      const text = typeof res.text === 'string' ? res.text : `(${String(res.headers['content-type'])} body)`;
      return { status: res.status, ms: Date.now() - started, text, path };
    } catch (err) {
      const e = err as { timeout?: number; code?: string; message: string };
      return { status: e.timeout ? -1 : 0, ms: Date.now() - started, text: e.code ?? e.message, path };
    }
  };

  it(`sends ${RUNS_PER_ROUTE} random and hostile requests to every route: no 5xx, no hang, nothing kept from a rejection`, async () => {
    const failures: string[] = [];
    let requests = 0;
    let rejected = 0;
    let comparedRoutes = 0;
    const statuses = new Map<number, number>();
    const started = Date.now();
    let before = await settled();
    for (const target of targets) {
      const label = `${target.route.method} ${target.route.path}`;
      let accepted = 0;
      await fc
        .assert(
          fc.asyncProperty(fuzzRequest, async (req) => {
            const res = await send(target, req);
            requests++;
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status < 400) accepted++;
            else rejected++;
            if (res.status >= 500 || res.status <= 0)
              throw new Error(`${res.path} → ${res.status} after ${res.ms} ms: ${res.text.slice(0, 200)}`);
          }),
          { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
        )
        .catch((err: Error) => failures.push(`${label}: ${err.message.split('\n').slice(0, 6).join(' | ')}`));
      if (accepted === 0) {
        comparedRoutes++;
        const after = await fingerprint();
        const changed = [...after]
          .filter(([table, value]) => before.get(table) !== value)
          .map(([table]) => table);
        if (changed.length)
          failures.push(`${label}: every request was rejected, yet ${changed.join(', ')} changed`);
        before = after;
      } else before = target.route.method === 'GET' ? await fingerprint() : await settled();
    }
    // Nothing leaked into this process's prototypes (the gateway runs in it).
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(failures).toEqual([]);
    expect(targets.length).toBe(readRouteTable(t.stack.gateway).length);
    // And the stack still serves.
    expect((await t.http().get('/health/ready')).status).toBe(200);
    console.log(
      `[security:17] fuzzing: ${targets.length} routes, ${requests} requests (${rejected} rejected) in ${Math.round((Date.now() - started) / 1000)} s; ` +
        `${comparedRoutes} routes rejected everything and changed nothing; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  }, 240_000);
});
