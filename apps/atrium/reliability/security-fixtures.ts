import { randomUUID } from 'node:crypto';
import { newId } from '@atrium/auth';
import { APP_CONTENT_KINDS, ENVIRONMENT_ACTIONS, STORAGE_TYPES } from '@atrium/contracts';
import { eventually, testSqlPool, uniqueName } from '@atrium/testing';
import { signUp, SignedUpUser, TestStack, verifyEmail } from '../test/test-stack';
import { HttpMethod, Route } from './route-table';

/** Collections of the REST API and the resource type each holds (as the gateway's COLLECTIONS). */
export const COLLECTION_TYPES: Record<string, string> = {
  datasets: 'DATASET',
  acts: 'ACTOR',
  actors: 'ACTOR',
  'actor-tasks': 'ACTOR_TASK',
  schedules: 'SCHEDULE',
  'actor-builds': 'ACTOR_BUILD',
  'key-value-stores': 'KEY_VALUE_STORE',
  'request-queues': 'REQUEST_QUEUE',
  'actor-runs': 'ACTOR_RUN',
  environments: 'ENVIRONMENT',
  'environment-groups': 'ENVIRONMENT_GROUP',
  apps: 'APP',
};

export interface CallOptions {
  headers?: Record<string, string>;
  body?: unknown;
  query?: Record<string, string>;
  timeoutMs?: number;
}

export interface CallResult {
  status: number;
  body: unknown;
  text: string;
  headers: Record<string, string>;
}

/** One request through the gateway, whatever its outcome (supertest, no expectations). */
export async function call(
  t: TestStack,
  method: HttpMethod,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const agent = t.http();
  let req = { GET: agent.get, POST: agent.post, PUT: agent.put, PATCH: agent.patch, DELETE: agent.delete }[
    method
  ].call(agent, path);
  if (options.timeoutMs) req = req.timeout(options.timeoutMs);
  if (options.query) req = req.query(options.query);
  for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value);
  if (options.body !== undefined) req = req.send(options.body as object);
  const res = await req;
  return {
    status: res.status,
    body: res.body,
    text: res.text,
    headers: res.headers as Record<string, string>,
  };
}

/**
 * A call that must succeed (fixture set-up): its data, or an error naming the step. A 503 (a
 * loaded machine's RPC timeout) is retried with the same idempotency key, so a write whose answer
 * was lost is not made twice.
 */
