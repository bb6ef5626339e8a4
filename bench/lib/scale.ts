import { ClientRMQ, RmqRecordBuilder } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import { createHash } from 'crypto';
import { Client } from 'pg';
import { CheckResult, PermissionsRpc } from '@atrium/contracts';
import { RmqRpcTransport, RpcClient } from '@atrium/messaging';
import { BENCH_ECHO_PATTERN, benchClientOptions } from '../baseline/bench-rpc';
import { percentile, progress, within } from './log';

/**
 * The scale scenario: grants, datasets and users bulk-loaded with SQL straight into the
 * permissions service's tables (`permissions.grant`, `permissions.resource_projection`,
 * `permissions.account_projection`), then the permissions service's own RPCs called directly
 * over RabbitMQ (no gateway, so no decision cache): `PermissionsRpc.check` for random granted
 * (user, dataset) pairs, and `PermissionsRpc.listSharedWith` for a user with many shares.
 *
 * Ids are 17 characters of [0-9a-z]: a kind letter (g grant, d dataset, a account), a set letter
 * (a: the small set, b: the large set, c: the listing user's shares), and 15 hex digits: for
 * grants and datasets the row number, zero-padded; for accounts the start of the md5 of `o<n>`
 * (owner n) or `u<n>` (user n), so that owners and users interleave in key order as the API's
 * random ids do (with owners' ids all sorting first, a plan that walked the accounts up to the
 * owner's went unseen). They cannot collide with the API's random base62 ids in practice.
 */

export interface ScaleShape {
  grants: number;
  datasets: number;
  users: number;
  /** Dataset owners (RESTRICTED accounts, so only the grants open the datasets). */
  owners: number;
}

export interface CheckSample {
  p50: number;
  p95: number;
  p99: number;
  samples: number;
  /** Answers that were not `allowed` for a granted pair, or that failed. */
  wrong: number;
}

export interface ListingSample {
  shares: number;
  firstPageCount: number;
  total: number;
  p50: number;
  p95: number;
  p99: number;
  requests: number;
  walked: number;
  pages: number;
  walkExact: boolean;
  walkMs: number;
}

const id = (kind: string, set: string, n: string) =>
  kind === 'u' || kind === 'o'
    ? `'a${set}' || substr(md5('${kind}' || (${n})::text), 1, 15)`
    : `'${kind}${set}' || lpad(to_hex(${n}), 15, '0')`;
const jsId = (kind: string, set: string, n: number) =>
  kind === 'u' || kind === 'o'
    ? `a${set}${createHash('md5').update(`${kind}${n}`).digest('hex').slice(0, 15)}`
    : `${kind}${set}${n.toString(16).padStart(15, '0')}`;

/** The small set's shape: `grants` grants, the rest scaled down in the same proportion. */
export function scaledShape(large: ScaleShape, grants: number): ScaleShape {
  const f = grants / large.grants;
  return {
    grants,
    datasets: Math.max(1, Math.round(large.datasets * f)),
    users: Math.max(1, Math.round(large.users * f)),
    owners: Math.max(1, Math.min(large.owners, Math.round(large.datasets * f))),
  };
}

/**
 * Grant n gives READ on dataset n mod D to user (d + k·stride) mod U, k = ⌊n / D⌋: every dataset
 * gets ⌈G / D⌉ grants, to distinct users (k·stride < U), and the users' shares are even.
 */
function layout(shape: ScaleShape): { perDataset: number; stride: number } {
  const perDataset = Math.ceil(shape.grants / shape.datasets);
  if (perDataset > shape.users) {
    throw new Error(`${shape.grants} grants over ${shape.datasets} datasets need ≥ ${perDataset} users`);
  }
  return { perDataset, stride: Math.floor(shape.users / perDataset) };
}

/** The (user, dataset) of grant n, as the SQL below computes it. */
function grantPair(shape: ScaleShape, set: string, n: number): { userId: string; datasetId: string } {
  const { stride } = layout(shape);
  const d = n % shape.datasets;
  const k = Math.floor(n / shape.datasets);
  return { userId: jsId('u', set, (d + k * stride) % shape.users), datasetId: jsId('d', set, d) };
}

