import { execFileSync } from 'child_process';
import { writeFileSync } from 'fs';
import * as os from 'os';
import { config, PROPAGATION_TIMEOUT_MS, REVOKE_POLL_MS } from './config';
import { cpuUse, fmt } from './harness';
import { retries } from './lib/api';
import { EmbeddedStart } from './lib/embedded';
import { LoadResult } from './lib/load';
import { percentile, print, progress } from './lib/log';
import { REPO_ROOT } from './lib/processes';
import { markdownTable, ms, ratio, Row, rps, verdict } from './lib/report';
import { Fixture } from './lib/setup';
import { denialPercentiles, RevocationResult } from './scenarios/revocation';
import { ScaleResult } from './scenarios/scale';
import { SharedWithMeResult } from './scenarios/shared-with-me';
import { ThroughputRuns } from './scenarios/throughput';
import { EMBEDDED_THRESHOLDS, Threshold, THRESHOLDS } from './thresholds';

/** What one run measured, for the table and bench/RESULTS.md. */
export interface BenchResults {
  /** When the run started (`performance.now()`). */
  started: number;
  vhost: string;
  /** Seconds the fixture took to build through the API. */
  setupS: number;
  fixture: Fixture;
  embedded: EmbeddedStart;
  base: ThroughputRuns;
  atrium: ThroughputRuns & { rotated: LoadResult };
  list: SharedWithMeResult;
  revoke: RevocationResult;
  sc: ScaleResult;
}

/** A threshold's target, and whether the figures meet it, as the row's last two cells. */
const meets = <A extends unknown[]>(threshold: Threshold<A>, ...figures: A): [string, boolean] => [
  threshold.target,
  threshold.ok(...figures),
];

