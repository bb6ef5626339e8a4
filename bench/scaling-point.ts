/**
 * `npm run bench:scaling-point`: the measured point behind docs/SCALING.md. The distributed stack
 * with two gateways and two processes of every service (bench/lib/soak-stack.ts, straight to the
 * broker and the database), an owner, grantees and READ grants set up through the API
 * (bench/lib/setup.ts), then four runs over both gateways at the same connections:
 *
 * 1. reads, hot: `GET /v2/datasets/:id` by grantees, a few (grantee, dataset) pairs over and over
 *    (the gateways' decision caches answer most of them);
 * 2. reads, missing the cache: every pair in rotation (each read asks the permissions service);
 * 3. writes: `POST /v2/datasets/:id/items` (one small item) by the owner, over its datasets;
 * 4. the mix: 90 % reads (a share of them from the rotation, the rest hot) and 10 % writes.
 *
 * For each: throughput, p50/p99, errors, the decision cache's hit ratio (from `/metrics`) and the
 * CPU milliseconds per request by process and by process type (the sum of its replicas). Then the
 * model of docs/SCALING.md checked against run 4: its CPU per request and throughput predicted
 * from runs 1-3, against what was measured.
 *
 * Environment: SCALING_DURATION_S (20, the mix), SCALING_PHASE_S (8, runs 1-3), SCALING_CONNECTIONS
 * (64), SCALING_PAIRS (1000), SCALING_HOT_PAIRS (1), SCALING_MISS_PCT (25, of the mix's reads),
 * SCALING_WARMUP_S (2), BENCH_DATABASE_URL (admin URL), BENCH_AMQP_URL (its vhost is replaced by
 * a fresh one, deleted afterwards).
 */
import { execFileSync } from 'child_process';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { config } from './config';
import { Api } from './lib/api';
import { cpuMsPerRequest, cpuSnapshot, CpuSnapshot, formatCpu } from './lib/cpu';
import { LoadOptions, LoadResult, runLoad } from './lib/load';
import { print, progress, runScript, sleep } from './lib/log';
import { allDecisionCounters, decisionDelta } from './lib/metrics';
import { randomSuffix } from './lib/infra';
import { buildFixture } from './lib/setup';
import { SoakStack, startSoakStack } from './lib/soak-stack';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const DURATION_S = num('SCALING_DURATION_S', 20);
const PHASE_S = num('SCALING_PHASE_S', 8);
const CONNECTIONS = num('SCALING_CONNECTIONS', 64);
const PAIRS = num('SCALING_PAIRS', 1000);
const HOT_PAIRS = num('SCALING_HOT_PAIRS', 1);
const MISS_SHARE = num('SCALING_MISS_PCT', 25) / 100;
const WARMUP_S = num('SCALING_WARMUP_S', 2);
const WRITE_SHARE = 0.1;
/** Process types, as docs/SCALING.md sizes them; the harness is the load generator. */
const TYPES = ['gateway', 'identity', 'resources', 'permissions', 'issues', 'rabbitmq', 'postgresql'];
const OTHERS = ['rabbitmq', 'postgresql'];

interface Phase {
  name: string;
  result: LoadResult;
  /** Read hit ratio of the gateways' decision caches (writes' decisions left out in the mix). */
  hitRatio: number;
  /** CPU ms per request by process (the broker's and the database's: the whole machine's). */
  byProcess: Map<string, number>;
  /** CPU ms per request by process type (replicas summed). */
  byType: Map<string, number>;
  /** Cores the measured processes used together during the run. */
  cores: number;
}

const typeOf = (label: string) => (label.startsWith('harness') ? 'harness' : label.split('#')[0]);

function byType(byProcess: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [label, ms] of byProcess) out.set(typeOf(label), (out.get(typeOf(label)) ?? 0) + ms);
  return out;
}