async function timedQuery(client: Client, label: string, sql: string, params: unknown[] = []) {
  const started = performance.now();
  const res = await client.query(sql, params);
  progress(`scale: ${label} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return res;
}

/** Loads one set; returns the seconds it took (inserts and ANALYZE). */
export async function bulkLoad(databaseUrl: string, set: string, shape: ScaleShape): Promise<number> {
  const { stride } = layout(shape);
  const started = performance.now();
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query('SET synchronous_commit = off');
    await timedQuery(
      client,
      `${shape.owners + shape.users} accounts (set ${set})`,
      `INSERT INTO permissions.account_projection
         (id, username, username_lower, general_resource_access, share_runs_with_public_actor_creators, version)
       SELECT ${id('o', set, 'n')}, 'bench-${set}o' || n, 'bench-${set}o' || n, 'RESTRICTED', false, 1
       FROM generate_series(0, $1::int - 1) AS n
       UNION ALL
       SELECT ${id('u', set, 'n')}, 'bench-${set}u' || n, 'bench-${set}u' || n, 'RESTRICTED', false, 1
       FROM generate_series(0, $2::int - 1) AS n`,
      [shape.owners, shape.users],
    );
    await timedQuery(
      client,
      `${shape.datasets} datasets (set ${set})`,
      `INSERT INTO permissions.resource_projection
         (id, type, owner_id, name, general_access, is_public, version, deleted)
       SELECT ${id('d', set, 'n')}, 'DATASET', ${id('o', set, 'n % $2::int')}, 'bench-${set}-' || n,
              'FOLLOW_USER_SETTING', false, 1, false
       FROM generate_series(0, $1::int - 1) AS n`,
      [shape.datasets, shape.owners],
    );
    await timedQuery(
      client,
      `${shape.grants} grants (set ${set})`,
      `INSERT INTO permissions."grant"
         (id, resource_type, resource_id, subject_id, permissions, granted_by, hidden)
       SELECT ${id('g', set, 'n')}, 'DATASET', ${id('d', set, 'n % $2::int')},
              ${id('u', set, '((n % $2::int) + (n / $2::int) * $3::int) % $4::int')},
              ARRAY['READ'], ${id('o', set, '(n % $2::int) % $5::int')}, false
       FROM generate_series(0, $1::int - 1) AS n`,
      [shape.grants, shape.datasets, stride, shape.users, shape.owners],
    );
    await analyze(client);
  } finally {
    await client.end();
  }
  return (performance.now() - started) / 1000;
}

/** One user (set c) with READ grants on the first `shares` datasets of a loaded set. */
export async function loadLister(
  databaseUrl: string,
  datasetSet: string,
  shape: ScaleShape,
  shares: number,
): Promise<{ userId: string; datasetIds: string[]; seconds: number }> {
  if (shares > shape.datasets) throw new Error(`${shares} shares need ≥ ${shares} datasets`);
  const started = performance.now();
  const userId = jsId('u', 'c', 0);
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO permissions.account_projection
         (id, username, username_lower, general_resource_access, share_runs_with_public_actor_creators, version)
       VALUES ($1, 'bench-lister', 'bench-lister', 'RESTRICTED', false, 1)`,
      [userId],
    );
    await timedQuery(
      client,
      `${shares} grants to the listing user`,
      `INSERT INTO permissions."grant"
         (id, resource_type, resource_id, subject_id, permissions, granted_by, hidden)
       SELECT ${id('g', 'c', 'n')}, 'DATASET', ${id('d', datasetSet, 'n')}, $2,
              ARRAY['READ'], ${id('o', datasetSet, 'n % $3::int')}, false
       FROM generate_series(0, $1::int - 1) AS n`,
      [shares, userId, shape.owners],
    );
    await analyze(client);
  } finally {
    await client.end();
  }
  const datasetIds = Array.from({ length: shares }, (_, n) => jsId('d', datasetSet, n));
  return { userId, datasetIds, seconds: (performance.now() - started) / 1000 };
}

