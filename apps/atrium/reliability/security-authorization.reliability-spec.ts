import { startTestStack, TestStack } from '../test/test-stack';
import { readRouteTable, Route, routesOutsideNest } from './route-table';
import {
  call,
  CallResult,
  buildFixtures,
  Fixtures,
  FixtureSet,
  instantiate,
  namesRun,
  RouteInstance,
  withUnknownId,
} from './security-fixtures';

/**
 * Issue 8, items 9, 10 and 13 (second half): the authorization matrix over the gateway's own
 * route table, function-level authorization, and unknown vs forbidden ids.
 */

/** Id-taking routes left out of the matrix, each with why. */
const NOT_IN_MATRIX: Record<string, string> = {
  'GET /v2/users/:userIdOrUsername': 'public profiles (id and username) are readable by anyone by design',
};
/** Routes outside Nest (so outside its guards) that may exist: the API reference (UI, its files, document). */
const OUTSIDE_NEST = [
  // The web console's hashed files, /assets/* (Fastify prints a wildcard route as `*`); its page
  // answers browsers' navigations that no route takes (http/console.ts), as no route of its own.
  '*',
  '/docs',
  '/docs/openapi.json',
  '/docs/swagger-initializer.js',
  '/docs/swagger-ui-bundle.js',
  '/docs/swagger-ui-standalone-preset.js',
  '/docs/swagger-ui.css',
];

/**
 * Instances even the owner is refused: environments and groups are shared through account
 * collaboration, and MANAGE_ACCESS (which the access routes need) is no environment operation.
 */
const OWNER_FORBIDDEN = /^personal \/v2\/environment(-group)?s\/\w+\/access/;

type Expectation = number[] | 'allowed';

interface Attacker {
  name: string;
  headers(set: FixtureSet): Record<string, string>;
  /** The statuses this principal must get, 'allowed' where it legitimately may act, null to skip. */
  expect(instance: RouteInstance): Expectation | null;
}

const pwned = 'pwned';
/**
 * Bodies that would change something if the route let them through: valid ones, so that a
 * route checking permissions after validating its body is tested on its permission check.
 */
