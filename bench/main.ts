/**
 * `npm run bench`: Atrium's authorization overhead, revocation latency, sharedWithMe listing,
 * checks and listing at scale (bulk-loaded grants) and the embedded start, against a baseline
 * measured in the same run, on real PostgreSQL and RabbitMQ with every service in its own process
 * and two gateway replicas. Prints one table and writes bench/RESULTS.md.
 *
 * Every ratio row comes from BENCH_REPETITIONS alternated repetitions (baseline, Atrium, …): the
 * median with the min–max; a baseline that moved more than BENCH_MAX_BASELINE_SPREAD_PCT between
 * its own repetitions makes the row "unstable" rather than PASS or FAIL (bench/lib/repeat.ts).
 *
 * Environment: BENCH_DURATION_S (6, each measured run), BENCH_PACED_DURATION_S (18, each paced run),
 * BENCH_REPETITIONS (5, ≥ 3),
 * BENCH_MAX_BASELINE_SPREAD_PCT (15), BENCH_CHURN_RATE (20 changes/s), BENCH_PAIRS (10000), BENCH_WARMUP_S (1),
 * BENCH_REVOKE_TRIALS (200), BENCH_LIST_SHARES (1000), BENCH_LIST_REQUESTS (300),
 * BENCH_SCALE_GRANTS (1000000), BENCH_SCALE_DATASETS (100000), BENCH_SCALE_USERS (10000),
 * BENCH_SCALE_OWNERS (100), BENCH_SCALE_SMALL_GRANTS (1000), BENCH_SCALE_CHECKS (6000),
 * BENCH_SCALE_LIST_SHARES (10000), BENCH_SCALE_LIST_REQUESTS (300), BENCH_EMBEDDED_TIMEOUT_S (60),
 * BENCH_RATE (1000), BENCH_CONNECTIONS (64), BENCH_SETUP_CONCURRENCY (8), BENCH_DATABASE_URL (admin URL,
 * postgres://postgres@127.0.0.1:5432/postgres), BENCH_AMQP_URL (amqp://guest:guest@127.0.0.1:5672;
 * the vhost `atrium-bench` is used when it exists), BENCH_TIMEOUT_S (1200, the whole run),
 * BENCH_RESULTS (bench/RESULTS.md), BENCH_PROFILE (children to CPU-profile, e.g. gateway-1,resources).
 *
 * It is a measurement, not a test: missed targets are reported as FAIL and the exit code is 0;
 * only a failure of the harness itself (a service that does not start, a setup call that fails)
 * exits 1.
 *
 * Each scenario is a file under bench/scenarios/; every target is in bench/thresholds.ts; the
 * table and bench/RESULTS.md are written by bench/results.ts.
 */
import { randomBytes } from 'crypto';
import { config } from './config';
import { cleanup, dropAtCleanup, group, logDir, waitReady, watchChildren } from './harness';
import { Api } from './lib/api';
import { embeddedStart } from './lib/embedded';
import { chooseAmqpUrl, createBenchDatabase, randomSuffix, resetBenchVhost } from './lib/infra';
import { progress } from './lib/log';
import { freePort } from './lib/processes';
import { buildChurnFixture } from './lib/churn';
import { buildFixture } from './lib/setup';
import { writeResults } from './results';
import { denialPercentiles, revocation } from './scenarios/revocation';
import { scale } from './scenarios/scale';
import { sharedWithMe } from './scenarios/shared-with-me';
import { throughput } from './scenarios/throughput';

async function main(): Promise<void> {
  const started = performance.now();
  const overall = setTimeout(() => {
    progress(`the run exceeded BENCH_TIMEOUT_S=${config.timeoutS}: aborting`);
    void cleanup().finally(() => process.exit(1));
  }, config.timeoutS * 1000);
  overall.unref();

  const runId = randomSuffix(6);
  // 0. Embedded start, first, on a quiet machine (nothing else of the benchmark runs yet).
  const embedded = await embeddedStart(group, config.embeddedTimeoutS * 1000, {
    connections: config.connections,
    durationS: config.durationS,
    warmupS: config.warmupS,
  });
  progress(
    `embedded start: ready ${embedded.readyMs === null ? 'never' : `${embedded.readyMs.toFixed(0)} ms`}, ` +
      `RSS ${embedded.rssAtReadyMB?.toFixed(0) ?? '?'} MB at ready, ${embedded.rssSettledMB?.toFixed(0) ?? '?'} MB 2 s later; ` +
      `warm ${embedded.warm?.readyMs?.toFixed(0) ?? 'never'} ms, RSS ${embedded.warm?.rssSettledMB?.toFixed(0) ?? '?'} MB; ` +
      `authorized read ${embedded.read ? `${embedded.read.rps.toFixed(0)} req/s, p99 ${embedded.read.p99.toFixed(1)} ms` : 'not run'}` +
      (embedded.error ? `; ${embedded.error}` : ''),
  );
  const { url: amqpUrl, vhost } = await chooseAmqpUrl(config.amqpUrl);
  progress(`RabbitMQ vhost ${vhost}; logs in ${logDir}`);
  if (vhost !== '/') await resetBenchVhost(amqpUrl);
  const db = await createBenchDatabase(config.adminDatabaseUrl);
  dropAtCleanup(db.drop);
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
  watchChildren();
  const g1 = new Api(port1);
  const g2 = new Api(port2);
  const baseUrl = `http://127.0.0.1:${basePort}`;
  await Promise.all([
    waitReady('gateway-1', g1.base),
    waitReady('gateway-2', g2.base),
    waitReady('baseline-gateway', baseUrl),
  ]);
  progress(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // Setup through the public API of gateway 1: the measured reads' fixture, the churn's.
  const setupStarted = performance.now();
  const fixture = await buildFixture(g1, { pairs: config.pairs, listShares: config.listShares, runId });
  const churnFixture = await buildChurnFixture(g1, runId);
  const setupS = (performance.now() - setupStarted) / 1000;
  // 1-5. Baseline and authorized reads, alternated, in repetitions: one pair, every pair in
  // rotation, one pair under churn, fixed offered load (bursty, paced).
  const runs = await throughput(baseUrl, g1, g2, fixture, churnFixture);
  // 6. sharedWithMe listing (before the revocation trials' churn).
  const list = await sharedWithMe(g1, fixture);
  // 5. Revocation.
  const revoke = await revocation(g1, g2, fixture);
  const deny = denialPercentiles(revoke);
  progress(
    `revocation: p50 ${deny.p50.toFixed(2)} ms, p99 ${deny.p99.toFixed(2)} ms, timed out ${revoke.timedOut}`,
  );
  // 7. Scale (last: it leaves a million rows in the database).
  const sc = await scale(db.url, amqpUrl);

  writeResults({ started, vhost, setupS, fixture, embedded, runs, list, revoke, sc });
  clearTimeout(overall);
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
