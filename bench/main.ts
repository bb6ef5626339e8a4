/**
 * `npm run bench`: Atrium's authorization overhead, revocation latency, sharedWithMe listing,
 * checks and listing at scale (bulk-loaded grants) and the embedded start, against a baseline
 * measured in the same run, on real PostgreSQL and RabbitMQ with every service in its own process
 * and two gateway replicas. Prints one table and writes bench/RESULTS.md.
 *
 * Environment: BENCH_DURATION_S (10), BENCH_PAIRS (10000), BENCH_WARMUP_S (2),
 * BENCH_REVOKE_TRIALS (200), BENCH_LIST_SHARES (1000), BENCH_LIST_REQUESTS (300),
 * BENCH_SCALE_GRANTS (1000000), BENCH_SCALE_DATASETS (100000), BENCH_SCALE_USERS (10000),
 * BENCH_SCALE_OWNERS (100), BENCH_SCALE_SMALL_GRANTS (1000), BENCH_SCALE_CHECKS (2000),
 * BENCH_SCALE_LIST_SHARES (10000), BENCH_SCALE_LIST_REQUESTS (300), BENCH_EMBEDDED_TIMEOUT_S (60),
 * BENCH_RATE (1000), BENCH_CONNECTIONS (64), BENCH_SETUP_CONCURRENCY (8), BENCH_DATABASE_URL (admin URL,
 * postgres://postgres@127.0.0.1:5432/postgres), BENCH_AMQP_URL (amqp://guest:guest@127.0.0.1:5672;
 * the vhost `atrium-bench` is used when it exists), BENCH_TIMEOUT_S (900, the whole run),
 * BENCH_RESULTS (bench/RESULTS.md), BENCH_PROFILE (children to CPU-profile, e.g. gateway-1,resources).
 *
 * It is a measurement, not a test: missed targets are reported as FAIL and the exit code is 0;
 * only a failure of the harness itself (a service that does not start, a setup call that fails)
 * exits 1.
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdtempSync, writeFileSync } from 'fs';
import * as os from 'os';
import { join } from 'path';
import { Api, retries } from './lib/api';
import { chooseAmqpUrl, createBenchDatabase, randomSuffix, resetBenchVhost } from './lib/infra';
import { LoadOptions, LoadResult, runLoad, runStaggeredLoad, stopLoad } from './lib/load';
import { percentile, print, progress, sleep, within } from './lib/log';
import { freePort, ProcessGroup, REPO_ROOT } from './lib/processes';
import { markdownTable, ms, ratio, Row, rps, verdict } from './lib/report';
import {
  bulkLoad,
  CheckSample,
  ListingSample,
  loadLister,
  measureChecks,
  measureEchoRpc,
  measureListing,
  permissionsClient,
  ScaleShape,
  scaledShape,
} from './lib/scale';
import { buildFixture, Fixture, grantRead } from './lib/setup';
import { embeddedStart } from './lib/embedded';
import { cpuPerRequest, cpuSnapshot } from './lib/cpu';

function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return value;
}

const config = {
  durationS: intEnv('BENCH_DURATION_S', 10),
  pairs: intEnv('BENCH_PAIRS', 10_000),
  warmupS: intEnv('BENCH_WARMUP_S', 2, 0),
  revokeTrials: intEnv('BENCH_REVOKE_TRIALS', 200),
  listShares: intEnv('BENCH_LIST_SHARES', 1000),
  listRequests: intEnv('BENCH_LIST_REQUESTS', 300),
  rate: intEnv('BENCH_RATE', 1000),
  scale: {
    grants: intEnv('BENCH_SCALE_GRANTS', 1_000_000),
    datasets: intEnv('BENCH_SCALE_DATASETS', 100_000),
    users: intEnv('BENCH_SCALE_USERS', 10_000),
    owners: intEnv('BENCH_SCALE_OWNERS', 100),
  },
  scaleSmallGrants: intEnv('BENCH_SCALE_SMALL_GRANTS', 1000),
  scaleChecks: intEnv('BENCH_SCALE_CHECKS', 2000),
  scaleCheckWarmup: 200,
  scaleListShares: intEnv('BENCH_SCALE_LIST_SHARES', 10_000),
  scaleListRequests: intEnv('BENCH_SCALE_LIST_REQUESTS', 300),
  embeddedTimeoutS: intEnv('BENCH_EMBEDDED_TIMEOUT_S', 60),
  connections: intEnv('BENCH_CONNECTIONS', 64, 2),
  timeoutS: intEnv('BENCH_TIMEOUT_S', 900),
  adminDatabaseUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  amqpUrl: process.env.BENCH_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672',
  resultsFile: process.env.BENCH_RESULTS || join(REPO_ROOT, 'bench', 'RESULTS.md'),
};

const READY_TIMEOUT_MS = 120_000;
const REVOKE_POLL_MS = 5;
const PROPAGATION_TIMEOUT_MS = 5000;

const logDir = mkdtempSync(join(os.tmpdir(), 'atrium-bench-'));
const group = new ProcessGroup(logDir);
let dropDatabase: (() => Promise<void>) | undefined;
let stopping = false;
let deadChild: string | undefined;

let cleanupPromise: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleanupPromise ??= (async () => {
    stopping = true;
    try {
      stopLoad();
    } catch {
      // nothing running
    }
    await group.stopAll();
    if (dropDatabase) {
      try {
        await within(dropDatabase(), 15_000, 'DROP DATABASE');
        progress('dropped the benchmark database');
      } catch (err) {
        progress(`could not drop the benchmark database: ${(err as Error).message}`);
      }
    }
  })();
  return cleanupPromise;
}

function onSignal(signal: NodeJS.Signals): void {
  progress(`${signal}: stopping`);
  void cleanup().finally(() => process.exit(130));
}
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

function checkAlive(): void {
  if (deadChild) throw new Error(`${deadChild} exited during the run:\n${group.tail(deadChild)}`);
}

async function waitReady(name: string, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    checkAlive();
    try {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${name} not ready within ${READY_TIMEOUT_MS} ms:\n${group.tail(name)}`);
    await sleep(250);
  }
}

/** CPU per request by process, one line per measured run. */
const cpuUse: string[] = [];

