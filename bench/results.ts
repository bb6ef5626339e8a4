import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { writeFileSync } from 'fs';
import * as os from 'os';
import { config, PROPAGATION_TIMEOUT_MS, REVOKE_POLL_MS } from './config';
import { cpuLines, fmt } from './harness';
import { retries } from './lib/api';
import { EmbeddedStart, START_NODE_FLAGS } from './lib/embedded';
import { LoadResult } from './lib/load';
import { compare, Compared, spreadOf, verdictOf } from './lib/repeat';
import { percentile, print, progress } from './lib/log';
import { REPO_ROOT } from './lib/processes';
import {
  markdownTable,
  ms,
  percent,
  plainMs,
  plainRps,
  ranged,
  rangedWithSpread,
  ratio,
  Row,
  rps,
  times,
  Verdict,
  verdict,
} from './lib/report';
import { Fixture } from './lib/setup';
import { denialPercentiles, RevocationResult } from './scenarios/revocation';
import { ScaleResult } from './scenarios/scale';
import { SharedWithMeResult } from './scenarios/shared-with-me';
import { ThroughputResult } from './scenarios/throughput';
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
  runs: ThroughputResult;
  list: SharedWithMeResult;
  revoke: RevocationResult;
  sc: ScaleResult;
}

/** A threshold's target, and whether the figures meet it, as the row's last two cells. */
const meets = <A extends unknown[]>(threshold: Threshold<A>, ...figures: A): [string, boolean] => [
  threshold.target,
  threshold.ok(...figures),
];

/** The figure of each repetition's run. */
const each = <T>(runs: T[], figure: (run: T) => number): number[] => runs.map(figure);
const sum = <T>(runs: T[], figure: (run: T) => number): number => runs.reduce((n, r) => n + figure(r), 0);

/** Status counts summed over the repetitions. */
function statuses(runs: LoadResult[]): string {
  const total: Record<string, number> = {};
  for (const run of runs)
    for (const [code, n] of Object.entries(run.statusCounts)) total[code] = (total[code] ?? 0) + n;
  return JSON.stringify(total);
}