function hostileBody(route: Route, f: Fixtures): unknown {
  const attacker = f.bob.username;
  const key = `${route.method} ${route.path}`;
  const bodies: Record<string, unknown> = {
    'PUT /v2/organizations/:orgId': { settings: { generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ' } },
    'POST /v2/organizations/:orgId/invitations': { user: attacker, roleId: f.org.ids.ownerRoleId },
    'PUT /v2/organizations/:orgId/members/:userId': { roleId: f.org.ids.ownerRoleId },
    'POST /v2/organizations/:orgId/roles': { name: pwned, permissions: { STORAGE: ['READ', 'WRITE'] } },
    'PUT /v2/organizations/:orgId/roles/:roleId': { permissions: { STORAGE: ['READ', 'WRITE'] } },
    'POST /v2/organizations/:orgId/tokens': { name: pwned },
    'PUT /v2/organizations/:orgId/limits': { storageBytes: 1 },
    'PUT /v2/collaboration/members/:memberId': { displayName: pwned },
    'PUT /v2/collaboration/policies/:policyId': { name: pwned },
    'PUT /v2/collaboration/roles/:roleId': { name: pwned },
    'PUT /v2/webhooks/:webhookId': { requestUrl: `http://192.0.2.66/${pwned}` },
    'PATCH /v2/actor-issues/:issueId': { status: 'CLOSED' },
    'PUT /v2/actor-tasks/:actorTaskId': { title: pwned },
    'PUT /v2/actors/:actorId': { title: pwned },
    'PUT /v2/acts/:actorId': { title: pwned },
    'PUT /v2/schedules/:scheduleId': { isEnabled: true },
    'PUT /v2/actor-runs/:runId': { statusMessage: pwned },
    // A lease nobody was given: the run's lease routes answer who holds none as they answer an outsider.
    'POST /v2/actor-runs/:runId/lease': { leaseId: '00000000-0000-4000-8000-000000000000' },
    'POST /v2/actor-runs/:runId/finish': {
      leaseId: '00000000-0000-4000-8000-000000000000',
      status: 'SUCCEEDED',
    },
    'PUT /v2/acts/:actorId/runs/last': { statusMessage: pwned },
    'PUT /v2/actors/:actorId/runs/last': { statusMessage: pwned },
    'PUT /v2/actor-tasks/:actorTaskId/runs/last': { statusMessage: pwned },
    'PUT /v2/actor-builds/:buildId': { generalAccess: 'ANYONE_WITH_ID_CAN_READ' },
    'PUT /v2/apps/:appId': { name: pwned },
    'PUT /v2/environments/:envId': { name: pwned },
    'PUT /v2/environment-groups/:groupId': { name: pwned },
  };
  if (key in bodies) return bodies[key];
  if (key.endsWith('/access/grants'))
    return { user: attacker, permissions: ['READ', 'WRITE', 'MANAGE_ACCESS'] };
  if (key.endsWith('/access/grants/:grantId')) return { permissions: ['READ', 'WRITE', 'MANAGE_ACCESS'] };
  if (key.endsWith('/collaborators')) return { user: attacker, scopes: ['Input', 'Collaborator'] };
  if (key.endsWith('/collaborators/:collaboratorId')) return { scopes: ['Input', 'Collaborator'] };
  if (/\/items$|\/runs$/.test(key)) return [{ [pwned]: true }];
  if (key.endsWith('/input') || key.endsWith('/records/:recordKey')) return { [pwned]: true };
  if (key.endsWith('/requests')) return { url: 'https://evil.example/', uniqueKey: pwned };
  if (key.endsWith('/inputs') || key.includes('/inputs/:itemId')) return { data: { text: pwned } };
  if (key.endsWith('/comments') || key.includes('/comments/:commentId')) return { text: pwned };
  // A change of value, not of name: the variable stays where the routes after it look for it.
  if (key.endsWith('/env-vars/:envVarName')) return { value: pwned };
  if (route.method === 'PUT') return { name: pwned };
  return {};
}

/** What the principal holds on a type, if anything (permission names; READ is implied by any). */
type Holdings = (instance: RouteInstance) => string[];

function attackers(f: Fixtures): Attacker[] {
  const kind = (i: RouteInstance) => i.route.rule!.kind;
  const accountHeader = (set: FixtureSet) => ({ 'x-account-id': set.accountId });
  const outsider = (i: RouteInstance): Expectation | null => {
    switch (kind(i)) {
      case 'resource':
        return [404];
      case 'in-account':
        return [403];
      case 'signed-in':
        return [403, 404];
      // A webhook or dispatch belongs to the account that made it: anyone else is told of none.
      case 'any-credential':
        return [404];
      case 'public':
        return [404];
    }
  };
  /** A principal that may read some resources: 403 on what it may read but not do, else an outsider. */
  const lesser = (held: Holdings, sets: FixtureSet[]) => (i: RouteInstance) => {
    if (!sets.includes(i.set)) return null;
    const rule = i.route.rule!;
    if (rule.kind !== 'resource') return null;
    // The last run is the caller's own: a principal that started none has nothing there.
    if (i.route.path.includes('/runs/last')) return [404];
    const permissions = held(i);
    if (permissions.includes(rule.permission)) return 'allowed';
    return permissions.length ? [403] : [404];
  };
  const grantable = (i: RouteInstance) =>
    !!i.type && !['APP', 'ENVIRONMENT', 'ENVIRONMENT_GROUP'].includes(i.type);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return [
    {
      name: 'anonymous',
      headers: accountHeader,
      expect: (i) =>
        ({
          resource: [401, 404],
          'in-account': [401],
          'signed-in': [401],
          'any-credential': [401],
          public: [404],
        })[kind(i)],
    },
    {
      name: 'revoked API token',
      headers: (s) => ({ ...accountHeader(s), ...bearer(f.revokedToken) }),
      expect: () => [401],
    },
    { name: 'another user', headers: (s) => ({ ...accountHeader(s), ...f.bob.auth }), expect: outsider },
    { name: 'expired grant', headers: (s) => ({ ...accountHeader(s), ...f.erin.auth }), expect: outsider },
    {
      name: 'token scoped to another resource',
      headers: (s) => ({ ...accountHeader(s), ...bearer(f.scopedToken) }),
      expect: (i) => (kind(i) === 'signed-in' ? [403] : outsider(i)),
    },
    {
      name: 'READ grantee / app collaborator (Inputs:Get)',
      headers: () => f.dave.auth,
      expect: lesser(
        (i) => (i.type === 'APP' ? ['READ', 'Inputs:Get'] : grantable(i) ? ['READ'] : []),
        [f.personal, f.org],
      ),
    },
    {
      name: 'organization member (Read only)',
      headers: (s) => ({ ...accountHeader(s), ...f.rita.auth }),
      expect: (i) => {
        if (i.set !== f.org) return null;
        const rule = i.route.rule!;
        if (rule.kind === 'in-account') return rule.permission === 'CREATE' ? [403] : 'allowed';
        return lesser(() => ['READ'], [f.org])(i);
      },
    },
    {
      name: 'collaboration member (View on ENVIRONMENTS)',
      headers: () => f.victor.auth,
      expect: lesser((i) => (i.type?.startsWith('ENVIRONMENT') ? ['READ'] : []), [f.personal]),
    },
  ];
}

/** A response reduced to what must not change: volatile fields (times, signed URLs, usage) dropped. */
const VOLATILE = /^(accessedAt|modifiedAt|lastUsedAt|itemsPublicUrl|keysPublicUrl|stats|usage|.*PublicUrl)$/;
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !VOLATILE.test(k))
        .map(([k, v]) => [k, normalize(v)]),
    );
  return value;
}
const snapshotOf = (res: CallResult) => ({
  status: res.status,
  body: normalize(res.headers['content-type']?.includes('json') ? res.body : res.text),
});

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Headers that legitimately differ between two otherwise identical responses. */
const PER_RESPONSE_HEADERS = new Set(['date', 'x-request-id', 'request-id', 'connection', 'keep-alive']);