/**
 * The tables as autovacuum keeps a table in use (hint and visibility-map bits set, the planner's
 * statistics gathered), so that autovacuum does not start on the million new rows during the
 * measurement; then a checkpoint, so that the dirty pages are written now rather than during it.
 */
async function analyze(client: Client): Promise<void> {
  await timedQuery(
    client,
    'VACUUM (ANALYZE)',
    'VACUUM (ANALYZE) permissions."grant", permissions.resource_projection, permissions.account_projection',
  );
  await timedQuery(client, 'CHECKPOINT', 'CHECKPOINT');
}

/** The permissions service's RPC, straight over RabbitMQ (the gateway's transport, no cache). */
export function permissionsClient(amqpUrl: string): RpcClient {
  return new RpcClient(new RmqRpcTransport(amqpUrl), 5000);
}

/** Deterministic pseudo-random numbers (so runs sample alike). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** p50, p95 and p99 of a run's latencies, with its count of wrong answers. */
function sampleOf(latencies: number[], wrong: number): CheckSample {
  return {
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    samples: latencies.length,
    wrong,
  };
}

/** One timed call: its milliseconds and whether it answered as expected. */
type TimedCall = () => Promise<{ ms: number; ok: boolean }>;

async function timed(call: () => Promise<boolean>): Promise<{ ms: number; ok: boolean }> {
  const started = performance.now();
  let ok: boolean;
  try {
    ok = await call();
  } catch {
    ok = false;
  }
  return { ms: performance.now() - started, ok };
}

/**
 * A READ check for a random granted pair of a set: each is a check no cache has seen, the pairs
 * being drawn from all the set's grants. Right when allowed by the grant rule.
 */
function checkCall(rpc: RpcClient, set: string, shape: ScaleShape, seed: number): TimedCall {
  const next = random(seed);
  return () => {
    const { userId, datasetId } = grantPair(shape, set, Math.floor(next() * shape.grants));
    return timed(async () => {
      const result = await readCheck(rpc, userId, datasetId);
      return result.allowed && result.rule === 'grant';
    });
  };
}

/** A READ check of a dataset, asked as the gateway asks a cache miss (AccessDecisions): from the facts in memory where fresh. */
function readCheck(rpc: RpcClient, userId: string, datasetId: string): Promise<CheckResult> {
  return rpc.call(PermissionsRpc.check, {
    principal: { userId },
    resourceType: 'DATASET',
    resourceRef: datasetId,
    permission: 'READ',
    acceptFactsAge: true,
  });
}

/**
 * Waits until the permissions service answers a loaded set's checks from its facts in memory
 * (FactsMirror: it loads them again after a bulk load such as `bulkLoad`'s); the seconds waited.
 */