/** A warm-up (discarded), then the measured run with the same shape. */
async function measure(
  label: string,
  options: LoadOptions,
  runner: (options: LoadOptions) => Promise<LoadResult> = runLoad,
): Promise<LoadResult> {
  checkAlive();
  if (config.warmupS > 0 && options.durationS) {
    await runner({ ...options, durationS: config.warmupS });
  }
  const cpuBefore = cpuSnapshot(group.running());
  const result = await runner(options);
  const cpu = cpuPerRequest(cpuBefore, cpuSnapshot(group.running()), result.responses);
  cpuUse.push(`${label}: ${cpu}`);
  progress(
    `${label}: ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ` +
      `errors ${result.errors} ${JSON.stringify(result.statusCounts)}`,
  );
  checkAlive();
  return result;
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface RevocationResult {
  trials: number;
  denyLatencies: number[];
  timedOut: number;
  allowsOnGateway1: number;
  otherStatuses: Record<string, number>;
  grantVisibleLatencies: number[];
  readAfterGrantFailures: number;
}

/**
 * grant (gateway 1) → read on gateway 1 (must allow) → poll gateway 2 until it allows (also
 * warming any cache there) → revoke (gateway 1) → from the revoke response, poll both gateways
 * every 5 ms: gateway 1 must never allow again, and the time until gateway 2 denies is recorded.
 */
async function revocation(g1: Api, g2: Api, fixture: Fixture): Promise<RevocationResult> {
  const { owner, revokee, revocationDatasetId: ds } = fixture;
  const path = `/v2/datasets/${ds}`;
  const read = (api: Api) => api.request('GET', path, { token: revokee.apiToken, timeoutMs: 5000 });
  const result: RevocationResult = {
    trials: config.revokeTrials,
    denyLatencies: [],
    timedOut: 0,
    allowsOnGateway1: 0,
    otherStatuses: {},
    grantVisibleLatencies: [],
    readAfterGrantFailures: 0,
  };
  const other = (label: string, status: number) => {
    const key = `${label} ${status}`;
    result.otherStatuses[key] = (result.otherStatuses[key] ?? 0) + 1;
  };
  for (let trial = 0; trial < config.revokeTrials; trial++) {
    checkAlive();
    const grantId = await grantRead(g1, owner, ds, revokee);
    const granted = performance.now();
    if ((await read(g1)).status !== 200) result.readAfterGrantFailures++;
    for (;;) {
      const res = await read(g2);
      if (res.status === 200) {
        result.grantVisibleLatencies.push(performance.now() - granted);
        break;
      }
      if (performance.now() - granted > PROPAGATION_TIMEOUT_MS) {
        throw new Error(`gateway 2 did not allow a granted read within ${PROPAGATION_TIMEOUT_MS} ms`);
      }
      await sleep(REVOKE_POLL_MS);
    }
    await read(g2); // a second allowed read on gateway 2: whatever it caches, it has cached

    await g1.expect(204, 'DELETE', `${path}/access/grants/${grantId}`, { token: owner.apiToken });
    const revoked = performance.now();
    let denied = false;
    while (!denied) {
      const tick = performance.now();
      const [r1, r2] = await Promise.all([read(g1), read(g2)]);
      if (r1.status === 200) result.allowsOnGateway1++;
      else if (r1.status !== 404) other('gateway 1', r1.status);
      if (r2.status === 404) {
        result.denyLatencies.push(performance.now() - revoked);
        denied = true;
      } else if (r2.status !== 200) {
        other('gateway 2', r2.status);
      }
      if (!denied && performance.now() - revoked > PROPAGATION_TIMEOUT_MS) {
        result.timedOut++;
        break;
      }
      if (!denied) await sleep(Math.max(0, REVOKE_POLL_MS - (performance.now() - tick)));
    }
  }
  return result;
}

interface ListingResult {
  shares: number;
  firstPageCount: number;
  total: number;
  walked: number;
  walkExact: boolean;
  load: LoadResult;
}

async function listing(g1: Api, fixture: Fixture): Promise<ListingResult> {
  const token = fixture.lister.apiToken;
  const first = await g1.expect<{ total: number; count: number }>(
    200,
    'GET',
    '/v2/datasets?ownership=sharedWithMe&limit=100',
    { token },
  );
  // Walk every page: each shared dataset exactly once.
  const seen = new Set<string>();
  let listed = 0;
  for (let offset = 0, pages = 0; pages < fixture.listerShares / 100 + 3; offset += 100, pages++) {
    const page = await g1.expect<{ items: { id: string }[] }>(
      200,
      'GET',
      `/v2/datasets?ownership=sharedWithMe&limit=100&offset=${offset}`,
      { token },
    );
    for (const item of page.items) seen.add(item.id);
    listed += page.items.length;
    if (page.items.length < 100) break;
  }
  const path = '/v2/datasets?ownership=sharedWithMe&limit=100';
  const next = () => ({ path, headers: bearer(token) });
  await runLoad({ targets: [g1.base], connections: 1, amount: 20, next });
  const load = await runLoad({ targets: [g1.base], connections: 1, amount: config.listRequests, next });
  progress(
    `sharedWithMe: p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms, errors ${load.errors}`,
  );
  return {
    shares: fixture.listerShares,
    firstPageCount: first.count,
    total: first.total,
    walked: seen.size,
    walkExact: seen.size === fixture.listerShares && listed === fixture.listerShares,
    load,
  };
}

interface ScaleResult {
  small: ScaleShape;
  large: ScaleShape;
  smallChecks: CheckSample;
  largeChecks: CheckSample;
  listing: ListingSample;
  /** The same sequential RPC round trip to the baseline's echo service (no work). */
  echo: CheckSample;
  loadSeconds: { small: number; large: number; lister: number };
}

/**
 * Checks at a small and a large number of grants, then listing for a user with many shares: all
 * bulk-loaded with SQL into the bench database's permissions schema, all asked of the permissions
 * service directly (no gateway, no decision cache). The small set is loaded and measured first,
 * while the table holds only it (and the few thousand API-made grants of the earlier scenarios).
 */
async function scale(databaseUrl: string, amqpUrl: string): Promise<ScaleResult> {
  const large: ScaleShape = config.scale;
  const small = scaledShape(large, Math.min(config.scaleSmallGrants, large.grants));
  const rpc = permissionsClient(amqpUrl);
  try {
    const smallLoad = await bulkLoad(databaseUrl, 'a', small);
    await sleep(2000); // let the revocation trials' events and audit writes drain first
    checkAlive();
    const smallChecks = await measureChecks(rpc, 'a', small, config.scaleChecks, config.scaleCheckWarmup, 1);
    progress(
      `scale: checks at ${small.grants} grants: p50 ${smallChecks.p50.toFixed(2)} ms, p99 ${smallChecks.p99.toFixed(2)} ms, wrong ${smallChecks.wrong}`,
    );
    const largeLoad = await within(bulkLoad(databaseUrl, 'b', large), 600_000, 'bulk load');
    checkAlive();
    const largeChecks = await measureChecks(rpc, 'b', large, config.scaleChecks, config.scaleCheckWarmup, 2);
    progress(
      `scale: checks at ${large.grants} grants: p50 ${largeChecks.p50.toFixed(2)} ms, p99 ${largeChecks.p99.toFixed(2)} ms, wrong ${largeChecks.wrong}`,
    );
    const echo = await measureEchoRpc(amqpUrl, config.scaleChecks, config.scaleCheckWarmup);
    progress(
      `scale: echo RPC: p50 ${echo.p50.toFixed(2)} ms, p99 ${echo.p99.toFixed(2)} ms, failed ${echo.wrong}`,
    );
    const lister = await loadLister(
      databaseUrl,
      'b',
      large,
      Math.min(config.scaleListShares, large.datasets),
    );
    checkAlive();
    const listing = await measureListing(rpc, lister, config.scaleListRequests);
    progress(
      `scale: listSharedWith first page (${listing.shares} shares): p50 ${listing.p50.toFixed(2)} ms, ` +
        `p95 ${listing.p95.toFixed(2)} ms; walk ${listing.walked} in ${listing.pages} pages, exact ${listing.walkExact}`,
    );
    return {
      small,
      large,
      smallChecks,
      largeChecks,
      listing,
      echo,
      loadSeconds: { small: smallLoad, large: largeLoad, lister: lister.seconds },
    };
  } finally {
    await rpc.close().catch(() => undefined);
  }
}

function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return (
    `${cpus.length} × ${model}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
    `${os.type()} ${os.release()} (${os.arch()}), Node ${process.version}`
  );
}

function revision(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs'], { cwd: REPO_ROOT })
      .toString()
      .trim();
    return dirty ? `${sha} + uncommitted changes in apps/ libs/` : sha;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const overall = setTimeout(() => {
    progress(`the run exceeded BENCH_TIMEOUT_S=${config.timeoutS}: aborting`);
    void cleanup().finally(() => process.exit(1));
  }, config.timeoutS * 1000);
  overall.unref();

  const runId = randomSuffix(6);
  // 0. Embedded start, first, on a quiet machine (nothing else of the benchmark runs yet).
  const embedded = await embeddedStart(group, config.embeddedTimeoutS * 1000);
  progress(
    `embedded start: ready ${embedded.readyMs === null ? 'never' : `${embedded.readyMs.toFixed(0)} ms`}, ` +
      `RSS ${embedded.rssAtReadyMB?.toFixed(0) ?? '?'} MB at ready, ${embedded.rssSettledMB?.toFixed(0) ?? '?'} MB 2 s later` +
      (embedded.error ? `; ${embedded.error}` : ''),
  );
  const { url: amqpUrl, vhost } = await chooseAmqpUrl(config.amqpUrl);
  progress(`RabbitMQ vhost ${vhost}; logs in ${logDir}`);
  if (vhost !== '/') await resetBenchVhost(amqpUrl);
  const db = await createBenchDatabase(config.adminDatabaseUrl);
  dropDatabase = db.drop;
  progress(`database ${new URL(db.url).pathname.slice(1)}`);

  const env = {
    DATABASE_URL: db.url,
    AMQP_URL: amqpUrl,
    JWT_SECRET: randomBytes(36).toString('base64url'), // 48 characters
    RUN_MIGRATIONS: 'false',
    LOG_LEVEL: 'warn',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
    HOST: '127.0.0.1',
  };
  await group.run('migrate', 'tools/migrate.ts', env, 180_000);
  progress('migrated');

  const [port1, port2, basePort] = [await freePort(), await freePort(), await freePort()];
  group.start('echo-service', 'bench/baseline/echo-service.ts', { AMQP_URL: amqpUrl });
  group.start('baseline-gateway', 'bench/baseline/baseline-gateway.ts', {
    AMQP_URL: amqpUrl,
    PORT: String(basePort),
  });
  for (const service of ['identity', 'resources', 'permissions', 'issues']) {
    group.start(service, `apps/${service}/src/main.ts`, env);
  }
  group.start('gateway-1', 'apps/gateway/src/main.ts', { ...env, PORT: String(port1) });
  group.start('gateway-2', 'apps/gateway/src/main.ts', { ...env, PORT: String(port2) });
  group.watch((name, code) => {
    if (!stopping && !deadChild) {
      deadChild = name;
      progress(`${name} exited (code ${code})`);
    }
  });
  const g1 = new Api(port1);
  const g2 = new Api(port2);
  const baseUrl = `http://127.0.0.1:${basePort}`;
  await Promise.all([
    waitReady('gateway-1', g1.base),
    waitReady('gateway-2', g2.base),
    waitReady('baseline-gateway', baseUrl),
  ]);
  progress(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // 1. Baseline, while Atrium is idle.
  const c = config.connections;
  let n = 0;
  const echo = () => ({ path: `/bench/echo/${(n++).toString(36)}` });
  const baseline = await measure('baseline', {
    targets: [baseUrl],
    connections: c,
    durationS: config.durationS,
    next: echo,
  });
  const baselineFixed = await measure(`baseline at ${config.rate} req/s`, {
    targets: [baseUrl],
    connections: c,
    durationS: config.durationS,
    overallRate: config.rate,
    next: echo,
  });

  const paced = (options: LoadOptions) => runStaggeredLoad({ ...options, overallRate: config.rate });
  const baselinePaced = await measure(
    `baseline at ${config.rate} req/s, paced`,
    { targets: [baseUrl], connections: c, durationS: config.durationS, next: echo },
    paced,
  );

  // Setup through the public API of gateway 1.
  const setupStarted = performance.now();
  const fixture = await buildFixture(g1, { pairs: config.pairs, listShares: config.listShares, runId });
  const setupS = (performance.now() - setupStarted) / 1000;
  const hot = fixture.pairs[0];
  const hotPath = `/v2/datasets/${hot.datasetId}`;
  // Sanity: the grantee reads on both replicas; a user without a grant and anonymous do not.
  for (const api of [g1, g2]) {
    await api.expect(200, 'GET', hotPath, { token: hot.grantee.apiToken });
    await api.expect(404, 'GET', hotPath, { token: fixture.revokee.apiToken });
    await api.expect(404, 'GET', hotPath);
  }
  await sleep(2000); // let the setup's events drain
  checkAlive();

  const both = [g1.base, g2.base];
  const hotRequest = () => ({ path: hotPath, headers: bearer(hot.grantee.apiToken) });
  // 2. Authorized read, one grantee and one dataset, spread over both gateways.
  const authorized = await measure('authorized read', {
    targets: both,
    connections: c,
    durationS: config.durationS,
    next: hotRequest,
  });
  // 3. The same with every pair in rotation.
  let k = 0;
  const pairPaths = fixture.pairs.map((p) => ({
    path: `/v2/datasets/${p.datasetId}`,
    headers: bearer(p.grantee.apiToken),
  }));
  const rotating = () => pairPaths[k++ % pairPaths.length];
  const rotated = await measure(`authorized read, ${pairPaths.length} pairs`, {
    targets: both,
    connections: c,
    durationS: config.durationS,
    next: rotating,
  });
  // 4. Fixed offered load.
  const authorizedFixed = await measure(`authorized read at ${config.rate} req/s`, {
    targets: both,
    connections: c,
    durationS: config.durationS,
    overallRate: config.rate,
    next: hotRequest,
  });
  const authorizedPaced = await measure(
    `authorized read at ${config.rate} req/s, paced`,
    { targets: both, connections: c, durationS: config.durationS, next: hotRequest },
    paced,
  );
  // 6. sharedWithMe listing (before the revocation trials' churn).
  const list = await listing(g1, fixture);
  // 5. Revocation.
  const revoke = await revocation(g1, g2, fixture);
  const denyP50 = percentile(revoke.denyLatencies, 0.5);
  const denyP99 = revoke.timedOut ? Infinity : percentile(revoke.denyLatencies, 0.99);
  progress(
    `revocation: p50 ${denyP50.toFixed(2)} ms, p99 ${denyP99.toFixed(2)} ms, timed out ${revoke.timedOut}`,
  );
  // 7. Scale (last: it leaves a million rows in the database).
  const sc = await scale(db.url, amqpUrl);

  const r = (
    figure: string,
    atrium: string,
    base: string,
    rat: string,
    target: string,
    ok?: boolean,
  ): Row => ({
    figure,
    atrium,
    baseline: base,
    ratio: rat,
    target,
    result: ok === undefined ? '' : verdict(ok),
  });
  const pairsLabel = `${fixture.pairs.length.toLocaleString('en-US')} pairs`;
  const rows: Row[] = [
    r(
      `throughput, ${c} conn, ${config.durationS} s (1 grantee × 1 dataset)`,
      rps(authorized.rps),
      rps(baseline.rps),
      ratio(authorized.rps, baseline.rps),
      '≥ 0.50×',
      authorized.rps >= 0.5 * baseline.rps,
    ),
    r('  p50 latency', ms(authorized.p50), ms(baseline.p50), ratio(authorized.p50, baseline.p50), ''),
    r('  p99 latency', ms(authorized.p99), ms(baseline.p99), ratio(authorized.p99, baseline.p99), ''),
    r(
      '  errors (non-2xx, socket, timeout)',
      String(authorized.errors),
      String(baseline.errors),
      '',
      '0',
      authorized.errors === 0,
    ),
    r(
      `throughput, ${c} conn, ${config.durationS} s, ${pairsLabel} in rotation`,
      rps(rotated.rps),
      rps(baseline.rps),
      ratio(rotated.rps, baseline.rps),
      '≥ 0.35×',
      rotated.rps >= 0.35 * baseline.rps,
    ),
    r(
      '  p50 / p99 latency',
      `${ms(rotated.p50)} / ${ms(rotated.p99)}`,
      `${ms(baseline.p50)} / ${ms(baseline.p99)}`,
      ratio(rotated.p99, baseline.p99),
      '',
    ),
    r(
      '  errors (non-2xx, socket, timeout)',
      String(rotated.errors),
      String(baseline.errors),
      '',
      '0',
      rotated.errors === 0,
    ),
    r(
      `p99 at fixed ${config.rate.toLocaleString('en-US')} req/s offered (1 × 1)`,
      ms(authorizedFixed.p99),
      ms(baselineFixed.p99),
      ratio(authorizedFixed.p99, baselineFixed.p99),
      '≤ 2.00×',
      authorizedFixed.p99 <= 2 * baselineFixed.p99,
    ),
    r(
      '  p50 / achieved rate / errors',
      `${ms(authorizedFixed.p50)} / ${rps(authorizedFixed.rps)} / ${authorizedFixed.errors}`,
      `${ms(baselineFixed.p50)} / ${rps(baselineFixed.rps)} / ${baselineFixed.errors}`,
      '',
      '',
    ),
    r(
      `p99 at ${config.rate.toLocaleString('en-US')} req/s, paced (20 staggered instances)`,
      ms(authorizedPaced.p99),
      ms(baselinePaced.p99),
      ratio(authorizedPaced.p99, baselinePaced.p99),
      '≤ 2.00×',
      authorizedPaced.p99 <= 2 * baselinePaced.p99,
    ),
    r(
      '  p50 / achieved rate / errors',
      `${ms(authorizedPaced.p50)} / ${rps(authorizedPaced.rps)} / ${authorizedPaced.errors}`,
      `${ms(baselinePaced.p50)} / ${rps(baselinePaced.rps)} / ${baselinePaced.errors}`,
      '',
      '',
    ),
    r(`revocation → gateway 2 denies, p50 (${revoke.trials} trials)`, ms(denyP50), '', '', ''),
    r(
      'revocation → gateway 2 denies, p99',
      revoke.timedOut ? `> ${PROPAGATION_TIMEOUT_MS} ms (${revoke.timedOut} timed out)` : ms(denyP99),
      '',
      '',
      '≤ 250 ms',
      denyP99 <= 250,
    ),
    r(
      'allows on gateway 1 after its revoke response',
      String(revoke.allowsOnGateway1),
      '',
      '',
      '0',
      revoke.allowsOnGateway1 === 0,
    ),
    r(
      'grant → gateway 2 allows, p50 / p99',
      `${ms(percentile(revoke.grantVisibleLatencies, 0.5))} / ${ms(percentile(revoke.grantVisibleLatencies, 0.99))}`,
      '',
      '',
      '',
    ),
    r(
      `sharedWithMe first page of 100 (${list.shares.toLocaleString('en-US')} shares), p50`,
      ms(list.load.p50),
      '',
      '',
      '',
    ),
    r(
      'sharedWithMe first page, p95 / p99',
      `${ms(list.load.p95)} / ${ms(list.load.p99)}`,
      '',
      '',
      'p95 ≤ 20 ms',
      list.load.p95 <= 20 && list.load.errors === 0,
    ),
    r(
      'sharedWithMe walk of all pages exact',
      `${list.walked} of ${list.shares}`,
      '',
      '',
      'all, once',
      list.walkExact,
    ),
    r(
      `check RPC, cache miss, p99 (${fmt(sc.large.grants)} grants, ${fmt(sc.large.datasets)} datasets, ${fmt(sc.large.users)} users)`,
      ms(sc.largeChecks.p99),
      `${ms(sc.echo.p99)} (echo RPC)`,
      ratio(sc.largeChecks.p99, sc.echo.p99),
      '≤ 5 ms',
      sc.largeChecks.p99 <= 5,
    ),
    r(
      '  p50 / p95',
      `${ms(sc.largeChecks.p50)} / ${ms(sc.largeChecks.p95)}`,
      `${ms(sc.echo.p50)} / ${ms(sc.echo.p95)}`,
      '',
      '',
    ),
    r(
      `  p99 against the same at ${fmt(sc.small.grants)} grants`,
      ms(sc.largeChecks.p99),
      `${ms(sc.smallChecks.p99)} (${fmt(sc.small.grants)} grants)`,
      ratio(sc.largeChecks.p99, sc.smallChecks.p99),
      '≤ 1.50×',
      sc.largeChecks.p99 <= 1.5 * sc.smallChecks.p99,
    ),
    r(
      '  answers not allowed by the grant',
      `${sc.largeChecks.wrong + sc.smallChecks.wrong} of ${sc.largeChecks.samples + sc.smallChecks.samples}`,
      '',
      '',
      '0',
      sc.largeChecks.wrong + sc.smallChecks.wrong === 0,
    ),
    r(
      `listSharedWith first page of 100 (${fmt(sc.listing.shares)} shares), p95`,
      ms(sc.listing.p95),
      '',
      '',
      'p95 ≤ 20 ms',
      sc.listing.p95 <= 20,
    ),
    r('  p50 / p99', `${ms(sc.listing.p50)} / ${ms(sc.listing.p99)}`, '', '', ''),
    r(
      'listSharedWith walk, offset pages of 1000, exact',
      `${fmt(sc.listing.walked)} of ${fmt(sc.listing.shares)} (${sc.listing.pages} pages)`,
      '',
      '',
      'all, once',
      sc.listing.walkExact,
    ),
    r(
      'embedded start (npm start, fresh data dir): ready',
      embedded.readyMs === null ? 'never' : `${(embedded.readyMs / 1000).toFixed(2)} s`,
      '',
      '',
      '≤ 10 s',
      embedded.readyMs !== null && embedded.readyMs <= 10_000,
    ),
    r(
      '  resident memory at ready / 2 s later',
      embedded.rssAtReadyMB === null
        ? 'n/a'
        : `${embedded.rssAtReadyMB.toFixed(0)} MB / ${embedded.rssSettledMB?.toFixed(0) ?? 'n/a'} MB`,
      '',
      '',
      '≤ 400 MB',
      embedded.rssAtReadyMB !== null &&
        embedded.rssSettledMB !== null &&
        Math.max(embedded.rssAtReadyMB, embedded.rssSettledMB) <= 400,
    ),
  ];

  const table = markdownTable(rows);
  const details = [
    `- Status codes: baseline ${JSON.stringify(baseline.statusCounts)}; authorized ${JSON.stringify(authorized.statusCounts)}; ` +
      `${pairsLabel} ${JSON.stringify(rotated.statusCounts)}; baseline fixed ${JSON.stringify(baselineFixed.statusCounts)}; ` +
      `authorized fixed ${JSON.stringify(authorizedFixed.statusCounts)}; baseline paced ${JSON.stringify(baselinePaced.statusCounts)}; ` +
      `authorized paced ${JSON.stringify(authorizedPaced.statusCounts)}; sharedWithMe ${JSON.stringify(list.load.statusCounts)}.`,
    `- CPU per request by process (user + system; PostgreSQL and RabbitMQ are the machine's, shared with anything else running): ` +
      cpuUse.join('; ') +
      '.',
    `- Revocation: ${revoke.denyLatencies.length} of ${revoke.trials} trials denied on gateway 2 within ${PROPAGATION_TIMEOUT_MS} ms` +
      ` (max ${ms(Math.max(...revoke.denyLatencies))}); reads on gateway 1 right after the grant that were not 200: ${revoke.readAfterGrantFailures}` +
      `; other statuses while polling: ${JSON.stringify(revoke.otherStatuses)}.`,
    `- sharedWithMe: first page count ${list.firstPageCount}, total ${list.total}; ${list.load.responses} sequential requests on one connection.`,
    `- Setup through the API (${setupS.toFixed(1)} s): ${Object.entries(fixture.timings)
      .map(([what, s]) => `${what} ${s.toFixed(1)} s`)
      .join('; ')}.`,
    `- Setup calls retried after a 429/5xx or network error: ${retries.length}` +
      (retries.length ? ` (${[...new Set(retries)].slice(0, 5).join('; ')})` : '') +
      '.',
    `- Scale: bulk-loaded with SQL (${sc.loadSeconds.small.toFixed(1)} s for ${fmt(sc.small.grants)} grants over ` +
      `${fmt(sc.small.datasets)} datasets and ${fmt(sc.small.users)} users; ${sc.loadSeconds.large.toFixed(1)} s for ` +
      `${fmt(sc.large.grants)} grants over ${fmt(sc.large.datasets)} datasets and ${fmt(sc.large.users)} users, ` +
      `${fmt(sc.large.owners)} RESTRICTED owners; ${sc.loadSeconds.lister.toFixed(1)} s for the listing user's ` +
      `${fmt(sc.listing.shares)} grants, on top). Checks: ${sc.smallChecks.samples} sequential at each size after ` +
      `${config.scaleCheckWarmup} warm-up; at ${fmt(sc.small.grants)} grants p50 ${ms(sc.smallChecks.p50)}, p95 ${ms(sc.smallChecks.p95)}. ` +
      `listSharedWith: first page count ${sc.listing.firstPageCount}, total ${fmt(sc.listing.total)}, ` +
      `${sc.listing.requests} sequential requests; walk ${sc.listing.walkMs.toFixed(0)} ms.`,
    `- Embedded start: ${
      embedded.error
        ? `failed: ${embedded.error.split('\n').join(' ').slice(0, 400)}`
        : 'PGlite in a fresh temporary directory, in-process bus'
    }.`,
    `- Whole run: ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ];
  const header = [
    `Date: ${new Date().toISOString()}`,
    `Machine: ${machine()}`,
    `Code: ${revision()}`,
    `Config: ${c} connections, ${config.durationS} s per run after a ${config.warmupS} s warm-up, ` +
      `${fixture.grantees.length} grantees × ${fixture.datasetIds.length} datasets = ${pairsLabel}, ` +
      `${config.revokeTrials} revocation trials, scale ${fmt(config.scale.grants)} grants / ${fmt(config.scale.datasets)} datasets / ${fmt(config.scale.users)} users, RabbitMQ vhost ${vhost}, PostgreSQL ${new URL(config.adminDatabaseUrl).host}`,
  ];
  print(['', ...header, '', table, '', ...details, ''].join('\n'));
  writeFileSync(config.resultsFile, resultsMarkdown(header, table, details));
  progress(`wrote ${config.resultsFile}`);
  clearTimeout(overall);
}

function resultsMarkdown(header: string[], table: string, details: string[]): string {
  return `# Atrium benchmark results

Written by \`npm run bench\` (bench/main.ts); the numbers below are one run's real output.

${header.map((h) => `- ${h}`).join('\n')}

${table}

${details.join('\n')}

## How it is measured

- Real PostgreSQL (a fresh database \`atrium_bench_*\`, dropped afterwards) and RabbitMQ; identity,
  resources, permissions, issues and two gateways each in its own process
  (\`node -r ./tools/register.js apps/<app>/src/main.ts\`), all on this one machine together with the
  broker, the database and the load generator (autocannon, in the harness process).
- **Baseline**: \`bench/baseline/baseline-gateway.ts\` (NestJS + Fastify, like the gateway) answers
  \`GET /bench/echo/:id\` with one RabbitMQ RPC to \`bench/baseline/echo-service.ts\` (a NestJS RMQ
  microservice with Atrium's server options: durable queue, manual acks, persistent messages,
  prefetch 32, TCP_NODELAY), in its own process. Measured first, while Atrium is idle; one process.
- **Authorized read**: \`GET /v2/datasets/:id\` by a grantee (not the owner; the owner's account is
  \`RESTRICTED\`, so only the READ grant opens it) with an API token, autocannon's connections split
  evenly over the two gateways. The rotation run cycles through every (grantee, dataset) pair, each
  with its own token and grant.
- **Fixed offered load** uses autocannon's \`overallRate\`. autocannon enforces it per connection and per
  second (each connection sends its share back to back, then waits for the next second), so the load
  arrives in bursts at each second boundary rather than evenly; baseline and Atrium are offered the
  same shape, which is what the ratio compares. The *paced* rows offer the same rate from 20 autocannon
  instances (\`overallRate\` = rate / 20 each, 4 connections each, 80 in all) started 50 ms apart, so it
  arrives as 20 small bursts a second: closer to an even 1,000 req/s.
- Latencies are taken from every response (ms, not autocannon's integer histogram); req/s is completed
  responses over the run's duration; errors are non-2xx responses plus socket errors and timeouts.
- **CPU per request**: user + system CPU time from \`/proc/<pid>/stat\` of each benchmark process, of
  the harness (the load generator) and of the machine's RabbitMQ (\`beam.smp\`) and PostgreSQL
  processes, before and after each measured run, divided by its responses. With everything on the same
  cores, throughput follows it; the split shows where a request's cost goes. The kernel charges CPU
  by clock ticks, so very short bursts (a PostgreSQL backend's) are sampled, not exactly counted.
- **Revocation**: per trial, grant via gateway 1, read via gateway 1, poll gateway 2 until it allows and
  read once more (so any cache there holds the allow), revoke via gateway 1, then from the revoke
  response poll both gateways every ${REVOKE_POLL_MS} ms: the time until gateway 2 answers 404, and any
  200 from gateway 1.
- **sharedWithMe**: \`GET /v2/datasets?ownership=sharedWithMe&limit=100\` by a grantee with the shares
  shown, sequential requests on one connection after 20 warm-up requests, then a walk of every page.
- **Scale**: \`permissions.account_projection\`, \`permissions.resource_projection\` and
  \`permissions.grant\` bulk-loaded with \`INSERT … SELECT generate_series(…)\` into the bench database
  (RESTRICTED owners, so only the READ grants open the datasets; every dataset gets the same number of
  grants to distinct users), then \`ANALYZE\` and \`CHECKPOINT\`. The check figure is \`PermissionsRpc.check\` (READ on a
  DATASET by id) called directly over RabbitMQ with the gateway's transport (\`RpcClient\` +
  \`RmqRpcTransport\`), so no gateway decision cache is involved: one call in flight, each for a
  random granted (user, dataset) pair; it includes the RabbitMQ round trip. Its baseline is that round
  trip alone: the same sequential calls to the baseline's echo service (\`bench/baseline\`), right after. Measured first at the
  small number of grants (loaded alone), then at the large one. The listing user holds READ grants
  on that many of the large set's datasets; \`PermissionsRpc.listSharedWith\` (DATASET, limit 100,
  offset 0) sequentially after 20 warm-up calls, then every page with limit 1000, checked against
  the expected ids.
- **Embedded start**: \`node -r ./tools/register.js apps/atrium/src/main.ts\` (what \`npm start\` runs)
  with a fresh temporary \`ATRIUM_DATA_DIR\`, a free \`PORT\` and no \`DATABASE_URL\`, \`AMQP_URL\` or
  \`JWT_SECRET\`, run first while nothing else of the benchmark runs: time from spawn until
  \`/health/ready\` answers 200 (polled every 50 ms), then VmRSS from \`/proc/<pid>/status\` at once and
  2 s later (MB = 10⁶ bytes; the target applies to the larger); then stopped and its directory removed.
- Targets from issue 6 item 7; FAIL marks a missed one, it does not change the exit code.
`;
}

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    progress(`harness failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    progress(`process logs are in ${logDir}`);
    await cleanup();
    process.exit(1);
  });
