import fc from 'fast-check';
import { Client } from 'pg';
import {
  CATEGORY_PERMISSIONS,
  categoryOf,
  categoryPermissionsOn,
  Permission,
  PERMISSIONS_BY_TYPE,
  ResourceType,
  ROLE_CATEGORIES,
  RoleCategory,
} from '@atrium/contracts';
import { uniqueName } from '@atrium/testing';
import { signUp, SignedUpUser, startTestStack, TestStack } from '../test/test-stack';
import { call, CallResult } from './security-fixtures';

/**
 * Issue 12, "The classes, made impossible": a property test over random principals and a random
 * resource graph. One world per run, built through the API from a seeded generator (the seed is
 * printed; PROPERTY_SEED=<n> replays it); then fast-check draws (principal, route, resource)
 * cases and checks, with nothing but the single-resource routes as the oracle:
 *
 * - lists: every item a list, search or derived listing returns is one the caller could GET by id
 *   with the same credential, and an item carrying a field reserved for writers (signing key,
 *   signed public URL, secrets) is one the caller may WRITE (a write on its guarded
 *   route gets past the guard);
 * - explain: answers only about what the caller can GET by id, and about another user only when
 *   the caller may administer access to the resource;
 * - no escalation: a token (scoped user token, organization token, run token, collaborator's
 *   token) never reads, writes or administers what its minter's own credential cannot.
 *
 * Every probe is harmless: reads, and writes whose body fails validation (the guard runs first, so
 * 400 means "allowed past the guard", 403/404 "refused"); the oracle is calibrated before use.
 *
 * Each property runs once per class of principals (PROPERTY_RUNS cases each, 200 by default): a
 * survey that keeps every violation, grouped by shape, then a replay that fails at the first one so
 * fast-check shrinks it. The log names the seed, the cases and the requests.
 */

const SEED = process.env.PROPERTY_SEED ? Number(process.env.PROPERTY_SEED) : Date.now() % 2 ** 31;
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
/** Items of one list checked one by one (the rest are counted, not probed). */
const ITEMS_PER_LIST = 30;

/** A body no update route accepts: an unknown field (strict schemas), so a write probe changes nothing. */
const PROBE_BODY = { atriumPropertyProbe: true };

const COLLECTION_OF: Record<ResourceType, string> = {
  ACTOR: 'acts',
  ACTOR_TASK: 'actor-tasks',
  SCHEDULE: 'schedules',
  ACTOR_RUN: 'actor-runs',
  ACTOR_BUILD: 'actor-builds',
  DATASET: 'datasets',
  KEY_VALUE_STORE: 'key-value-stores',
  REQUEST_QUEUE: 'request-queues',
  ENVIRONMENT: 'environments',
  ENVIRONMENT_GROUP: 'environment-groups',
  APP: 'apps',
};
/** Types whose access can be administered (`/:collection/:id/access`, MANAGE_ACCESS). */
const ADMINISTERED: ResourceType[] = [
  'ACTOR',
  'ACTOR_TASK',
  'SCHEDULE',
  'ACTOR_RUN',
  'ACTOR_BUILD',
  'DATASET',
  'KEY_VALUE_STORE',
  'REQUEST_QUEUE',
];
const STORAGES: ResourceType[] = ['DATASET', 'KEY_VALUE_STORE', 'REQUEST_QUEUE'];
const LINK_SHAREABLE: ResourceType[] = [...STORAGES, 'ACTOR_RUN'];

// ---------------------------------------------------------------------------------------------
// The world's generator: a seeded PRNG (mulberry32), so a seed rebuilds the same world.

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    subset: <T>(xs: readonly T[], p = 0.5): T[] => xs.filter(() => next() < p),
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
  };
}

interface Resource {
  id: string;
  type: ResourceType;
  /** Owner account id. */
  ownerId: string;
  label: string;
}

type PrincipalKind =
  | 'user'
  | 'org-member'
  | 'collaboration-member'
  | 'app-collaborator'
  | 'user-token'
  | 'org-token'
  | 'run-token'
  | 'collaborator-token'
  | 'anonymous';

interface Principal {
  label: string;
  kind: PrincipalKind;
  headers: Record<string, string>;
  /** A token's minter: the credential it must never exceed (the user; the member who minted it; the starter). */
  minter?: string;
  /** What was said about it when it was made (scope, role), for the legend. */
  about: string;
  /** A token's own account (the user's; the organization; the run's starter). */
  accountId?: string;
}

/** A broken property on one case: its shape (for the survey's grouping), and what happened. */
interface Violation {
  shape: string;
  text: string;
}

interface ListRoute {
  label: string;
  path: string;
  itemType: ResourceType;
  /** Takes `X-Account-Id` (account lists). */
  inAccount: boolean;
}