/** Prints the table and writes it, with the details and how it is measured, to the results file. */
export function writeResults(results: BenchResults): void {
  const { started, vhost, setupS, fixture, embedded, base, atrium, list, revoke, sc } = results;
  const c = config.connections;
  const { p50: denyP50, p99: denyP99 } = denialPercentiles(revoke);
  const r = (
    figure: string,
    atriumFigure: string,
    baselineFigure: string,
    rat: string,
    target: string,
    ok?: boolean,
  ): Row => ({
    figure,
    atrium: atriumFigure,
    baseline: baselineFigure,
    ratio: rat,
    target,
    result: ok === undefined ? '' : verdict(ok),
  });
  const pairsLabel = `${fixture.pairs.length.toLocaleString('en-US')} pairs`;
  const rows: Row[] = [
    r(
      `throughput, ${c} conn, ${config.durationS} s (1 grantee × 1 dataset)`,
      rps(atrium.open.rps),
      rps(base.open.rps),
      ratio(atrium.open.rps, base.open.rps),
      ...meets(THRESHOLDS.throughput, atrium.open.rps, base.open.rps),
    ),
    r('  p50 latency', ms(atrium.open.p50), ms(base.open.p50), ratio(atrium.open.p50, base.open.p50), ''),
    r('  p99 latency', ms(atrium.open.p99), ms(base.open.p99), ratio(atrium.open.p99, base.open.p99), ''),
    r(
      '  errors (non-2xx, socket, timeout)',
      String(atrium.open.errors),
      String(base.open.errors),
      '',
      ...meets(THRESHOLDS.none, atrium.open.errors),
    ),
    r(
      `throughput, ${c} conn, ${config.durationS} s, ${pairsLabel} in rotation`,
      rps(atrium.rotated.rps),
      rps(base.open.rps),
      ratio(atrium.rotated.rps, base.open.rps),
      ...meets(THRESHOLDS.rotatedThroughput, atrium.rotated.rps, base.open.rps),
    ),
    r(
      '  p50 / p99 latency',
      `${ms(atrium.rotated.p50)} / ${ms(atrium.rotated.p99)}`,
      `${ms(base.open.p50)} / ${ms(base.open.p99)}`,
      ratio(atrium.rotated.p99, base.open.p99),
      '',
    ),
    r(
      '  errors (non-2xx, socket, timeout)',
      String(atrium.rotated.errors),
      String(base.open.errors),
      '',
      ...meets(THRESHOLDS.none, atrium.rotated.errors),
    ),
    r(
      `p99 at fixed ${config.rate.toLocaleString('en-US')} req/s offered (1 × 1)`,
      ms(atrium.fixed.p99),
      ms(base.fixed.p99),
      ratio(atrium.fixed.p99, base.fixed.p99),
      ...meets(THRESHOLDS.fixedRateP99, atrium.fixed.p99, base.fixed.p99),
    ),
    r(
      '  p50 / achieved rate / errors',
      `${ms(atrium.fixed.p50)} / ${rps(atrium.fixed.rps)} / ${atrium.fixed.errors}`,
      `${ms(base.fixed.p50)} / ${rps(base.fixed.rps)} / ${base.fixed.errors}`,
      '',
      '',
    ),
    r(
      `p99 at ${config.rate.toLocaleString('en-US')} req/s, paced (20 staggered instances)`,
      ms(atrium.paced.p99),
      ms(base.paced.p99),
      ratio(atrium.paced.p99, base.paced.p99),
      ...meets(THRESHOLDS.fixedRateP99, atrium.paced.p99, base.paced.p99),
    ),
    r(
      '  p50 / achieved rate / errors',
      `${ms(atrium.paced.p50)} / ${rps(atrium.paced.rps)} / ${atrium.paced.errors}`,
      `${ms(base.paced.p50)} / ${rps(base.paced.rps)} / ${base.paced.errors}`,
      '',
      '',
    ),
    r(`revocation → gateway 2 denies, p50 (${revoke.trials} trials)`, ms(denyP50), '', '', ''),
    r(
      'revocation → gateway 2 denies, p99',
      revoke.timedOut ? `> ${PROPAGATION_TIMEOUT_MS} ms (${revoke.timedOut} timed out)` : ms(denyP99),
      '',
      '',
      ...meets(THRESHOLDS.revocationP99Ms, denyP99),
    ),
    r(
      'allows on gateway 1 after its revoke response',
      String(revoke.allowsOnGateway1),
      '',
      '',
      ...meets(THRESHOLDS.none, revoke.allowsOnGateway1),
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
      THRESHOLDS.listingP95Ms.target,
      THRESHOLDS.listingP95Ms.ok(list.load.p95) && THRESHOLDS.none.ok(list.load.errors),
    ),
    r(
      'sharedWithMe walk of all pages exact',
      `${list.walked} of ${list.shares}`,
      '',
      '',
      ...meets(THRESHOLDS.walk, list.walkExact),
    ),
    r(
      `check RPC, cache miss, p99 (${fmt(sc.large.grants)} grants, ${fmt(sc.large.datasets)} datasets, ${fmt(sc.large.users)} users)`,
      ms(sc.largeChecks.p99),
      `${ms(sc.echo.p99)} (echo RPC)`,
      ratio(sc.largeChecks.p99, sc.echo.p99),
      ...meets(THRESHOLDS.checkP99Ms, sc.largeChecks.p99),
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
      ...meets(THRESHOLDS.checkP99Growth, sc.largeChecks.p99, sc.smallChecks.p99),
    ),
    r(
      '  answers not allowed by the grant',
      `${sc.largeChecks.wrong + sc.smallChecks.wrong} of ${sc.largeChecks.samples + sc.smallChecks.samples}`,
      '',
      '',
      ...meets(THRESHOLDS.none, sc.largeChecks.wrong + sc.smallChecks.wrong),
    ),
    r(
      `listSharedWith first page of 100 (${fmt(sc.listing.shares)} shares), p95`,
      ms(sc.listing.p95),
      '',
      '',
      ...meets(THRESHOLDS.listingP95Ms, sc.listing.p95),
    ),
    r('  p50 / p99', `${ms(sc.listing.p50)} / ${ms(sc.listing.p99)}`, '', '', ''),
    r(
      'listSharedWith walk, offset pages of 1000, exact',
      `${fmt(sc.listing.walked)} of ${fmt(sc.listing.shares)} (${sc.listing.pages} pages)`,
      '',
      '',
      ...meets(THRESHOLDS.walk, sc.listing.walkExact),
    ),
    ...embeddedRows(embedded, r),
  ];

  const table = markdownTable(rows);
  const details = [
    `- Status codes: baseline ${JSON.stringify(base.open.statusCounts)}; authorized ${JSON.stringify(atrium.open.statusCounts)}; ` +
      `${pairsLabel} ${JSON.stringify(atrium.rotated.statusCounts)}; baseline fixed ${JSON.stringify(base.fixed.statusCounts)}; ` +
      `authorized fixed ${JSON.stringify(atrium.fixed.statusCounts)}; baseline paced ${JSON.stringify(base.paced.statusCounts)}; ` +
      `authorized paced ${JSON.stringify(atrium.paced.statusCounts)}; sharedWithMe ${JSON.stringify(list.load.statusCounts)}.`,
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
        : 'PGlite in a fresh temporary directory, in-process bus; then stopped and started again on it (warm)'
    }${embedded.read ? `; authorized read status codes ${JSON.stringify(embedded.read.statusCounts)}` : ''}.`,
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
  2 s later (MB = 10⁶ bytes; the target applies to the larger); then stopped (SIGTERM) and started
  again on the same directory (warm start, the same figures). On the warm process, an owner's dataset
  and a grantee with a READ grant and an API token are set up through the API, then
  \`GET /v2/datasets/:id\` as the grantee over ${config.connections} connections for ${config.durationS} s after a
  ${config.warmupS} s warm-up (the authorized read; CPU per read is the process's user + system time
  over the measured run). Then it is stopped and its directory removed.
- Targets from issue 6 item 7; FAIL marks a missed one, it does not change the exit code.
`;
}