export async function waitForFactsInMemory(rpc: RpcClient, set: string, shape: ScaleShape): Promise<number> {
  const started = performance.now();
  const { userId, datasetId } = grantPair(shape, set, 0);
  for (;;) {
    const result = await readCheck(rpc, userId, datasetId);
    if (result.factsAgeMs !== undefined) return (performance.now() - started) / 1000;
    if (performance.now() - started > 300_000) throw new Error('the facts were not in memory within 300 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Sequential calls (one in flight) of each of `calls`, taken in turn — a, b, b, a, a, b, … (the
 * order flips every round, so none always follows another) — after `warmup` unmeasured
 * rounds: each run's latencies, measured over the same seconds, so that what the machine does
 * meanwhile falls on all of them alike.
 */
async function measureInTurn(calls: TimedCall[], samples: number, warmup: number): Promise<CheckSample[]> {
  const latencies = calls.map(() => [] as number[]);
  const wrong = calls.map(() => 0);
  for (let round = 0; round < warmup + samples; round++) {
    for (let j = 0; j < calls.length; j++) {
      const i = round % 2 ? calls.length - 1 - j : j;
      const { ms, ok } = await calls[i]();
      if (round < warmup) continue;
      latencies[i].push(ms);
      if (!ok) wrong[i]++;
    }
  }
  return calls.map((_, i) => sampleOf(latencies[i], wrong[i]));
}

/** Sequential READ checks (one in flight) for random granted pairs of a set, after `warmup` unmeasured ones. */
export async function measureChecks(
  rpc: RpcClient,
  set: string,
  shape: ScaleShape,
  samples: number,
  warmup: number,
  seed: number,
): Promise<CheckSample> {
  const [checks] = await measureInTurn([checkCall(rpc, set, shape, seed)], samples, warmup);
  return checks;
}

/**
 * Checks as `measureChecks` makes them, in turn with the floor under a check: the same sequential
 * RPC round trip (expiring request, direct reply-to) to the baseline's echo service, which does no
 * work — persistent, as the baseline's every RPC is, and transient, as Atrium sends a read's (a
 * check carries no idempotency key: `RmqRpcTransport`). Call by call in turn, so that all three
 * see the same moments of the machine.
 */
export async function measureChecksWithEcho(
  rpc: RpcClient,
  amqpUrl: string,
  set: string,
  shape: ScaleShape,
  samples: number,
  warmup: number,
  seed: number,
): Promise<{ echo: CheckSample; echoTransient: CheckSample; checks: CheckSample }> {
  const client = new ClientRMQ(benchClientOptions(amqpUrl));
  try {
    await within(client.connect(), 10_000, 'echo RPC connect');
    let n = 0;
    const echo =
      (persistent: boolean): TimedCall =>
      () => {
        const record = new RmqRecordBuilder({ id: String(n++) })
          .setOptions({ expiration: '5000', persistent })
          .build();
        return timed(
          async () => !!(await lastValueFrom(client.send(BENCH_ECHO_PATTERN, record).pipe(timeout(5000)))),
        );
      };
    const [echoSample, echoTransient, checks] = await measureInTurn(
      [echo(true), echo(false), checkCall(rpc, set, shape, seed)],
      samples,
      warmup,
    );
    return { echo: echoSample, echoTransient, checks };
  } finally {
    await client.close();
  }
}

/** First page of 100 (sequential, after 20 warm-up requests), then a walk of every 1000-page. */
export async function measureListing(
  rpc: RpcClient,
  lister: { userId: string; datasetIds: string[] },
  requests: number,
): Promise<ListingSample> {
  const page = (offset: number, limit: number) =>
    rpc.call(PermissionsRpc.listSharedWith, {
      subjectId: lister.userId,
      resourceType: 'DATASET',
      offset,
      limit,
      desc: false,
    });
  const latencies: number[] = [];
  let first = { total: 0, resourceIds: [] as string[] };
  for (let i = 0; i < 20 + requests; i++) {
    const started = performance.now();
    first = await page(0, 100);
    if (i >= 20) latencies.push(performance.now() - started);
  }
  const walkStarted = performance.now();
  const seen = new Set<string>();
  let listed = 0;
  let pages = 0;
  const limit = 1000;
  for (let offset = 0; pages < lister.datasetIds.length / limit + 3; offset += limit) {
    const res = await within(page(offset, limit), 10_000, 'listSharedWith page');
    pages++;
    for (const resourceId of res.resourceIds) seen.add(resourceId);
    listed += res.resourceIds.length;
    if (res.resourceIds.length < limit) break;
  }
  const walkMs = performance.now() - walkStarted;
  const expected = new Set(lister.datasetIds);
  const walkExact =
    listed === expected.size && seen.size === expected.size && [...seen].every((x) => expected.has(x));
  return {
    shares: lister.datasetIds.length,
    firstPageCount: first.resourceIds.length,
    total: first.total,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    requests: latencies.length,
    walked: seen.size,
    pages,
    walkExact,
    walkMs,
  };
}