async function must<T = Record<string, unknown>>(
  t: TestStack,
  user: SignedUpUser | null,
  method: HttpMethod,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const keyed: Record<string, string> = method === 'GET' ? {} : { 'idempotency-key': randomUUID() };
  let res: CallResult;
  for (let attempt = 1; ; attempt++) {
    res = await call(t, method, path, { headers: { ...(user?.auth ?? {}), ...keyed, ...headers }, body });
    if (res.status !== 503 || attempt === 3) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (res.status >= 300) throw new Error(`fixture ${method} ${path}: ${res.status} ${res.text}`);
  return (res.body as { data: T })?.data;
}

/** The resources of one owner account that the matrix aims at, by route parameter. */
export interface FixtureSet {
  label: string;
  /** The owner account (alice, or the organization she owns). */
  accountId: string;
  /** Headers with which alice acts in this account. */
  ownerHeaders: Record<string, string>;
  /** Route parameter → id (datasetId, storeId, …, and sub-ids: recordKey, requestId, …). */
  ids: Record<string, string>;
  /** Sub-ids in the run's default storages, for routes that name the run (see `namesRun`). */
  runIds: Record<string, string>;
  /** Collection name → the resource it addresses and a grant on it (for the access routes). */
  collections: Record<string, { resourceId: string; grantId?: string }>;
  /** App content kind → an item of that kind (`:itemId`; models also `:modelId`). */
  appItems: Record<string, string>;
  /** The routes this set is aimed with (the organization's routes take the organization's ids). */
  covers(route: Route): boolean;
}

export interface Fixtures {
  alice: SignedUpUser;
  /** Signed-in strangers to alice's resources. */
  bob: SignedUpUser;
  /** Was granted everything on every resource; the grants have expired. */
  erin: SignedUpUser;
  /** Holds READ grants (and an app collaboration with `Inputs:Get` only). */
  dave: SignedUpUser;
  /** A member of alice's organization with the built-in "Read only" role. */
  rita: SignedUpUser;
  /** An active collaboration member of alice's account, with a view-only role on ENVIRONMENTS. */
  victor: SignedUpUser;
  /** Invited to alice's organization (pending). */
  ivan: SignedUpUser;
  personal: FixtureSet;
  org: FixtureSet;
  /** Alice's API token scoped to a decoy dataset only. */
  scopedToken: string;
  /** Alice's API token, used once, then revoked. */
  revokedToken: string;
  /** A dataset of alice's that none of the principals may see (the scoped token's target). */
  decoyDatasetId: string;
}

/**
 * Builds everything the authorization matrix aims at, through the API, as alice: one of each
 * resource type in her RESTRICTED personal account, and the Apify types again in a RESTRICTED
 * organization she owns; grants that let the lesser principals read; grants to erin that expire
 * (waited for); a scoped and a revoked token.
 */
export async function buildFixtures(
  t: TestStack,
  options: { grantTtlMs?: number; expiredGrants?: boolean } = {},
): Promise<Fixtures> {
  const { grantTtlMs = 8000, expiredGrants = true } = options;
  const [alice, bob, erin, dave, rita, victor, ivan] = await Promise.all(
    ['alice', 'bob', 'erin', 'dave', 'rita', 'victor', 'ivan'].map((n) => signUp(t, uniqueName(n))),
  );
  await must(t, alice, 'PUT', '/v2/users/me/settings', { generalResourceAccess: 'RESTRICTED' });

  // The organization, RESTRICTED too, with rita as a Read only member.
  const org = await must<{ id: string }>(t, alice, 'POST', '/v2/organizations', {
    username: uniqueName('acme'),
  });
  await must(t, alice, 'PUT', `/v2/organizations/${org.id}`, {
    settings: { generalResourceAccess: 'RESTRICTED' },
  });
  const roles = await must<{ items: { id: string; name: string }[] }>(
    t,
    alice,
    'GET',
    `/v2/organizations/${org.id}/roles`,
  );
  const roleId = (name: string) => roles.items.find((r) => r.name === name)!.id;
  const toRita = await must<{ id: string }>(t, alice, 'POST', `/v2/organizations/${org.id}/invitations`, {
    user: rita.username,
    roleId: roleId('Read only'),
  });
  await must(t, rita, 'POST', `/v2/invitations/${toRita.id}/accept`);
  const toIvan = await must<{ id: string }>(t, alice, 'POST', `/v2/organizations/${org.id}/invitations`, {
    user: ivan.username,
    roleId: roleId('Developer'),
  });
  const orgRole = await must<{ id: string }>(t, alice, 'POST', `/v2/organizations/${org.id}/roles`, {
    name: 'Auditors',
    permissions: { STORAGE: ['READ'] },
  });
  const orgToken = await must<{ id: string }>(t, alice, 'POST', `/v2/organizations/${org.id}/tokens`, {
    name: 'ci',
  });

  const orgRoutes = (route: Route) => route.path.startsWith('/v2/organizations/:orgId');
  const personal = await apifyResources(t, alice, 'personal', alice.id, {}, (r) => !orgRoutes(r));
  const inOrg = await apifyResources(
    t,
    alice,
    'organization',
    org.id,
    { 'x-account-id': org.id },
    // Organizations own Apify resources only (their roles have no apps or environments).
    (r) =>
      orgRoutes(r) ||
      r.rule?.kind === 'resource' ||
      (r.rule?.kind === 'in-account' && !['APP', 'ENVIRONMENT', 'ENVIRONMENT_GROUP'].includes(r.rule.type)),
  );
  Object.assign(inOrg.ids, {
    orgId: org.id,
    roleId: orgRole.id,
    ownerRoleId: roleId('Owner'),
    userId: rita.id,
    tokenId: orgToken.id,
  });
  // A run is its starter's (alice's), not the organization's, even of the organization's Actor.
  delete inOrg.ids.runId;
  delete inOrg.collections['actor-runs'];

  // Personal only: apps, environments, collaboration, issues, tokens.
  const app = await must<{ id: string }>(t, alice, 'POST', '/v2/apps', { name: 'pets' });
  const appPath = `/v2/apps/${app.id}`;
  const item = async (kind: string, body: unknown) =>
    (await must<{ id: string }>(t, alice, 'POST', `${appPath}/${kind}`, body)).id;
  const appItems: Record<string, string> = {};
  appItems.concepts = await item('concepts', { id: 'dog', name: 'Dog' });
  appItems.inputs = await item('inputs', { data: { text: 'a puppy' } });
  appItems.annotations = await item('annotations', { inputId: appItems.inputs, conceptIds: ['dog'] });
  appItems.models = await item('models', { name: 'classifier', conceptIds: ['dog'] });
  appItems.workflows = await item('workflows', { name: 'flow', modelIds: [appItems.models] });
  appItems.tasks = await item('tasks', { name: 'label', conceptIds: ['dog'] });
  appItems.collectors = await item('collectors', { name: 'uploads', modelId: appItems.models });
  appItems.vocabs = await item('vocabs', { name: 'animals', conceptIds: ['dog'] });
  for (const kind of APP_CONTENT_KINDS) if (!appItems[kind]) throw new Error(`no app item of kind ${kind}`);
  const collaborator = await must<{ id: string }>(t, alice, 'POST', `${appPath}/collaborators`, {
    user: dave.username,
    scopes: ['Inputs:Get'],
  });

  const group = await must<{ id: string }>(t, alice, 'POST', '/v2/environment-groups', { name: 'prod' });
  const env = await must<{ id: string }>(t, alice, 'POST', '/v2/environments', {
    name: 'api',
    groupId: group.id,
  });
  const policy = await must<{ id: string }>(t, alice, 'POST', '/v2/collaboration/policies', {
    name: 'Operate',
    permissions: ['START_STOP'],
  });
  const viewer = await must<{ id: string }>(t, alice, 'POST', '/v2/collaboration/roles', {
    name: 'Viewer',
    policies: ['system-view'],
  });
  const member = await must<{ id: string }>(t, alice, 'POST', '/v2/collaboration/members', {
    email: `${victor.username}@example.com`,
    shared: [{ category: 'ENVIRONMENTS', roleIds: [viewer.id] }],
  });
  await verifyEmail(t, victor); // only a verified owner of the address answers it
  await must(t, victor, 'POST', `/v2/collaborations/${member.id}/accept`);

  Object.assign(personal.ids, {
    appId: app.id,
    collaboratorId: collaborator.id,
    modelId: appItems.models,
    envId: env.id,
    groupId: group.id,
    policyId: policy.id,
    roleId: viewer.id,
    memberId: member.id,
    collaborationId: member.id,
  });
  personal.appItems = appItems;
  personal.collections.apps = { resourceId: app.id };
  personal.collections.environments = { resourceId: env.id };
  personal.collections['environment-groups'] = { resourceId: group.id };

  // Grants: READ to dave (a lesser principal) and everything to erin, expiring soon.
  const expiresAt = new Date(Date.now() + grantTtlMs).toISOString();
  for (const set of [personal, inOrg]) {
    for (const [collection, target] of Object.entries(set.collections)) {
      const type = COLLECTION_TYPES[collection];
      if (collection === 'acts' || type === 'APP' || type.startsWith('ENVIRONMENT')) continue;
      const grants = `/v2/${collection}/${target.resourceId}/access/grants`;
      const toDave = await must<{ id: string }>(t, alice, 'POST', grants, {
        user: dave.username,
        permissions: ['READ'],
      });
      target.grantId = toDave.id;
      if (expiredGrants) {
        await must(t, alice, 'POST', grants, {
          user: erin.username,
          permissions:
            type === 'ACTOR' ? ['READ', 'WRITE', 'RUN', 'BUILD', 'MANAGE_ACCESS'] : ['READ', 'WRITE'],
          expiresAt,
        });
        // Each grant worked before it expired.
        const probe = await call(t, 'GET', `/v2/${collection}/${target.resourceId}`, { headers: erin.auth });
        if (probe.status !== 200)
          throw new Error(`fixture: erin's grant on ${collection} did not apply (${probe.status})`);
      }
    }
    set.collections.acts = set.collections.actors;
  }

  // Issues: filed by alice on her own Actor; dave (who may read it) comments, so alice has a notification.
  const issue = await must<{ id: string }>(t, alice, 'POST', `/v2/acts/${personal.ids.actorId}/issues`, {
    title: 'It breaks',
    description: 'Steps to reproduce',
  });
  const comment = await must<{ id: string }>(t, alice, 'POST', `/v2/actor-issues/${issue.id}/comments`, {
    text: 'Looking into it',
  });
  await must(t, alice, 'PUT', `/v2/actor-issues/${issue.id}/subscription`);
  await must(t, dave, 'POST', `/v2/actor-issues/${issue.id}/comments`, { text: 'Me too' });
  const notifications = await must<{ items: { id: string }[] }>(
    t,
    alice,
    'GET',
    '/v2/users/me/notifications',
  );
  if (!notifications.items.length) throw new Error('fixture: alice has no notification');
  const ownToken = await must<{ id: string }>(t, alice, 'POST', '/v2/users/me/tokens', { name: 'laptop' });
  Object.assign(personal.ids, {
    issueId: issue.id,
    commentId: comment.id,
    notificationId: notifications.items[0].id,
    tokenId: ownToken.id,
    invitationId: toIvan.id,
  });

  const decoy = await must<{ id: string }>(t, alice, 'POST', '/v2/datasets?name=decoy');
  const scoped = await must<{ token: string }>(t, alice, 'POST', '/v2/users/me/tokens', {
    name: 'scoped',
    scope: { resources: [{ type: 'DATASET', id: decoy.id, permissions: ['READ', 'WRITE'] }] },
  });
  const revoked = await must<{ id: string; token: string }>(t, alice, 'POST', '/v2/users/me/tokens', {
    name: 'revoked',
  });
  await must(t, null, 'GET', '/v2/users/me', undefined, { authorization: `Bearer ${revoked.token}` });
  await must(t, alice, 'DELETE', `/v2/users/me/tokens/${revoked.id}`);

  // Wait erin's grants out, and their sweep: the expired storage grants deleted and the signing
  // keys they reached rotated (ExpiredGrantSweeper), so that nothing changes under the tests.
  if (expiredGrants) {
    const wait = Date.parse(expiresAt) - Date.now() + 300;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sql = testSqlPool(t.db.url);
    try {
      await eventually(
        async () => {
          const { rows } = await sql.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM permissions."grant"
              WHERE subject_id = $1 AND expires_at <= now() AND resource_type = ANY($2)`,
            [erin.id, STORAGE_TYPES],
          );
          if (rows[0].n) throw new Error(`fixture: ${rows[0].n} expired storage grants not swept yet`);
        },
        20_000,
        200,
      );
    } finally {
      await sql.end();
    }
  }

  return {
    alice,
    bob,
    erin,
    dave,
    rita,
    victor,
    ivan,
    personal,
    org: inOrg,
    scopedToken: scoped.token,
    revokedToken: revoked.token,
    decoyDatasetId: decoy.id,
  };
}

/** The Apify resources (Actor, build, run, task, schedule, storages with content) in one account. */
async function apifyResources(
  t: TestStack,
  alice: SignedUpUser,
  label: string,
  accountId: string,
  headers: Record<string, string>,
  covers: (route: Route) => boolean,
): Promise<FixtureSet> {
  const post = <T = { id: string }>(path: string, body?: unknown) =>
    must<T>(t, alice, 'POST', path, body, headers);
  const actor = await post('/v2/acts', {
    name: 'scraper',
    versions: [
      {
        versionNumber: '0.1',
        sourceType: 'SOURCE_FILES',
        buildTag: 'latest',
        sourceFiles: [{ name: 'main.js', format: 'TEXT', content: 'console.log(1)' }],
        envVars: [{ name: 'API_KEY', value: 'fixture-secret', isSecret: true }],
      },
    ],
  });
  const build = await post(`/v2/acts/${actor.id}/builds?version=0.1`);
  // Built, so that the Actor has a default build (`/v2/acts/:actorId/builds/default`).
  for (const status of ['RUNNING', 'SUCCEEDED'])
    await must(t, alice, 'PUT', `/v2/actor-builds/${build.id}`, { status }, headers);
  await post(`/v2/acts/${actor.id}/runs`, { q: 1 });
  const task = await post('/v2/actor-tasks', { actId: actor.id, name: 'daily', input: { q: 2 } });
  // The run the matrix aims at is the task's, started last: the last run of the Actor and of the
  // task too, so `/actor-runs/:runId/…` and `…/runs/last/…` reach the same storages. They hold
  // what the storage routes' sub-ids name (a `config` record, a request).
  const run = await post<{
    id: string;
    defaultDatasetId: string;
    defaultKeyValueStoreId: string;
    defaultRequestQueueId: string;
  }>(`/v2/actor-tasks/${task.id}/runs`);
  await post(`/v2/datasets/${run.defaultDatasetId}/items`, [{ n: 1 }]);
  await must(
    t,
    alice,
    'PUT',
    `/v2/key-value-stores/${run.defaultKeyValueStoreId}/records/config`,
    { depth: 1 },
    headers,
  );
  const runRequest = await post<{ requestId: string }>(
    `/v2/request-queues/${run.defaultRequestQueueId}/requests`,
    { url: 'https://example.com/run', uniqueKey: 'https://example.com/run' },
  );
  const schedule = await post('/v2/schedules', {
    name: 'nightly',
    cronExpression: '@daily',
    isEnabled: false,
    actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: task.id }],
  });
  const dataset = await post('/v2/datasets?name=results');
  await post(`/v2/datasets/${dataset.id}/items`, [{ n: 1 }, { n: 2 }]);
  const store = await post('/v2/key-value-stores?name=state');
  await must(t, alice, 'PUT', `/v2/key-value-stores/${store.id}/records/config`, { depth: 3 }, headers);
  const queue = await post('/v2/request-queues?name=frontier');
  const request = await post<{ requestId: string }>(`/v2/request-queues/${queue.id}/requests`, {
    url: 'https://example.com/',
    uniqueKey: 'https://example.com/',
  });
  // A webhook on the Actor, and a dispatch of it: a test event to a link-local address, which is
  // never called, so the dispatch fails at once and stays as it is while the matrix runs.
  const webhook = await post('/v2/webhooks', {
    eventTypes: ['ACTOR.RUN.SUCCEEDED'],
    condition: { actorId: actor.id },
    requestUrl: 'http://169.254.0.1/hook',
    headersTemplate: '{"Authorization": "Bearer secret"}',
    doNotRetry: true,
  });
  const dispatch = await post(`/v2/webhooks/${webhook.id}/test`);
  for (let settled = false, started = Date.now(); !settled;) {
    const { status } = await must<{ status: string }>(
      t,
      alice,
      'GET',
      `/v2/webhook-dispatches/${dispatch.id}`,
    );
    settled = status !== 'ACTIVE';
    if (!settled && Date.now() - started > 10_000)
      throw new Error('fixture dispatch still ACTIVE after 10 s');
    if (!settled) await new Promise((r) => setTimeout(r, 100));
  }
  return {
    label,
    accountId,
    ownerHeaders: { ...alice.auth, ...headers },
    ids: {
      webhookId: webhook.id,
      dispatchId: dispatch.id,
      actorId: actor.id,
      versionNumber: '0.1',
      envVarName: 'API_KEY',
      buildId: build.id,
      runId: run.id,
      actorTaskId: task.id,
      scheduleId: schedule.id,
      datasetId: dataset.id,
      storeId: store.id,
      recordKey: 'config',
      queueId: queue.id,
      requestId: request.requestId,
    },
    runIds: { requestId: runRequest.requestId },
    collections: {
      datasets: { resourceId: dataset.id },
      actors: { resourceId: actor.id },
      'actor-tasks': { resourceId: task.id },
      schedules: { resourceId: schedule.id },
      'actor-builds': { resourceId: build.id },
      'key-value-stores': { resourceId: store.id },
      'request-queues': { resourceId: queue.id },
      'actor-runs': { resourceId: run.id },
    },
    appItems: {},
    covers,
  };
}

/** One concrete request of a route: its parameters filled from a fixture set. */
export interface RouteInstance {
  route: Route;
  set: FixtureSet;
  path: string;
  /** The resource type the guard checks (resource routes). */
  type?: string;
  /** The id the guard resolves (resource routes), for swapping in an unknown one. */
  resourceId?: string;
}

/**
 * The route with its parameters taken from `set`: once per collection for `/:collection/` routes,
 * once per action for environment actions; none when the set lacks a parameter.
 */
export function instantiate(route: Route, set: FixtureSet): RouteInstance[] {
  if (!set.covers(route)) return [];
  const variants: Record<string, string>[] = [{}];
  const expand = (param: string, values: string[]) => {
    const copy = variants.splice(0);
    for (const v of copy) for (const value of values) variants.push({ ...v, [param]: value });
  };
  if (route.params.includes('collection')) expand('collection', Object.keys(set.collections));
  if (route.params.includes('action')) expand('action', [...ENVIRONMENT_ACTIONS]);
  const instances: RouteInstance[] = [];
  for (const fixed of variants) {
    const values: Record<string, string | undefined> = { ...fixed };
    const target = fixed.collection ? set.collections[fixed.collection] : undefined;
    const viaRun = namesRun(route);
    for (const param of route.params) {
      if (param in values) continue;
      if (viaRun && param in set.runIds) values[param] = set.runIds[param];
      else if (param === 'resourceId') values[param] = target?.resourceId;
      else if (param === 'grantId') values[param] = target?.grantId;
      else if (param === 'itemId')
        values[param] = set.appItems[/\/apps\/:appId\/([a-z]+)\//.exec(route.path)![1]];
      else values[param] = set.ids[param];
    }
    if (route.params.some((p) => values[p] === undefined)) continue;
    const path = route.path.replace(/:(\w+)/g, (_m, p: string) => encodeURIComponent(values[p]!));
    const rule = route.rule;
    if (rule?.kind === 'resource') {
      const type = typeof rule.type === 'string' ? rule.type : COLLECTION_TYPES[fixed.collection];
      // A route naming a run is decided on what it resolves to; the id in its path is the run's
      // (or its Actor's or task's, for the last run).
      const resourceId = viaRun ? values[viaRun] : values[rule.param];
      instances.push({ route, set, path, type, resourceId });
    } else instances.push({ route, set, path });
  }
  return instances;
}

/**
 * The parameter naming a run, when a route names one where its rule expects another resource
 * (`/v2/actor-runs/:runId/dataset/…`, `/v2/acts/:actorId/runs/last[/…]`): the gateway resolves it to
 * the run or its default storage (apps/gateway/src/runs/run-references.ts).
 */
export function namesRun(route: Route): string | undefined {
  const rule = route.rule;
  if (rule?.kind !== 'resource' || route.params.includes(rule.param)) return undefined;
  return ['runId', 'actorTaskId', 'actorId'].find((p) => route.params.includes(p));
}

/** The path with the guarded resource's id replaced by one that exists nowhere. */
export function withUnknownId(instance: RouteInstance): string {
  const id = instance.resourceId!;
  return instance.path.replace(`/${id}`, `/${newId()}`);
}