/** Prints the table and writes it, with the details and how it is measured, to the results file. */
export function writeResults(results: BenchResults): void {
  const { started, vhost, setupS, fixture, embedded, runs, list, revoke, sc } = results;
  const { base, atrium } = runs;
  const c = config.connections;
  const reps = config.repetitions;
  const bound = config.maxBaselineSpread;
  const { p50: denyP50, p99: denyP99 } = denialPercentiles(revoke);
  const r = (
    figure: string,
    atriumFigure: string,
    baselineFigure: string,
    rat: string,
    target: string,
    ok?: boolean | Verdict,
  ): Row => ({
    figure,
    atrium: atriumFigure,
    baseline: baselineFigure,
    ratio: rat,
    target,
    result: ok === undefined ? '' : typeof ok === 'boolean' ? verdict(ok) : ok,
  });
  /** A ratio row: medians and min–max over the repetitions; judged as `verdictOf` says. */
  const compared = (
    figure: string,
    cmp: Compared,
    format: (v: number) => string,
    plain: (v: number) => string,
    threshold: Threshold<[number, number]>,
  ): Row =>
    r(
      figure,
      ranged(cmp.atrium, format, plain),
      rangedWithSpread(cmp.baseline, format, plain),
      ranged(cmp.ratio, times, (v) => v.toFixed(2)),
      threshold.target,
      verdictOf(cmp, (ratio) => threshold.ok(ratio, 1)),
    );
  /** A sub-row: Atrium's and the baseline's figure (medians, min–max) and the median ratio. */
  const sub = (figure: string, a: number[], b: number[], format = ms, plain = plainMs): Row => {
    const cmp = compare(a, b, Infinity);
    return r(
      figure,
      ranged(cmp.atrium, format, plain),
      ranged(cmp.baseline, format, plain),
      ranged(cmp.ratio, times, (v) => v.toFixed(2)),
      '',
    );
  };
  const rpsOf = (l: LoadResult) => l.rps;
  const p50Of = (l: LoadResult) => l.p50;
  const p99Of = (l: LoadResult) => l.p99;
  const errorsOf = (l: LoadResult) => l.errors;
  const baseOpen = base.map((b) => b.open);
  const errorRow = (runsOf: LoadResult[], baseRuns: LoadResult[]) =>
    r(
      '  errors (non-2xx, socket, timeout), all repetitions',
      String(sum(runsOf, errorsOf)),
      String(sum(baseRuns, errorsOf)),
      '',
      ...meets(THRESHOLDS.none, sum(runsOf, errorsOf)),
    );
  const hot = atrium.map((a) => a.open);
  const rotated = atrium.map((a) => a.rotated);
  const mixed = atrium.map((a) => a.mixed);
  const fixed = atrium.map((a) => a.fixed);
  const paced = atrium.map((a) => a.paced);
  const baseFixed = base.map((b) => b.fixed);
  const basePaced = base.map((b) => b.paced);
  const hitsHot = spreadOf(atrium.map((a) => a.openCache.hitRatio));
  const hitsMixed = spreadOf(atrium.map((a) => a.mixedCache.hitRatio));
  const viewHitsHot = spreadOf(atrium.map((a) => a.openCache.readHitRatio));
  const viewHitsMixed = spreadOf(atrium.map((a) => a.mixedCache.readHitRatio));
  const churnRate = spreadOf(atrium.map((a) => a.churn.rate));
  const churnFailed = sum(atrium, (a) => a.churn.failed);
  const largeP99 = spreadOf(sc.largeChecks.map((s) => s.p99));
  const wrongChecks = sc.smallChecks.wrong + sum(sc.largeChecks, (s) => s.wrong);
  const checkSamples = sc.smallChecks.samples + sum(sc.largeChecks, (s) => s.samples);
  const pairsLabel = `${fixture.pairs.length.toLocaleString('en-US')} pairs`;
  const rate = config.rate.toLocaleString('en-US');
  /** A throughput row against the open-loop baseline, with its latencies and errors. */
  const throughputRows = (label: string, runs: typeof hot, threshold: typeof THRESHOLDS.throughput) => [
    compared(label, compare(each(runs, rpsOf), each(baseOpen, rpsOf), bound), rps, plainRps, threshold),
    sub('  p50 latency', each(runs, p50Of), each(baseOpen, p50Of)),
    sub('  p99 latency', each(runs, p99Of), each(baseOpen, p99Of)),
    errorRow(runs, baseOpen),
  ];
  /** A p99 row at a fixed offered rate against the baseline's at the same rate, with p50 and the rate achieved. */
  const rateRows = (
    label: string,
    runs: typeof fixed,
    base: typeof baseFixed,
    threshold: typeof THRESHOLDS.pacedRateP99,
  ) => [
    compared(label, compare(each(runs, p99Of), each(base, p99Of), bound), ms, plainMs, threshold),
    sub('  p50 latency', each(runs, p50Of), each(base, p50Of)),
    sub('  achieved rate', each(runs, rpsOf), each(base, rpsOf), rps, plainRps),
    errorRow(runs, base),
  ];
  const rows: Row[] = [
    ...throughputRows(`throughput, ${c} conn (1 grantee × 1 dataset)`, hot, THRESHOLDS.throughput),
    r('  decision-cache hit ratio (both gateways, /metrics)', ranged(hitsHot, percent), '', '', ''),
    r('  view-cache hit ratio (both gateways, /metrics)', ranged(viewHitsHot, percent), '', '', ''),
    ...throughputRows(
      `throughput, ${c} conn, ${pairsLabel} in rotation`,
      rotated,
      THRESHOLDS.rotatedThroughput,
    ),
    ...throughputRows(
      `throughput, ${c} conn (1 × 1), others' grants and memberships changing at ${config.churnRate}/s`,
      mixed,
      THRESHOLDS.mixedThroughput,
    ),
    r('  decision-cache hit ratio (both gateways, /metrics)', ranged(hitsMixed, percent), '', '', ''),
    r('  view-cache hit ratio (both gateways, /metrics)', ranged(viewHitsMixed, percent), '', '', ''),
    r(
      '  changes of access achieved / failed (all repetitions)',
      `${ranged(
        churnRate,
        (v) => `${v.toFixed(1)}/s`,
        (v) => v.toFixed(1),
      )} / ${churnFailed}`,
      '',
      '',
      '',
    ),
    ...rateRows(`p99 at fixed ${rate} req/s offered (1 × 1)`, fixed, baseFixed, THRESHOLDS.burstyRateP99),
    ...rateRows(
      `p99 at ${rate} req/s, paced (20 staggered instances)`,
      paced,
      basePaced,
      THRESHOLDS.pacedRateP99,
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
      THRESHOLDS.sharedWithMeP95Ms.target,
      THRESHOLDS.sharedWithMeP95Ms.ok(list.load.p95) && THRESHOLDS.none.ok(list.load.errors),
    ),
    r(
      'sharedWithMe walk of all pages exact',
      `${list.walked} of ${list.shares}`,
      '',
      '',
      ...meets(THRESHOLDS.walk, list.walkExact),
    ),
    compared(
      `check RPC, cache miss, p99 (${fmt(sc.large.grants)} grants, ${fmt(sc.large.datasets)} datasets, ${fmt(sc.large.users)} users), baseline: echo RPC`,
      compare(
        sc.largeChecks.map((s) => s.p99),
        sc.echo.map((s) => s.p99),
        bound,
      ),
      ms,
      plainMs,
      THRESHOLDS.checkVsEchoP99,
    ),
    sub(
      '  p50',
      sc.largeChecks.map((s) => s.p50),
      sc.echo.map((s) => s.p50),
    ),
    sub(
      '  p95',
      sc.largeChecks.map((s) => s.p95),
      sc.echo.map((s) => s.p95),
    ),
    sub(
      "  p99 against a transient echo (what a read's hop pays)",
      sc.largeChecks.map((s) => s.p99),
      sc.echoTransient.map((s) => s.p99),
    ),
    sub(
      '  p50 against a transient echo',
      sc.largeChecks.map((s) => s.p50),
      sc.echoTransient.map((s) => s.p50),
    ),
    r(
      `  p99 against the same at ${fmt(sc.small.grants)} grants`,
      ms(largeP99.median),
      `${ms(sc.smallChecks.p99)} (${fmt(sc.small.grants)} grants)`,
      ratio(largeP99.median, sc.smallChecks.p99),
      ...meets(THRESHOLDS.checkP99Growth, largeP99.median, sc.smallChecks.p99),
    ),
    r(
      '  answers not allowed by the grant',
      `${wrongChecks} of ${checkSamples}`,
      '',
      '',
      ...meets(THRESHOLDS.none, wrongChecks),
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
    `- Repetitions: ${reps}, alternated (baseline, then Atrium); every ratio row shows the median and, in brackets, ` +
      `the min–max over them; the ratio is the median of the repetitions' own ratios. A baseline whose spread ` +
      `((max − min) / median) exceeds ${(bound * 100).toFixed(0)} % makes its row "unstable" instead of PASS or FAIL, ` +
      `unless every repetition's own ratio meets the target (or every one misses it): then "PASS (each of N)" ("FAIL (each of N)").`,
    `- Status codes, all repetitions: baseline ${statuses(baseOpen)}; authorized ${statuses(hot)}; ` +
      `${pairsLabel} ${statuses(rotated)}; under churn ${statuses(mixed)}; baseline fixed ${statuses(baseFixed)}; ` +
      `authorized fixed ${statuses(fixed)}; baseline paced ${statuses(basePaced)}; ` +
      `authorized paced ${statuses(paced)}; sharedWithMe ${JSON.stringify(list.load.statusCounts)}.`,
    `- CPU per request by process, median over the repetitions (user + system; PostgreSQL and RabbitMQ are the ` +
      `machine's, shared with anything else running): ` +
      cpuLines().join('; ') +
      '.',
    `- Decision cache (both gateways' \`atrium_access_decisions_total\`, per repetition): hot read ` +
      atrium.map((a) => percent(a.openCache.hitRatio)).join(', ') +
      `; under churn ` +
      atrium
        .map(
          (a) =>
            `${percent(a.mixedCache.hitRatio)} (invalidations ${JSON.stringify(a.mixedCache.invalidations)})`,
        )
        .join(', ') +
      '.',
    `- Churn per repetition (changes answered, failed, skipped; p50 / p99 of a change): ` +
      atrium
        .map(
          ({ churn: ch }) =>
            `${ch.done} (${ch.grants} grants, ${ch.revocations} revocations, ${ch.memberships} memberships), ` +
            `${ch.failed}, ${ch.skipped}; ${plainMs(ch.p50)} / ${plainMs(ch.p99)} ms`,
        )
        .join('; ') +
      (atrium.some((a) => a.churn.errors.length)
        ? `; errors: ${[...new Set(atrium.flatMap((a) => a.churn.errors))].slice(0, 3).join(' | ')}`
        : '') +
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
      `${config.scaleCheckWarmup} warm-up (at the large size, each repetition after as many rounds of an echo RPC, a transient echo RPC and a check); at ${fmt(sc.small.grants)} grants p50 ${ms(sc.smallChecks.p50)}, p95 ${ms(sc.smallChecks.p95)}. ` +
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
    `Config: ${reps} repetitions, ${c} connections, ${config.durationS} s per run (paced ${config.pacedDurationS} s) after a ${config.warmupS} s warm-up, ` +
      `churn ${config.churnRate} changes/s, baseline spread bound ${(bound * 100).toFixed(0)} %, ` +
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
    `${os.type()} ${os.release()} (${os.arch()}), Node ${process.version}; ` +
    `speed probe ${speedProbeMs().toFixed(0)} ms of CPU (lower is faster)`
  );
}

/**
 * A fixed single-core workload (200,000 chained SHA-256 digests), in CPU ms: the same model of
 * machine has run the same code 2–3× slower on another day, so runs compare through this.
 */
function speedProbeMs(): number {
  const started = process.cpuUsage();
  let digest = Buffer.alloc(32);
  for (let i = 0; i < 200_000; i++) digest = createHash('sha256').update(digest).digest();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
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
  prefetch 32, TCP_NODELAY), in its own process. Measured while Atrium is idle, in turn with it; one process.
  Atrium persists a write's RPC requests only (those carrying an idempotency key); a read's, and so a
  check's, go transient (\`RmqRpcTransport\`), which the baseline's echo does not: the check rows also
  show the check against a transient echo, the floor under a read's hop as Atrium sends it.
- **Authorized read**: \`GET /v2/datasets/:id\` by a grantee (not the owner; the owner's account is
  \`RESTRICTED\`, so only the READ grant opens it) with an API token, autocannon's connections split
  evenly over the two gateways. The rotation run cycles through every (grantee, dataset) pair, each
  with its own token and grant.
- **Repetitions**: every shape is measured ${config.repetitions} times, alternated with its baseline
  within each repetition: baseline as fast as it goes, Atrium's hot read, its pairs in rotation and
  its hot read under churn (the three against that baseline run), baseline then Atrium at the fixed
  rate, baseline then Atrium paced. Each run has its own warm-up. A row shows the median over the
  repetitions with the min–max in brackets; its ratio is the median of the repetitions' own ratios
  (each of two runs measured moments apart). When the baseline's own figure moved more than
  ${(config.maxBaselineSpread * 100).toFixed(0)} % of its median between repetitions (max − min), the
  machine was not steady enough for the median to judge: the row says "unstable" instead of PASS
  or FAIL — unless each repetition's own ratio is on the same side of the target, which the noise
  between repetitions cannot have decided: "PASS (each of N)" or "FAIL (each of N)".
- **Mixed load**: the hot read while, through the API and alternately through each gateway, a
  churn owner gives and takes back READ grants on its own 10 datasets to 8 other users and moves
  the 8 members of its organization between two roles (Developer, Read only): ${config.churnRate} changes/s
  in all, half grants, half memberships, paced (a change starts every ${(1000 / config.churnRate).toFixed(0)} ms, at
  most 16 on their way). None of it touches the measured dataset or its grantee. The hit ratio is
  the share of both gateways' access decisions answered from their caches
  (\`atrium_access_decisions_total{source}\` of \`/metrics\`, read before and after the measured run).
- **Fixed offered load** uses autocannon's \`overallRate\`. autocannon enforces it per connection and per
  second (each connection sends its share back to back, then waits for the next second), so the load
  arrives in bursts at each second boundary rather than evenly; baseline and Atrium are offered the
  same shape, which is what the ratio compares. The *paced* rows offer the same rate from 20 autocannon
  instances (\`overallRate\` = rate / 20 each, 4 connections each, 80 in all) started 50 ms apart, so it
  arrives as 20 small bursts a second: closer to an even 1,000 req/s. Each paced run lasts
  ${config.pacedDurationS} s (\`BENCH_PACED_DURATION_S\`), so that its p99 rests on some ${Math.round((config.pacedDurationS * config.rate) / 100)} responses above it.
- Latencies are taken from every response (ms, not autocannon's integer histogram); req/s is completed
  responses over the run's duration; errors are non-2xx responses plus socket errors and timeouts.
- **CPU per request**: user + system CPU time from \`/proc/<pid>/stat\` of each benchmark process, of
  the harness (the load generator) and of the machine's RabbitMQ (\`beam.smp\`) and PostgreSQL
  processes, before and after each measured run, divided by its responses; per process, the median
  over the repetitions. With everything on the same
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
  grants to distinct users), then \`VACUUM (ANALYZE)\` (hint and visibility-map bits set, as autovacuum keeps a table
  in use; it would otherwise start on the million rows during the measurement) and \`CHECKPOINT\`. The check figure is \`PermissionsRpc.check\` (READ on a
  DATASET by id) called directly over RabbitMQ with the gateway's transport (\`RpcClient\` +
  \`RmqRpcTransport\`), so no gateway decision cache is involved: one call in flight, each for a
  random granted (user, dataset) pair; it includes the RabbitMQ round trip. Its baseline is that round
  trip alone: the same sequential calls to the baseline's echo service (\`bench/baseline\`). Measured
  first at the small number of grants (loaded alone), then at the large one in repetitions, in each
  an echo RPC, a transient echo RPC and a check in turn, call by call (echo, transient, check, check,
  transient, echo, …: the order flips every round), so that all see the same moments of the machine; new random pairs each repetition. The listing user holds READ grants
  on that many of the large set's datasets; \`PermissionsRpc.listSharedWith\` (DATASET, limit 100,
  offset 0) sequentially after 20 warm-up calls, then every page with limit 1000, checked against
  the expected ids.
- **Embedded start**: \`node ${START_NODE_FLAGS.join(' ')} -r ./tools/register.js apps/atrium/src/main.ts\` (what \`npm start\` runs, flags read from package.json)
  after \`node tools/register.js --build\` (what \`npm ci\`'s postinstall runs: every server source compiled, as after an install)
  with a fresh temporary \`ATRIUM_DATA_DIR\`, a free \`PORT\` and no \`DATABASE_URL\`, \`AMQP_URL\` or
  \`JWT_SECRET\`, run first while nothing else of the benchmark runs: time from spawn until
  \`/health/ready\` answers 200 (polled every 50 ms), then VmRSS from \`/proc/<pid>/status\` at once and
  2 s later (MB = 10⁶ bytes; the target applies to the larger); then stopped (SIGTERM) and started
  again on the same directory (warm start, the same figures). On the warm process, an owner's dataset
  and a grantee with a READ grant and an API token are set up through the API, then
  \`GET /v2/datasets/:id\` as the grantee over ${config.connections} connections for ${config.durationS} s after a
  ${config.warmupS} s warm-up (the authorized read; CPU per read is the process's user + system time
  over the measured run). Then it is stopped and its directory removed.
- Targets from issue 6 item 7, raised by issue 18 (bench/thresholds.ts); FAIL marks a missed one, it does not change the exit code.
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