const total = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const pct = (n: number) => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : 'n/a');
const uptime = () => execFileSync('uptime').toString().trim();

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'atrium-scaling-'));
  progress(`scaling point: ${uptime()}`);
  const stack: SoakStack = await startSoakStack({
    // No fault proxy in the way (nothing is restarted here): the links go straight to the servers.
    realRestarts: true,
    adminDatabaseUrl: config.adminDatabaseUrl,
    amqpBaseUrl: config.amqpUrl,
    logDir,
    // As deploy/ runs them: LOG_LEVEL=log (the gateway logs a line per request; `npm run bench`
    // runs at warn) and DB_POOL_SIZE=5.
    env: { DB_POOL_SIZE: '5' },
  });
  const onSignal = () => void stack.close().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const gateways = stack.gatewayUrls.map((url) => new Api(Number(new URL(url).port)));
    for (const api of gateways) await api.expect(200, 'GET', '/health/ready');
    progress(`stack up: ${stack.processes.map((p) => p.label).join(' ')}`);
    const fixture = await buildFixture(gateways[0], { pairs: PAIRS, listShares: 0, runId: randomSuffix(6) });
    const children = () => stack.processes.map((p) => ({ name: p.label, pid: p.child.pid }));

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const reads = fixture.pairs.map((p) => ({
      path: `/v2/datasets/${p.datasetId}`,
      headers: bearer(p.grantee.apiToken),
    }));
    let [h, r, w, n, m] = [0, 0, 0, 0, 0];
    const hot = () => reads[h++ % Math.min(HOT_PAIRS, reads.length)];
    const rotating = () => reads[r++ % reads.length];
    // Its own headers object per write: autocannon sets Content-Length in the one it is given.
    const write = () => {
      const i = w++;
      return {
        method: 'POST' as const,
        path: `/v2/datasets/${fixture.datasetIds[i % fixture.datasetIds.length]}/items`,
        headers: { ...bearer(fixture.owner.apiToken), 'content-type': 'application/json' },
        body: JSON.stringify({
          n: i,
          url: `https://example.com/p/${i}`,
          title: 'An item of the scaling point',
        }),
      };
    };
    const everyMiss = Math.round(1 / MISS_SHARE);
    /** One write in ten; of the reads, one in `everyMiss` from the rotation (evenly spread). */
    const mixed = () => (n++ % 10 === 9 ? write() : m++ % everyMiss === 0 ? rotating() : hot());
    // Sanity: grantees read on both gateways; writes are answered 201.
    for (const api of gateways) {
      await api.expect(200, 'GET', reads[0].path, { token: fixture.pairs[0].grantee.apiToken });
      await api.expect(201, 'POST', write().path, { token: fixture.owner.apiToken, body: { n: -1 } });
    }
    await sleep(2000); // the setup's events drain

    // The broker's and the database's CPU while the stack is idle: the machine's other users.
    const idleS = 5;
    const idleBefore = cpuSnapshot(children());
    await sleep(idleS * 1000);
    const idle = cpuMsPerRequest(idleBefore, cpuSnapshot(children()), idleS); // ms per second
    const background = new Map(OTHERS.map((p) => [p, (idle.get(p) ?? 0) / 1000])); // cores
    progress(`idle background: ${OTHERS.map((p) => `${p} ${f2(background.get(p) ?? 0)} cores`).join(', ')}`);

    const phases: Phase[] = [];
    const measure = async (
      name: string,
      next: LoadOptions['next'],
      durationS: number,
      writes?: 'only' | 'some',
    ) => {
      const shape = { targets: stack.gatewayUrls, connections: CONNECTIONS, next };
      if (WARMUP_S) await runLoad({ ...shape, durationS: WARMUP_S });
      const counters = await allDecisionCounters(gateways);
      const before: CpuSnapshot = cpuSnapshot(children());
      const started = performance.now();
      const result = await runLoad({ ...shape, durationS });
      const wallS = (performance.now() - started) / 1000;
      const after = cpuSnapshot(children());
      const cache = decisionDelta(counters, await allDecisionCounters(gateways));
      const byProcess = cpuMsPerRequest(before, after, result.responses);
      // A write's decision (the owner's, holding every permission) is kept for a minute: a hit.
      const writeCount = writes ? (result.statusCounts['201'] ?? 0) : 0;
      const hitRatio =
        writes === 'only'
          ? NaN
          : (cache.hitRatio * cache.decisions - writeCount) / (cache.decisions - writeCount);
      const phase: Phase = {
        name,
        result,
        hitRatio,
        byProcess,
        byType: byType(byProcess),
        cores: (total(byProcess) * result.responses) / 1000 / wallS,
      };
      phases.push(phase);
      progress(
        `${name}: ${Math.round(result.rps)} req/s, p50 ${f2(result.p50)} ms, p99 ${f2(result.p99)} ms, ` +
          `errors ${result.errors} ${JSON.stringify(result.statusCounts)}, read hits ${pct(hitRatio)}; ` +
          `CPU ${formatCpu(byProcess)}`,
      );
      return phase;
    };

    const hotRun = await measure('reads, hot', hot, PHASE_S);
    const missRun = await measure('reads, missing the cache', rotating, PHASE_S);
    const writeRun = await measure('writes', write, PHASE_S, 'only');
    const mixRun = await measure(
      `mix: 90 % reads (1 in ${everyMiss} rotating), 10 % writes`,
      mixed,
      DURATION_S,
      'some',
    );

    // The model: a read's CPU is linear in whether its decision was cached (runs 1 and 2, at their
    // own hit ratios, interpolated to the mix's); the mix is 90 % such reads and 10 % writes; the
    // machine gives the stack the cores it used in runs 1-3.
    const perRead = (type: string, hits: number) => {
      const [a, b] = [hotRun, missRun];
      const slope = ((a.byType.get(type) ?? 0) - (b.byType.get(type) ?? 0)) / (a.hitRatio - b.hitRatio || 1);
      return (b.byType.get(type) ?? 0) + slope * (hits - b.hitRatio);
    };
    const allTypes = [...TYPES, 'harness'];
    const predicted = new Map(
      allTypes.map((t) => [
        t,
        (1 - WRITE_SHARE) * perRead(t, mixRun.hitRatio) + WRITE_SHARE * (writeRun.byType.get(t) ?? 0),
      ]),
    );
    const cores = (hotRun.cores + missRun.cores + writeRun.cores) / 3;
    const predictedRps = (cores * 1000) / total(predicted);

    print(`\n## Scaling point (${new Date().toISOString()})\n`);
    print(
      `2 gateways and 2 processes of every service, ${CONNECTIONS} connections over both gateways, ` +
        `${fixture.grantees.length} grantees × ${fixture.datasetIds.length} datasets = ${fixture.pairs.length} READ grants; ` +
        `hot reads over ${Math.min(HOT_PAIRS, reads.length)} pairs; runs of ${PHASE_S} s, the mix ${DURATION_S} s, ` +
        `each after ${WARMUP_S} s of warm-up. Machine: ${uptime()}.\n`,
    );
    print(
      `| run | req/s | p50 ms | p99 ms | errors | read hits | CPU ms/req | ${TYPES.join(' | ')} | harness |`,
    );
    print(`|---|---|---|---|---|---|---|${TYPES.map(() => '---').join('|')}|---|`);
    const row = (name: string, p: { byType: Map<string, number> }, cells: string[]) =>
      print(
        `| ${name} | ${cells.join(' | ')} | ${f2(total(p.byType))} | ${allTypes.map((t) => f2(p.byType.get(t) ?? 0)).join(' | ')} |`,
      );
    for (const p of phases) {
      const { rps, p50, p99, errors } = p.result;
      row(p.name, p, [
        Math.round(rps).toLocaleString('en-US'),
        f2(p50),
        f2(p99),
        String(errors),
        pct(p.hitRatio),
      ]);
    }
    row('mix, predicted from runs 1-3', { byType: predicted }, [
      Math.round(predictedRps).toLocaleString('en-US'),
      '',
      '',
      '',
      pct(mixRun.hitRatio),
    ]);
    print(
      `\nBy process: ${phases.map((p) => `${p.name}: ${formatCpu(p.byProcess)}`).join('; ')}.\n` +
        `Cores used by the measured processes (the stack, the broker, the database, the load generator): ` +
        `${phases.map((p) => `${p.name} ${f2(p.cores)}`).join(', ')}; the prediction assumes ${f2(cores)} ` +
        `(the mean of runs 1-3). rabbitmq and postgresql are the machine's, with whatever else uses them ` +
        `(idle, with the stack idle for ${idleS} s: ${OTHERS.map((p) => `${p} ${f2(background.get(p) ?? 0)} cores`).join(', ')}).\n` +
        `Mix predicted / measured: CPU per request ${f2(total(predicted))} / ${f2(total(mixRun.byType))} ms ` +
        `(${((total(predicted) / total(mixRun.byType)) * 100).toFixed(0)} %), throughput ` +
        `${Math.round(predictedRps)} / ${Math.round(mixRun.result.rps)} req/s ` +
        `(${((predictedRps / mixRun.result.rps) * 100).toFixed(0)} %); at the cores the mix itself used, ` +
        `${Math.round((mixRun.cores * 1000) / total(predicted))} req/s.`,
    );
  } finally {
    await stack.close();
  }
}

runScript(main);