describe('security: authorization over every route (items 9, 10, 13)', () => {
  let t: TestStack;
  let f: Fixtures;
  let routes: Route[];
  let instances: RouteInstance[];

  beforeAll(async () => {
    t = await startTestStack();
    routes = readRouteTable(t.stack.gateway);
    f = await buildFixtures(t);
    instances = routes.flatMap((r) => [...instantiate(r, f.personal), ...instantiate(r, f.org)]);
  }, 90_000);
  afterAll(() => t.close());

  const snapshot = async () => {
    const reads = instances.filter(
      (i) => i.route.method === 'GET' && (i.route.params.length || i.route.rule?.kind === 'in-account'),
    );
    const out = new Map<string, unknown>();
    await inParallel(reads, 6, async (i) => {
      out.set(
        `${i.set.label} ${i.path}`,
        snapshotOf(await call(t, 'GET', i.path, { headers: i.set.ownerHeaders })),
      );
    });
    return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
  };

  it('has an authorization rule on every route, and no route outside Nest but the OpenAPI document', () => {
    const unguarded = routes.filter((r) => !r.rule).map((r) => `${r.method} ${r.path}`);
    expect(unguarded).toEqual([]);
    expect(routesOutsideNest(t.stack.gateway, routes).sort()).toEqual(OUTSIDE_NEST);
    // Every id-taking route is aimed at by the matrix (or excluded above, with its reason).
    const uncovered = routes
      .filter((r) => r.params.length && !instances.some((i) => i.route === r))
      .map((r) => `${r.method} ${r.path}`)
      .filter((key) => !NOT_IN_MATRIX[key]);
    expect(uncovered).toEqual([]);
  });

  it('denies every other principal on every route that takes an id, and nothing changes', async () => {
    const before = await snapshot();
    // The owner reads every fixture: the ids the matrix uses are real.
    const unreadable = [...before].filter(
      ([key, s]) => (s as { status: number }).status !== (OWNER_FORBIDDEN.test(key) ? 403 : 200),
    );
    expect(unreadable).toEqual([]);

    const failures: string[] = [];
    const tally = new Map<string, number>();
    let requests = 0;
    const covered = new Set<Route>();
    const cases = attackers(f).flatMap((a) =>
      instances
        .filter((i) => i.route.params.length || a.name === 'anonymous' || a.name.startsWith('revoked'))
        .filter((i) => i.route.rule?.kind !== 'public' || i.route.params.length)
        .map((i) => ({ a, i, expected: a.expect(i) })),
    );
    await inParallel(cases, 6, async ({ a, i, expected }) => {
      if (!expected || expected === 'allowed') return;
      const res = await call(t, i.route.method, i.path, {
        headers: a.headers(i.set),
        body: i.route.method === 'GET' ? undefined : hostileBody(i.route, f),
      });
      requests++;
      covered.add(i.route);
      tally.set(a.name, (tally.get(a.name) ?? 0) + 1);
      if (!expected.includes(res.status))
        failures.push(
          `${a.name}: ${i.route.method} ${i.path} → ${res.status} (expected ${expected.join('/')}) ${res.text.slice(0, 160)}`,
        );
    });
    expect(failures).toEqual([]);
    // Every kind of principal was tried, on most routes.
    expect([...tally.keys()].sort()).toEqual(
      attackers(f)
        .map((a) => a.name)
        .sort(),
    );
    const after = await snapshot();
    const changed = [...before.keys()].filter(
      (k) => JSON.stringify(before.get(k)) !== JSON.stringify(after.get(k)),
    );
    expect(changed.map((k) => ({ k, before: before.get(k), after: after.get(k) }))).toEqual([]);
    console.log(
      `[security:9] authorization matrix: ${covered.size} routes (${instances.length} instances), ${requests} denied requests; per principal ${JSON.stringify(Object.fromEntries(tally))}`,
    );
  }, 120_000);

  it('gives an unknown id and a forbidden id byte-identical responses (item 13)', async () => {
    const resourceInstances = instances.filter((i) => i.route.rule?.kind === 'resource');
    const differences: string[] = [];
    let pairs = 0;
    const headersOf = (res: CallResult) =>
      Object.fromEntries(Object.entries(res.headers).filter(([k]) => !PER_RESPONSE_HEADERS.has(k)));
    await inParallel(
      resourceInstances.flatMap((i) => [
        { i, headers: f.bob.auth },
        { i, headers: {} },
      ]),
      6,
      async ({ i, headers }) => {
        const body = i.route.method === 'GET' ? undefined : hostileBody(i.route, f);
        const forbidden = await call(t, i.route.method, i.path, { headers, body });
        const unknown = await call(t, i.route.method, withUnknownId(i), { headers, body });
        pairs++;
        const a = { status: forbidden.status, body: forbidden.text, headers: headersOf(forbidden) };
        const b = { status: unknown.status, body: unknown.text, headers: headersOf(unknown) };
        if (JSON.stringify(a) !== JSON.stringify(b))
          differences.push(`${i.route.method} ${i.path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      },
    );
    expect(differences).toEqual([]);
    expect(pairs).toBeGreaterThan(250);
    console.log(
      `[security:13] unknown vs forbidden ids: ${pairs} pairs of responses compared, all identical`,
    );
  }, 120_000);

  describe('function-level authorization (item 10)', () => {
    const denied = async (
      who: { auth: Record<string, string> },
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      path: string,
      statuses: number[],
      body?: unknown,
    ) => {
      const res = await call(t, method, path, { headers: who.auth, body });
      return statuses.includes(res.status)
        ? null
        : `${method} ${path} → ${res.status} ${res.text.slice(0, 120)}`;
    };
    const failuresOf = async (checks: Promise<string | null>[]) =>
      (await Promise.all(checks)).filter(Boolean);

    it('a read-only grantee cannot write, delete, administer access or rotate keys (GET → PUT/DELETE swaps)', async () => {
      const set = f.personal;
      const failures: (string | null)[] = [];
      let checked = 0;
      for (const [collection, { resourceId, grantId }] of Object.entries(set.collections)) {
        if (!grantId) continue;
        const base = `/v2/${collection}/${resourceId}`;
        expect((await call(t, 'GET', base, { headers: f.dave.auth })).status).toBe(200);
        // A method the collection serves is refused (403: dave may read); one it lacks is not served.
        const served = (method: string) =>
          routes.some(
            (r) =>
              r.method === method && r.path === `/v2/${collection}/:${r.params[0]}` && r.params.length === 1,
          )
            ? [403]
            : [404];
        const checks = [
          denied(f.dave, 'PUT', base, served('PUT'), { name: 'pwned', title: 'pwned' }),
          denied(f.dave, 'DELETE', base, served('DELETE')),
          denied(f.dave, 'GET', `${base}/access`, [403]),
          denied(f.dave, 'POST', `${base}/access/grants`, [403], {
            user: f.bob.username,
            permissions: ['READ'],
          }),
          denied(f.dave, 'PUT', `${base}/access/grants/${grantId}`, [403], { permissions: ['WRITE'] }),
          denied(f.dave, 'DELETE', `${base}/access/grants/${grantId}`, [403]),
          denied(f.dave, 'POST', `${base}/access/signing-key/rotate`, [403]),
          // Methods no route has: never served.
          denied(f.dave, 'PATCH', base, [404, 405], { name: 'pwned' }),
        ];
        checked += checks.length;
        failures.push(...(await failuresOf(checks)));
        const access = await call(t, 'GET', `${base}/access`, { headers: set.ownerHeaders });
        const grants = (access.body as { data: { grants: { id: string; permissions: string[] }[] } }).data
          .grants;
        expect(grants.find((g) => g.id === grantId)?.permissions).toEqual(['READ']);
      }
      expect(failures).toEqual([]);
      // Eight checks on each of the nine collections with grants (acts and actors counted apart).
      expect(checked).toBe(8 * 9);
    });

    it('a Read only member and an outsider cannot administer the organization (roles, members, invitations, tokens, limits)', async () => {
      const org = `/v2/organizations/${f.org.ids.orgId}`;
      const before = await Promise.all(
        ['', '/members', '/roles', '/tokens', '/invitations'].map(
          async (p) => (await call(t, 'GET', `${org}${p}`, { headers: f.alice.auth })).text,
        ),
      );
      // The member sees the organization…
      expect((await call(t, 'GET', org, { headers: f.rita.auth })).status).toBe(200);
      expect((await call(t, 'GET', `${org}/members`, { headers: f.rita.auth })).status).toBe(200);
      const admin: ['GET' | 'POST' | 'PUT' | 'DELETE', string, unknown?][] = [
        ['PUT', org, { settings: { generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ' } }],
        ['DELETE', org],
        ['POST', `${org}/roles`, { name: 'pwned', permissions: { STORAGE: ['READ', 'WRITE'] } }],
        ['PUT', `${org}/roles/${f.org.ids.roleId}`, { permissions: { STORAGE: ['READ', 'WRITE'] } }],
        ['DELETE', `${org}/roles/${f.org.ids.roleId}`],
        ['PUT', `${org}/members/${f.rita.id}`, { roleId: f.org.ids.ownerRoleId }],
        ['DELETE', `${org}/members/${f.alice.id}`],
        ['POST', `${org}/invitations`, { user: f.bob.username, roleId: f.org.ids.ownerRoleId }],
        ['GET', `${org}/tokens`],
        ['POST', `${org}/tokens`, { name: 'pwned' }],
        ['DELETE', `${org}/tokens/${f.org.ids.tokenId}`],
        ['PUT', `${org}/limits`, { storageBytes: 1 }],
        ['GET', `${org}/usage`],
      ];
      const failures = await failuresOf([
        // …but may change nothing in it: 403; an outsider does not even learn it exists: 404.
        ...admin.map(([m, p, b]) => denied(f.rita, m, p, [403], b)),
        ...admin.map(([m, p, b]) => denied(f.bob, m, p, [404], b)),
      ]);
      expect(failures).toEqual([]);
      const after = await Promise.all(
        ['', '/members', '/roles', '/tokens', '/invitations'].map(
          async (p) => (await call(t, 'GET', `${org}${p}`, { headers: f.alice.auth })).text,
        ),
      );
      expect(after).toEqual(before);
    });

    it("a collaboration member and an outsider cannot administer the primary's collaboration", async () => {
      const { memberId, policyId, roleId } = f.personal.ids;
      const before = (
        await call(t, 'GET', `/v2/collaboration/members/${memberId}`, { headers: f.alice.auth })
      ).text;
      const admin: ['GET' | 'POST' | 'PUT' | 'DELETE', string, unknown?][] = [
        ['GET', `/v2/collaboration/members/${memberId}`],
        ['PUT', `/v2/collaboration/members/${memberId}`, { displayName: 'pwned' }],
        ['DELETE', `/v2/collaboration/members/${memberId}`],
        ['POST', `/v2/collaboration/members/${memberId}/suspend`],
        ['POST', `/v2/collaboration/members/${memberId}/activate`],
        ['POST', `/v2/collaboration/members/${memberId}/reinvite`],
        ['PUT', `/v2/collaboration/policies/${policyId}`, { permissions: ['START_STOP', 'DELETE'] }],
        ['DELETE', `/v2/collaboration/policies/${policyId}`],
        ['PUT', `/v2/collaboration/roles/${roleId}`, { name: 'pwned' }],
        ['DELETE', `/v2/collaboration/roles/${roleId}`],
      ];
      const failures = await failuresOf(
        [f.victor, f.bob].flatMap((who) => admin.map(([m, p, b]) => denied(who, m, p, [403, 404], b))),
      );
      expect(failures).toEqual([]);
      // The member still sees what it was shared (the suspension attempts changed nothing).
      expect(
        (await call(t, 'GET', `/v2/environments/${f.personal.ids.envId}`, { headers: f.victor.auth })).status,
      ).toBe(200);
      expect(
        (await call(t, 'GET', `/v2/collaboration/members/${memberId}`, { headers: f.alice.auth })).text,
      ).toBe(before);
    });

    it('an app collaborator with Inputs:Get cannot manage collaborators, nor widen its own scopes', async () => {
      const app = `/v2/apps/${f.personal.ids.appId}`;
      const collaborator = `${app}/collaborators/${f.personal.ids.collaboratorId}`;
      const before = (await call(t, 'GET', `${app}/collaborators`, { headers: f.alice.auth })).text;
      expect((await call(t, 'GET', `${app}/inputs`, { headers: f.dave.auth })).status).toBe(200);
      const failures = await failuresOf([
        denied(f.dave, 'GET', `${app}/collaborators`, [403]),
        denied(f.dave, 'POST', `${app}/collaborators`, [403], { user: f.bob.username, scopes: ['Input'] }),
        denied(f.dave, 'PATCH', collaborator, [403], { scopes: ['Input', 'Collaborator', 'Model'] }),
        denied(f.dave, 'DELETE', collaborator, [403]),
        denied(f.dave, 'POST', `${app}/inputs`, [403], { data: { text: 'pwned' } }),
        denied(f.dave, 'DELETE', `${app}/inputs/${f.personal.appItems.inputs}`, [403]),
        denied(f.dave, 'PUT', app, [403], { name: 'pwned' }),
        denied(f.dave, 'DELETE', app, [403]),
        denied(f.bob, 'GET', `${app}/collaborators`, [404]),
      ]);
      expect(failures).toEqual([]);
      expect((await call(t, 'GET', `${app}/collaborators`, { headers: f.alice.auth })).text).toBe(before);
    });
  });

  it('lets the rightful user through every instance the matrix denied others (the fixtures are real)', async () => {
    // Last, as it writes: deletes run deepest first, the organization itself at the very end.
    // What names the fixture run (by id or as the last run) is deleted before new runs are started
    // (which would become the last run), and those before their Actors and tasks are deleted.
    const startsRun = (i: RouteInstance) => i.route.method === 'POST' && /\/runs$/.test(i.route.path);
    const rank = (i: RouteInstance) =>
      i.route.method !== 'DELETE'
        ? startsRun(i)
          ? 2
          : 0
        : i.route.path === '/v2/organizations/:orgId'
          ? 99
          : namesRun(i.route) || i.route.params.includes('runId')
            ? 1 + (20 - depth(i)) / 100
            : 50 - depth(i);
    const depth = (i: RouteInstance) => i.path.split('/').length;
    // `acts` and `actors` are one collection, and a run by id and the last run of its Actor or task
    // are one run (security-fixtures.ts): act on each resource once.
    const seen = new Set<string>();
    const ordered = [...instances]
      .filter((i) => i.route.rule?.kind !== 'public')
      .filter((i) => {
        const run = namesRun(i.route) || i.route.params.includes('runId');
        const path = run
          ? i.path.replace(
              /^\/v2\/(actor-runs\/\w+|acts\/\w+\/runs\/last|actors\/\w+\/runs\/last|actor-tasks\/\w+\/runs\/last)/,
              '/v2/<run>',
            )
          : i.path.replace('/v2/acts/', '/v2/actors/');
        const key = `${i.set.label} ${i.route.method} ${path}`;
        return !seen.has(key) && !!seen.add(key);
      })
      .sort((a, b) => rank(a) - rank(b));
    // Who may use the route: the invitee for invitations and collaborations, else the owner.
    const actor = (i: RouteInstance) =>
      i.route.path.startsWith('/v2/collaborations/')
        ? f.victor.auth
        : /^\/v2\/invitations\/:invitationId\/(accept|decline)$/.test(i.route.path)
          ? f.ivan.auth
          : i.set.ownerHeaders;
    const refused: string[] = [];
    for (const i of ordered) {
      const res = await call(t, i.route.method, i.path, {
        headers: actor(i),
        body: i.route.method === 'GET' ? undefined : hostileBody(i.route, f),
      });
      const signingKeyOfNonStorage =
        i.route.path.endsWith('/signing-key/rotate') &&
        !['DATASET', 'KEY_VALUE_STORE', 'REQUEST_QUEUE'].includes(i.type ?? '');
      // A lease is its holder's: nobody holds one on the fixture runs, their owner included.
      const leaseNobodyHolds = /^\/v2\/actor-runs\/:runId\/(lease|finish)$/.test(i.route.path);
      const expected = OWNER_FORBIDDEN.test(`${i.set.label} ${i.path}`)
        ? [403]
        : signingKeyOfNonStorage || leaseNobodyHolds
          ? [404]
          : null;
      if (
        expected ? !expected.includes(res.status) : [401, 403, 404].includes(res.status) || res.status >= 500
      )
        refused.push(`${i.set.label} ${i.route.method} ${i.path} → ${res.status} ${res.text.slice(0, 120)}`);
    }
    expect(refused).toEqual([]);
  }, 90_000);
});