interface World {
  users: Record<string, SignedUpUser>;
  orgId: string;
  resources: Resource[];
  principals: Principal[];
  listRoutes: ListRoute[];
  legend: string[];
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('security: properties of every answer that names resources (issue 12)', () => {
  let t: TestStack;
  let world: World;
  let requests = 0;
  let cases = 0;
  const cache = new Map<string, Promise<CallResult>>();
  const byLabel = new Map<string, Principal>();
  const found: string[] = [];
  const started = Date.now();

  /** A request through the gateway; reads and probes are cached per credential (the world does not change). */
  const send = (
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ) => {
    const key = `${method} ${path} ${JSON.stringify(headers)} ${JSON.stringify(body)}`;
    let hit = cache.get(key);
    if (!hit) {
      requests++;
      hit = call(t, method, path, { headers, body });
      cache.set(key, hit);
    }
    return hit;
  };
  const must = async <T = { id: string }>(
    user: SignedUpUser | Record<string, string> | null,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> => {
    const auth = user
      ? 'auth' in user
        ? (user as SignedUpUser).auth
        : (user as Record<string, string>)
      : {};
    let res: CallResult;
    // A busy machine may time an RPC out (503): world building retries; the properties never do.
    for (let attempt = 0; ; attempt++) {
      requests++;
      res = await call(t, method, path, { headers: { ...auth, ...headers }, body });
      if (res.status !== 503 || attempt === 3) break;
    }
    if (res.status >= 300) throw new Error(`world ${method} ${path}: ${res.status} ${res.text}`);
    return (res.body as { data: T }).data;
  };

  /**
   * Where invitations need a verified address (issue 12, hole 4), the member verifies it first with
   * the token of its sign-up mail, read from the dev mailbox (mail without SMTP_URL stays in the
   * identity schema's `dev_mail` table); where they do not, nothing to do.
   */
  const acceptCollaboration = async (user: SignedUpUser, collaborationId: string) => {
    const path = `/v2/collaborations/${collaborationId}/accept`;
    requests++;
    const first = await call(t, 'POST', path, { headers: user.auth });
    if (first.status < 300) return;
    if (first.status !== 403 || !/verif/i.test(first.text))
      throw new Error(`world POST ${path}: ${first.status} ${first.text}`);
    const db = new Client({ connectionString: t.db.url });
    await db.connect();
    try {
      let token: string | undefined;
      for (let i = 0; i < 50 && !token; i++) {
        const { rows } = await db.query<{ text: string }>(
          `SELECT text FROM identity.dev_mail WHERE to_address = $1 AND subject ILIKE '%verify%' ORDER BY created_at DESC LIMIT 1`,
          [`${user.username}@example.com`.toLowerCase()],
        );
        token = /token: (\S+)/i.exec(rows[0]?.text ?? '')?.[1];
        if (!token) await new Promise((r) => setTimeout(r, 100));
      }
      if (!token) throw new Error(`world: no verification mail to ${user.username}`);
      await must(null, 'POST', '/v2/auth/verify-email', { token });
    } finally {
      await db.end();
    }
    await must(user, 'POST', path);
  };

  const byId = (p: Principal, r: { id: string; type: ResourceType }, extra: Record<string, string> = {}) =>
    send('GET', `/v2/${COLLECTION_OF[r.type]}/${r.id}`, { ...p.headers, ...extra });
  /** Past the WRITE guard of the resource's own update route (400: the probe body was refused, not the caller). */
  const writeProbe = async (p: Principal, r: { id: string; type: ResourceType }) => {
    if (r.type === 'ACTOR_BUILD') {
      // No update route: the batch check, the same decision, for the same credential.
      const check = await send('POST', '/v2/access/check', p.headers, {
        checks: [{ resourceId: r.id, permission: 'WRITE' }],
      });
      return (
        check.status === 200 && (check.body as { data: { allowed: boolean }[] }).data[0]?.allowed === true
      );
    }
    const res = await send('PUT', `/v2/${COLLECTION_OF[r.type]}/${r.id}`, p.headers, PROBE_BODY);
    if (res.status >= 500) throw new Error(`write probe ${r.type} ${r.id} → ${res.status}`);
    return res.status === 400 || res.status === 200;
  };
  const manageProbe = async (p: Principal, r: { id: string; type: ResourceType }) =>
    (await send('GET', `/v2/${COLLECTION_OF[r.type]}/${r.id}/access`, p.headers)).status === 200;

  beforeAll(async () => {
    t = await startTestStack();
    world = await buildWorld();
    for (const p of world.principals) byLabel.set(p.label, p);
    console.log(
      `[security:properties] seed ${SEED} (replay with PROPERTY_SEED=${SEED}); world: ${world.resources.length} resources, ` +
        `${world.principals.length} principals, ${world.listRoutes.length} list routes; built with ${requests} requests in ` +
        `${Math.round((Date.now() - started) / 1000)} s\n  ${world.legend.join('\n  ')}`,
    );
  }, 240_000);

  afterAll(async () => {
    console.log(
      `[security:properties] seed ${SEED}: ${cases} cases, ${requests} requests in ${Math.round((Date.now() - started) / 1000)} s; ` +
        `${found.length} properties falsified${found.length ? `:\n${found.join('\n')}` : ''}`,
    );
    await t?.close();
  });

  // -------------------------------------------------------------------------------------------
  // The world.

  async function buildWorld(): Promise<World> {
    const rnd = prng(SEED);
    const legend: string[] = [];
    const names = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
    const list = await Promise.all(names.map((n) => signUp(t, uniqueName(n))));
    requests += names.length;
    const users = Object.fromEntries(names.map((n, i) => [n, list[i]])) as Record<
      (typeof names)[number],
      SignedUpUser
    >;
    const { alice } = users;
    const userName = new Map<string, string>(names.map((n) => [users[n].id, n]));
    const accountAccess = () => rnd.pick(['RESTRICTED', 'RESTRICTED', 'ANYONE_WITH_ID_CAN_READ'] as const);
    for (const n of names) {
      const access = accountAccess();
      await must(users[n], 'PUT', '/v2/users/me/settings', { generalResourceAccess: access });
      legend.push(`${n} (${users[n].id}): ${access}`);
    }

    // The organization, alice its Owner, with custom roles (random permissions per category; the
    // first two cover the storage shapes the holes need: READ only, READ+WRITE without MANAGE_ACCESS).
    const org = await must<{ id: string }>(alice, 'POST', '/v2/organizations', {
      username: uniqueName('org'),
    });
    const orgAccess = accountAccess();
    await must(alice, 'PUT', `/v2/organizations/${org.id}`, {
      settings: { generalResourceAccess: orgAccess },
    });
    userName.set(org.id, 'org');
    legend.push(`org (${org.id}): ${orgAccess}, Owner alice`);
    const roles: { id: string; name: string; permissions: Record<RoleCategory, Permission[]> }[] = [];
    for (let i = 0; i < 3; i++) {
      const permissions = Object.fromEntries(
        ROLE_CATEGORIES.map((c) => [c, rnd.subset(CATEGORY_PERMISSIONS[c], 0.4)]),
      ) as Record<RoleCategory, Permission[]>;
      if (i === 0) permissions.STORAGE = ['READ'];
      if (i === 1) permissions.STORAGE = ['READ', 'WRITE'];
      const role = await must<{ id: string }>(alice, 'POST', `/v2/organizations/${org.id}/roles`, {
        name: `role${i}`,
        permissions: { ...permissions, ORGANIZATION: ['MANAGE_ACCESS_TOKENS'] },
      });
      roles.push({ id: role.id, name: `role${i}`, permissions });
    }
    const members = ['bob', 'carol', 'dave'] as const;
    const shuffled = [...roles].sort(() => rnd.int(-1, 1));
    const roleOf = new Map<string, (typeof roles)[number]>();
    for (const [i, m] of members.entries()) {
      const role = shuffled[i];
      const inv = await must<{ id: string }>(alice, 'POST', `/v2/organizations/${org.id}/invitations`, {
        user: users[m].username,
        roleId: role.id,
      });
      await must(users[m], 'POST', `/v2/invitations/${inv.id}/accept`);
      roleOf.set(m, role);
      legend.push(
        `${m}: org member, ${role.name} ${JSON.stringify(role.permissions)} + MANAGE_ACCESS_TOKENS`,
      );
    }

    // Apify resources of alice, bob and the organization.
    const resources: Resource[] = [];
    const add = (id: string, type: ResourceType, ownerId: string, label: string) => {
      const r = { id, type, ownerId, label: `${label}:${type}:${id}` };
      resources.push(r);
      return r;
    };
    const actorBody = {
      name: 'scraper',
      versions: [
        {
          versionNumber: '0.1',
          sourceType: 'SOURCE_FILES',
          buildTag: 'latest',
          sourceFiles: [{ name: 'main.js', format: 'TEXT', content: 'console.log(1)' }],
        },
      ],
    };
    const actors: Resource[] = [];
    const tasks: Resource[] = [];
    const runs: { run: Resource; token: string; starter: string }[] = [];
    const owners = [
      { label: 'alice', user: alice, accountId: alice.id, headers: {} as Record<string, string> },
      { label: 'bob', user: users.bob, accountId: users.bob.id, headers: {} },
      { label: 'org', user: alice, accountId: org.id, headers: { 'x-account-id': org.id } },
    ];
    for (const o of owners) {
      const post = <T = { id: string }>(path: string, body?: unknown) =>
        must<T>(o.user, 'POST', path, body, o.headers);
      const actor = add((await post('/v2/acts', actorBody)).id, 'ACTOR', o.accountId, o.label);
      actors.push(actor);
      add((await post(`/v2/acts/${actor.id}/builds?version=0.1`)).id, 'ACTOR_BUILD', o.accountId, o.label);
      const task = add(
        (
          await post('/v2/actor-tasks', {
            actId: actor.id,
            name: 'daily',
            input: { secret: `s3cret-${o.label}` },
          })
        ).id,
        'ACTOR_TASK',
        o.accountId,
        o.label,
      );
      tasks.push(task);
      add(
        (
          await post('/v2/schedules', {
            name: 'nightly',
            cronExpression: '@daily',
            isEnabled: false,
            actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: task.id }],
          })
        ).id,
        'SCHEDULE',
        o.accountId,
        o.label,
      );
      for (const name of ['results', 'archive']) {
        const d = add((await post(`/v2/datasets?name=${name}`)).id, 'DATASET', o.accountId, o.label);
        await post(`/v2/datasets/${d.id}/items`, [{ n: 1 }]);
      }
      const store = add(
        (await post('/v2/key-value-stores?name=state')).id,
        'KEY_VALUE_STORE',
        o.accountId,
        o.label,
      );
      await must(o.user, 'PUT', `/v2/key-value-stores/${store.id}/records/config`, { depth: 3 }, o.headers);
      add((await post('/v2/request-queues?name=frontier')).id, 'REQUEST_QUEUE', o.accountId, o.label);
    }
    // Runs (each its starter's, with its default storages) and their run tokens.
    for (const [starter, actor] of [
      ['alice', actors[0]],
      ['bob', actors[1]],
      ['alice', actors[2]],
    ] as const) {
      const user = users[starter];
      const run = await must<{
        id: string;
        runToken: string;
        defaultDatasetId: string;
        defaultKeyValueStoreId: string;
        defaultRequestQueueId: string;
      }>(user, 'POST', `/v2/acts/${actor.id}/runs`, { q: 1 });
      const r = add(run.id, 'ACTOR_RUN', user.id, `${starter}-run`);
      add(run.defaultDatasetId, 'DATASET', user.id, `${starter}-run-default`);
      add(run.defaultKeyValueStoreId, 'KEY_VALUE_STORE', user.id, `${starter}-run-default`);
      add(run.defaultRequestQueueId, 'REQUEST_QUEUE', user.id, `${starter}-run-default`);
      runs.push({ run: r, token: run.runToken, starter });
    }

    // Link sharing and grants, at random.
    const ownerCredential = (r: Resource) => (r.ownerId === users.bob.id ? users.bob : alice);
    for (const r of resources) {
      const path = `/v2/${COLLECTION_OF[r.type]}/${r.id}`;
      if (LINK_SHAREABLE.includes(r.type) && rnd.chance(0.5)) {
        const generalAccess = rnd.pick([
          'RESTRICTED',
          'ANYONE_WITH_ID_CAN_READ',
          'FOLLOW_USER_SETTING',
        ] as const);
        await must(ownerCredential(r), 'PUT', path, { generalAccess });
        r.label += ` ${generalAccess}`;
      }
      if (ADMINISTERED.includes(r.type) && rnd.chance(0.4)) {
        const to = rnd.pick(names.filter((n) => users[n].id !== r.ownerId));
        const permissions = rnd.subset(
          PERMISSIONS_BY_TYPE[r.type].filter((p) => !p.includes(':')),
          0.4,
        );
        if (!permissions.length) permissions.push('READ');
        await must(ownerCredential(r), 'POST', `${path}/access/grants`, {
          user: users[to].username,
          permissions,
        });
        r.label += ` grant ${to} ${permissions.join('+')}`;
      }
    }

    // Account collaboration: alice is the primary; dave and erin are members, bound at random to
    // an environment, a group or the whole category, with roles of random system policies.
    const g1 = await must(alice, 'POST', '/v2/environment-groups', { name: 'prod' });
    const g2 = await must(alice, 'POST', '/v2/environment-groups', { name: 'prod-eu', parentId: g1.id });
    add(g1.id, 'ENVIRONMENT_GROUP', alice.id, 'alice');
    add(g2.id, 'ENVIRONMENT_GROUP', alice.id, 'alice');
    const envs = [
      await must(alice, 'POST', '/v2/environments', { name: 'api', groupId: g1.id }),
      await must(alice, 'POST', '/v2/environments', { name: 'web', groupId: g2.id }),
      await must(alice, 'POST', '/v2/environments', { name: 'db' }),
    ];
    for (const e of envs) add(e.id, 'ENVIRONMENT', alice.id, 'alice');
    const bobsEnv = await must(users.bob, 'POST', '/v2/environments', { name: 'bobs' });
    add(bobsEnv.id, 'ENVIRONMENT', users.bob.id, 'bob');
    const policies = ['system-view', 'system-logs', 'system-configure', 'system-delete', 'system-deploy'];
    const collabRoles: string[] = [];
    for (let i = 0; i < 2; i++) {
      const chosen = rnd.subset(policies, 0.5);
      const role = await must(alice, 'POST', '/v2/collaboration/roles', {
        name: `collab${i}`,
        policies: chosen.length ? chosen : ['system-view'],
      });
      collabRoles.push(role.id);
    }
    for (const m of ['dave', 'erin'] as const) {
      const target = rnd.pick([
        { resourceId: rnd.pick(envs).id },
        { groupId: rnd.pick([g1.id, g2.id]) },
        { category: 'ENVIRONMENTS' },
      ]);
      const member = await must(alice, 'POST', '/v2/collaboration/members', {
        email: `${users[m].username}@example.com`,
        shared: [{ ...target, roleIds: [rnd.pick(collabRoles)] }],
      });
      await acceptCollaboration(users[m], member.id);
      legend.push(`${m}: collaboration member of alice, ${JSON.stringify(target)}`);
    }

    // Apps: alice's with collaborators (carol always, erin at random), bob's without.
    const app = await must(alice, 'POST', '/v2/apps', { name: 'pets' });
    add(app.id, 'APP', alice.id, 'alice');
    add((await must(users.bob, 'POST', '/v2/apps', { name: 'bobs' })).id, 'APP', users.bob.id, 'bob');
    const basic = ['Input', 'Concept', 'Model', 'Search', 'Collaborator', 'Workflow'];
    for (const c of ['carol', ...(rnd.chance(0.5) ? ['erin'] : [])] as const) {
      const scopes = rnd.subset(basic, 0.4);
      await must(alice, 'POST', `/v2/apps/${app.id}/collaborators`, {
        user: users[c as 'carol'].username,
        scopes: scopes.length ? scopes : ['Input'],
      });
      legend.push(`${c}: collaborator on alice's app, ${scopes.join(',') || 'Input'}`);
    }

    // Principals: users (also acting in the organization and in alice's account), tokens, anonymous.
    const principals: Principal[] = [];
    for (const n of names) {
      const kind: PrincipalKind = roleOf.has(n)
        ? 'org-member'
        : n === 'erin'
          ? 'collaboration-member'
          : 'user';
      principals.push({ label: n, kind, headers: users[n].auth, about: kind });
      if (n !== 'alice')
        principals.push({
          label: `${n}@org`,
          kind,
          headers: { ...users[n].auth, 'x-account-id': org.id },
          about: 'X-Account-Id org',
        });
      else
        principals.push({
          label: 'alice@org',
          kind,
          headers: { ...alice.auth, 'x-account-id': org.id },
          about: 'Owner, X-Account-Id org',
        });
      if (n !== 'alice')
        principals.push({
          label: `${n}@alice`,
          kind,
          headers: { ...users[n].auth, 'x-account-id': alice.id },
          about: 'X-Account-Id alice (primary)',
        });
    }
    principals.push({ label: 'anonymous', kind: 'anonymous', headers: {}, about: 'no credential' });
    principals.push({
      label: 'anonymous@org',
      kind: 'anonymous',
      headers: { 'x-account-id': org.id },
      about: 'no credential',
    });

    const visibleTo = (n: string) =>
      resources.filter((r) => r.ownerId === users[n as 'alice'].id || r.label.includes(`grant ${n} `));
    let tokenCount = 0;
    const createdByToken = async (
      token: Record<string, string>,
      types: string[],
      ownerId: string,
      label: string,
    ) => {
      for (const type of types) {
        const collection = COLLECTION_OF[type as ResourceType];
        if (!STORAGES.includes(type as ResourceType)) continue;
        const made = await must(token, 'POST', `/v2/${collection}?name=by-token-${++tokenCount}`);
        add(made.id, type as ResourceType, ownerId, `${label}-created`);
      }
    };
    // Scoped user tokens: random account permissions per category, random resources, random CREATE.
    for (const [n, count] of [
      ['alice', 3],
      ['bob', 2],
      ['carol', 1],
    ] as const) {
      for (let i = 0; i < count; i++) {
        const account: Record<string, string[]> = {};
        for (const c of ['ACTOR', 'ACTOR_TASK', 'SCHEDULE', 'STORAGE'] as const)
          if (rnd.chance(0.3)) account[c] = rnd.subset(CATEGORY_PERMISSIONS[c], 0.5);
        const create = rnd.chance(0.5)
          ? rnd.subset(['DATASET', 'KEY_VALUE_STORE', 'REQUEST_QUEUE', 'ACTOR'], 0.5)
          : [];
        if (create.length) account.CREATE = create;
        const pool = visibleTo(n);
        const scopeResources = rnd.subset(pool, 2 / Math.max(pool.length, 1)).map((r) => ({
          type: r.type,
          id: r.id,
          permissions: rnd.subset(
            PERMISSIONS_BY_TYPE[r.type].filter((p) => !p.includes(':')),
            0.5,
          ),
        }));
        // The first of each user's is resource-scoped only: the most common shape of a scoped token.
        const scope =
          i === 0 && n !== 'carol'
            ? {
                account: {},
                resources: [
                  { type: 'DATASET', id: pool.find((r) => r.type === 'DATASET')!.id, permissions: ['READ'] },
                ],
              }
            : n === 'carol'
              ? { account: {}, resources: [{ type: 'APP', id: app.id, permissions: ['READ', 'Inputs:Get'] }] }
              : { account, resources: scopeResources };
        const token = await must<{ token: string }>(users[n], 'POST', '/v2/users/me/tokens', {
          name: `scoped-${i}`,
          scope,
        });
        const label = `${n}-token${i}`;
        principals.push({
          label,
          kind: n === 'carol' ? 'collaborator-token' : 'user-token',
          headers: bearer(token.token),
          minter: n,
          accountId: users[n].id,
          about: JSON.stringify(scope),
        });
        await createdByToken(
          bearer(token.token),
          (scope.account as { CREATE?: string[] }).CREATE ?? [],
          users[n].id,
          label,
        );
      }
    }
    // Organization tokens: one of the Owner's (random scope), one per member, scoped within its role.
    const orgResources = resources.filter((r) => r.ownerId === org.id);
    const orgScope = (held: Record<RoleCategory, Permission[]> | null) => {
      const account: Record<string, string[]> = {};
      for (const c of ROLE_CATEGORIES) {
        const can = held ? held[c] : CATEGORY_PERMISSIONS[c];
        if (can.length && rnd.chance(0.6)) account[c] = rnd.subset(can, 0.6);
        if (account[c] && !account[c].length) account[c] = [can[0]];
      }
      const writable = ROLE_CATEGORIES.filter((c) => !held || held[c].includes('WRITE'));
      // Creating is what hole 2 needs: whoever may write storages creates a dataset with the token.
      const create = writable.includes('STORAGE') && (held || rnd.chance(0.5)) ? ['DATASET'] : [];
      if (create.length) account.CREATE = create;
      const scopeResources = rnd.subset(orgResources, 0.1).flatMap((r) => {
        const c = categoryOf(r.type) as RoleCategory;
        const can = held ? categoryPermissionsOn(r.type, held[c] ?? []) : PERMISSIONS_BY_TYPE[r.type];
        const permissions = rnd.subset(
          can.filter((p) => !p.includes(':')),
          0.5,
        );
        return permissions.length ? [{ type: r.type, id: r.id, permissions }] : [];
      });
      return { account, resources: scopeResources };
    };
    for (const minter of ['alice', ...members] as const) {
      const role = roleOf.get(minter);
      const scope = orgScope(role ? role.permissions : null);
      const created = await must<{ token: string }>(
        users[minter],
        'POST',
        `/v2/organizations/${org.id}/tokens`,
        {
          name: `org-${minter}`,
          scope,
        },
      );
      const label = `org-token-by-${minter}`;
      principals.push({
        label,
        kind: 'org-token',
        headers: bearer(created.token),
        minter,
        accountId: org.id,
        about: `minter ${minter} (${role ? role.name : 'Owner'}), scope ${JSON.stringify(scope)}`,
      });
      await createdByToken(bearer(created.token), scope.account.CREATE ?? [], org.id, label);
    }
    for (const [i, r] of runs.entries())
      principals.push({
        label: `run-token${i}`,
        kind: 'run-token',
        headers: bearer(r.token),
        minter: r.starter,
        accountId: users[r.starter as 'alice'].id,
        about: `run ${r.run.id} of ${r.starter}`,
      });
    for (const p of principals) if (p.minter) legend.push(`${p.label}: ${p.kind}, ${p.about}`);
    for (const r of resources) legend.push(`resource ${r.label}`);

    // Every list, search and derived listing that names resources.
    const listRoutes: ListRoute[] = [];
    for (const type of Object.keys(COLLECTION_OF) as ResourceType[]) {
      for (const ownership of ['', 'ownedByMe', 'sharedWithMe']) {
        const path = `/v2/${COLLECTION_OF[type]}${ownership ? `?ownership=${ownership}` : ''}`;
        listRoutes.push({ label: path, path, itemType: type, inAccount: true });
      }
    }
    for (const a of actors) {
      listRoutes.push({
        label: `/v2/acts/${a.label}/runs`,
        path: `/v2/acts/${a.id}/runs`,
        itemType: 'ACTOR_RUN',
        inAccount: false,
      });
      listRoutes.push({
        label: `/v2/acts/${a.label}/builds`,
        path: `/v2/acts/${a.id}/builds`,
        itemType: 'ACTOR_BUILD',
        inAccount: false,
      });
    }
    for (const task of tasks)
      listRoutes.push({
        label: `/v2/actor-tasks/${task.label}/runs`,
        path: `/v2/actor-tasks/${task.id}/runs`,
        itemType: 'ACTOR_RUN',
        inAccount: false,
      });

    return { users, orgId: org.id, resources, principals, listRoutes, legend };
  }

  // -------------------------------------------------------------------------------------------
  // The properties.

  /** Fields only a writer of the item may see, found in a listed item. */
  const writerFields = (item: Record<string, unknown>, type: ResourceType): string[] => {
    const fields: string[] = [];
    const visit = (value: unknown, path: string) => {
      if (typeof value === 'string' && /[?&]signature=/.test(value)) fields.push(`${path} (signed URL)`);
      else if (value && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) {
          const here = path ? `${path}.${k}` : k;
          if (/secret/i.test(k) && v !== null && v !== undefined && v !== '') fields.push(here);
          else visit(v, here);
        }
    };
    // A task's input is the task's content, shown to whoever may READ the task (as Apify shows it,
    // and as running the task would reveal it): it is for readers, so not inspected here.
    const { input: _input, ...rest } = item;
    visit(type === 'ACTOR_TASK' ? rest : item, '');
    return fields;
  };

  /** Principals by class, each class its own run (fast-check stops at a class's first counterexample). */
  const CLASSES: Record<string, PrincipalKind[]> = {
    'users, organization members, collaboration members, app collaborators': [
      'user',
      'org-member',
      'collaboration-member',
      'app-collaborator',
    ],
    "scoped user tokens (and collaborators' tokens)": ['user-token', 'collaborator-token'],
    'organization tokens': ['org-token'],
    'run tokens and anonymous': ['run-token', 'anonymous'],
  };
  const principalsOf = (kinds: PrincipalKind[]) =>
    world.principals.filter((p) => kinds.includes(p.kind)).map((p) => p.label);
  /** The resources a principal is most likely to trip over: what it created, its scope, its account. */
  const relatedTo = (p: Principal) =>
    world.resources
      .filter((r) => p.about.includes(r.id) || (p.accountId !== undefined && r.ownerId === p.accountId))
      .map((r) => r.label);
  const resourceFor = (p: Principal) => {
    const tiers = [
      {
        weight: 2,
        labels: world.resources.filter((r) => r.label.startsWith(`${p.label}-created`)).map((r) => r.label),
      },
      { weight: 2, labels: relatedTo(p) },
      { weight: 1, labels: world.resources.map((r) => r.label) },
    ].filter((tier) => tier.labels.length);
    return fc.oneof(
      ...tiers.map((tier) => ({ weight: tier.weight, arbitrary: fc.constantFrom(...tier.labels) })),
    );
  };

  it('calibrates the oracles: owners pass the guards (write probe 400), strangers do not', async () => {
    const { alice, bob } = world.users;
    const asAlice: Principal = { label: 'alice', kind: 'user', headers: alice.auth, about: '' };
    const asBob: Principal = { label: 'bob', kind: 'user', headers: bob.auth, about: '' };
    for (const r of world.resources.filter((x) => x.ownerId === alice.id && x.type !== 'ACTOR_BUILD')) {
      expect([r.label, (await byId(asAlice, r)).status]).toEqual([r.label, 200]);
      const probe = await send('PUT', `/v2/${COLLECTION_OF[r.type]}/${r.id}`, alice.auth, PROBE_BODY);
      expect([r.label, probe.status]).toEqual([r.label, 400]);
    }
    // An Actor of alice's not granted to bob, else any such resource: a seeded world may have no
    // such Actor (seed 1064950800 had none, and this read undefined).
    const notBobs = world.resources.filter(
      (x) => x.ownerId === alice.id && x.type !== 'ACTOR_BUILD' && !x.label.includes('grant bob'),
    );
    const restricted = notBobs.find((x) => x.type === 'ACTOR') ?? notBobs[0];
    expect(restricted).toBeDefined();
    expect(await writeProbe(asBob, restricted)).toBe(false);
    expect(
      await manageProbe(
        asAlice,
        world.resources.find((x) => x.ownerId === alice.id && x.type === 'DATASET')!,
      ),
    ).toBe(true);
  }, 120_000);

  /**
   * One property over one class of principals: first a survey (every case checked, every violation
   * kept, grouped by its shape with ids left out), then, if any, the same run again failing at the
   * first violation, so that fast-check shrinks it to a minimal counterexample.
   */
  const explore = async <T>(
    name: string,
    arb: fc.Arbitrary<T>,
    check: (value: T) => Promise<Violation[]>,
    seed: number,
  ) => {
    const shapes = new Map<string, { count: number; example: string }>();
    let violating = 0;
    const survey = await fc.check(
      fc.asyncProperty(arb, async (value) => {
        const violations = await check(value);
        if (violations.length) violating++;
        for (const v of violations) {
          const seen = shapes.get(v.shape);
          if (seen) seen.count++;
          else shapes.set(v.shape, { count: 1, example: v.text });
        }
      }),
      { seed, numRuns: NUM_RUNS },
    );
    cases += survey.numRuns;
    if (survey.failed) throw new Error(`${name}: ${fc.defaultReportMessage(survey)}`);
    if (!violating) return;
    const shrunk = await fc.check(
      fc.asyncProperty(arb, async (value) => {
        const [first] = await check(value);
        if (first) throw new Error(first.text);
      }),
      { seed, numRuns: NUM_RUNS },
    );
    const counterexample = shrunk.failed
      ? `counterexample ${fc.stringify(shrunk.counterexample)} (seed ${seed}, path "${shrunk.counterexamplePath}", shrunk ${shrunk.numShrinks} times): ${(shrunk.errorInstance as Error)?.message}`
      : '(not reproduced when replayed)';
    found.push(
      `✗ ${name}: ${violating} of ${survey.numRuns} cases violate it; ${counterexample}\n` +
        [...shapes]
          .sort((a, b) => b[1].count - a[1].count)
          .map(([shape, x]) => `    ${x.count}× ${shape}\n        e.g. ${x.example}`)
          .join('\n'),
    );
  };

  const checkList = async ([who, routeLabel]: [string, string]) => {
    const p = byLabel.get(who)!;
    const route = world.listRoutes.find((r) => r.label === routeLabel)!;
    const res = await send('GET', route.path, p.headers);
    const routeShape = route.path.replace(/\b[A-Za-z0-9]{17}\b/g, ':id');
    if (res.status >= 500)
      return [
        { shape: `GET ${routeShape} → ${res.status}`, text: `${who} GET ${route.path} → ${res.status}` },
      ];
    if (res.status !== 200) return [];
    const items = ((res.body as { data: { items?: Record<string, unknown>[] } }).data.items ?? []).slice(
      0,
      ITEMS_PER_LIST,
    );
    const violations: Violation[] = [];
    for (const item of items) {
      const target = { id: String(item.id), type: route.itemType };
      const got = await byId(p, target);
      if (got.status !== 200)
        violations.push({
          shape: `${p.kind}: GET ${routeShape} lists a ${route.itemType} that GET by id answers ${got.status}`,
          text: `${who} GET ${route.label} listed ${route.itemType} ${target.id}; GET by id with the same credential → ${got.status}`,
        });
      const fields = writerFields(item, route.itemType);
      if (fields.length && !(await writeProbe(p, target)))
        violations.push({
          shape: `${p.kind}: GET ${routeShape} lists a ${route.itemType} with ${fields.map((f) => f.replace(/\..*/, '')).join(', ')}, without WRITE on it`,
          text: `${who} GET ${route.label} listed ${route.itemType} ${target.id} with ${fields.join(', ')}; the caller may not WRITE it`,
        });
    }
    return violations;
  };

  const selfOf = (p: Principal) =>
    p.kind === 'org-token' || p.kind === 'anonymous' ? undefined : (p.minter ?? p.label.split('@')[0]);
  const checkExplain = async ([[who, resourceLabel], about]: [[string, string], string | undefined]) => {
    const p = byLabel.get(who)!;
    const r = world.resources.find((x) => x.label === resourceLabel)!;
    const other = about !== undefined && about !== selfOf(p) ? about : undefined;
    const userId = other ? world.users[other].id : undefined;
    const path = `/v2/access/explain?resourceId=${r.id}&permission=READ${userId ? `&userId=${userId}` : ''}`;
    const res = await send('GET', path, p.headers);
    if (res.status >= 500)
      return [{ shape: `explain → ${res.status}`, text: `${who} GET ${path} → ${res.status}` }];
    if (res.status !== 200) return [];
    const violations: Violation[] = [];
    const rule = (res.body as { data?: { rule?: string } }).data?.rule;
    const got = await byId(p, r);
    if (got.status !== 200)
      violations.push({
        shape: `${p.kind}: explain ${other ? "another user's" : 'its own'} access → 200, yet GET by id → ${got.status}`,
        text: `${who} explain ${other ? `${other}'s` : 'own'} READ on ${r.type} ${r.id} → 200 (rule "${rule}"); GET by id → ${got.status}`,
      });
    else if (other && ADMINISTERED.includes(r.type) && !(await manageProbe(p, r)))
      violations.push({
        shape: `${p.kind}: explain another user's access → 200 without MANAGE_ACCESS`,
        text: `${who} explain ${other}'s READ on ${r.type} ${r.id} → 200 (rule "${rule}"); the caller cannot GET /${COLLECTION_OF[r.type]}/:id/access`,
      });
    return violations;
  };

  const checkNoEscalation = async ([[who, resourceLabel], permission]: [[string, string], string]) => {
    const p = byLabel.get(who)!;
    const minter = byLabel.get(p.minter!)!;
    const r = world.resources.find((x) => x.label === resourceLabel)!;
    const holds = async (q: Principal) =>
      permission === 'READ'
        ? (await byId(q, r)).status === 200
        : permission === 'WRITE'
          ? writeProbe(q, r)
          : ADMINISTERED.includes(r.type) && manageProbe(q, r);
    if ((await holds(p)) && !(await holds(minter)))
      return [
        {
          shape: `${p.kind}: holds ${permission} on a ${r.type} ${r.label.startsWith(`${who}-created`) ? 'it created' : 'of its account'} that its minter lacks`,
          text: `${who} holds ${permission} on ${r.type} ${r.id} (${resourceLabel}); its minter ${minter.label} does not`,
        },
      ];
    return [];
  };

  it('lists: every item listed is one the caller can GET by id, and writer-only fields only where it may WRITE', async () => {
    for (const [offset, [name, kinds]] of Object.entries(CLASSES).entries())
      await explore(
        `lists ⊆ GET by id, writer-only fields ⊆ WRITE [${name}]`,
        fc.tuple(
          fc.constantFrom(...principalsOf(kinds)),
          fc.constantFrom(...world.listRoutes.map((r) => r.label)),
        ),
        checkList,
        SEED + 10 + offset,
      );
  }, 300_000);

  it('explain: only about what the caller can GET by id, and about others only with MANAGE_ACCESS', async () => {
    for (const [offset, [name, kinds]] of Object.entries(CLASSES).entries())
      await explore(
        `explain ⊆ GET by id, about others ⊆ MANAGE_ACCESS [${name}]`,
        fc.tuple(
          fc
            .constantFrom(...principalsOf(kinds))
            .chain((who) => fc.tuple(fc.constant(who), resourceFor(byLabel.get(who)!))),
          fc.option(fc.constantFrom('alice', 'bob', 'carol', 'dave', 'erin'), { nil: undefined }),
        ),
        checkExplain,
        SEED + 20 + offset,
      );
  }, 300_000);

  it('no escalation: a token never reads, writes or administers what its minter cannot', async () => {
    const TOKEN_CLASSES: Record<string, PrincipalKind[]> = {
      "scoped user tokens (and collaborators' tokens)": ['user-token', 'collaborator-token'],
      'organization tokens': ['org-token'],
      'run tokens': ['run-token'],
    };
    for (const [offset, [name, kinds]] of Object.entries(TOKEN_CLASSES).entries())
      await explore(
        `token ≤ its minter [${name}]`,
        fc.tuple(
          fc
            .constantFrom(...principalsOf(kinds))
            .chain((who) => fc.tuple(fc.constant(who), resourceFor(byLabel.get(who)!))),
          fc.constantFrom('READ', 'WRITE', 'MANAGE_ACCESS'),
        ),
        checkNoEscalation,
        SEED + 30 + offset,
      );
  }, 300_000);

  it('holds every property', () => {
    expect(found).toEqual([]);
  });
});