/** The embedded mode's rows: first and warm start, resident memory, the authorized read. */
function embeddedRows(
  embedded: EmbeddedStart,
  r: (figure: string, atrium: string, baseline: string, ratio: string, target: string, ok?: boolean) => Row,
): Row[] {
  const T = EMBEDDED_THRESHOLDS;
  const seconds = (ms: number | null | undefined) => (ms == null ? 'never' : `${(ms / 1000).toFixed(2)} s`);
  const mb = (figure: number | null | undefined) => (figure == null ? 'n/a' : `${figure.toFixed(0)} MB`);
  const warm = embedded.warm;
  const rss = [embedded.rssAtReadyMB, embedded.rssSettledMB, warm?.rssAtReadyMB, warm?.rssSettledMB];
  const rows = [
    r(
      'embedded start (npm start, fresh data dir): ready',
      seconds(embedded.readyMs),
      '',
      '',
      T.readyS.target,
      embedded.readyMs !== null && T.readyS.ok(embedded.readyMs / 1000),
    ),
    r(
      '  warm start (the same data dir again): ready',
      seconds(warm?.readyMs),
      '',
      '',
      T.warmReadyS.target,
      warm?.readyMs != null && T.warmReadyS.ok(warm.readyMs / 1000),
    ),
    r(
      '  resident memory at ready / 2 s later, first start; warm',
      `${mb(rss[0])} / ${mb(rss[1])}; ${mb(rss[2])} / ${mb(rss[3])}`,
      '',
      '',
      T.rssMB.target,
      rss.every((m) => m != null) && T.rssMB.ok(Math.max(...(rss as number[]))),
    ),
  ];
  const read = embedded.read;
  if (read) {
    rows.push(
      r(
        `embedded authorized read (GET /v2/datasets/:id, ${config.connections} connections)`,
        `${read.rps.toFixed(0)} req/s`,
        '',
        '',
        T.readRps.target,
        T.readRps.ok(read.rps) && read.errors === 0,
      ),
      r(
        '  p50 / p99; CPU per read; resident memory after',
        `${ms(read.p50)} / ${ms(read.p99)}; ${embedded.cpuMsPerRead?.toFixed(2) ?? 'n/a'} ms; ${mb(embedded.rssAfterReadMB)}`,
        '',
        '',
        '',
      ),
    );
  }
  return rows;
}
