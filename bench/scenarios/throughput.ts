import { config } from '../config';
import { bearer, checkAlive, measure } from '../harness';
import { Api } from '../lib/api';
import { ChurnFixture, ChurnStats, startChurn } from '../lib/churn';
import { LoadOptions, LoadResult, runLoad, runStaggeredLoad } from '../lib/load';
import { progress, sleep } from '../lib/log';
import { allDecisionCounters, decisionDelta } from '../lib/metrics';
import { Fixture } from '../lib/setup';

/** The baseline's echo (one RabbitMQ RPC behind a NestJS gateway), in one repetition. */
export interface BaselineRuns {
  /** As fast as the connections go. */
  open: LoadResult;
  /** At a fixed offered rate (autocannon's `overallRate`: bursts at each second boundary). */
  fixed: LoadResult;
  /** At the same rate from 20 staggered instances (closer to an even rate). */
  paced: LoadResult;
}

/** The decision cache over a run: both gateways' hit ratio and invalidations (from `/metrics`). */
export type CacheUse = ReturnType<typeof decisionDelta>;

/** Authorized reads (`GET /v2/datasets/:id` by a grantee) over both gateways, in one repetition. */
export interface AtriumRuns extends BaselineRuns {
  /** Every (grantee, dataset) pair of the fixture in rotation. */
  rotated: LoadResult;
  /** The hot read while other users' grants and memberships change through the API. */
  mixed: LoadResult;
  openCache: CacheUse;
  mixedCache: CacheUse;
  churn: ChurnStats;
}

export interface ThroughputResult {
  base: BaselineRuns[];
  atrium: AtriumRuns[];
}

const paced = (options: LoadOptions) =>
  runStaggeredLoad({ ...options, durationS: config.pacedDurationS, overallRate: config.rate });

/**
 * Every throughput and latency shape, in `config.repetitions` repetitions, each alternating the
 * baseline and Atrium: baseline as fast as it goes, Atrium's hot read, its pairs in rotation and
 * its hot read under churn (all three against that baseline run), then baseline and Atrium at the
 * fixed rate, then baseline and Atrium at the paced rate.
 */
export async function throughput(
  baseUrl: string,
  g1: Api,
  g2: Api,
  fixture: Fixture,
  churnFixture: ChurnFixture,
): Promise<ThroughputResult> {
  const c = config.connections;
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
  const shape = (next: LoadOptions['next'], extra: Partial<LoadOptions> = {}): LoadOptions => ({
    targets: both,
    connections: c,
    durationS: config.durationS,
    next,
    ...extra,
  });
  let n = 0;
  const echo = () => ({ path: `/bench/echo/${(n++).toString(36)}` });
  const baseline = (extra: Partial<LoadOptions> = {}) => ({ ...shape(echo, extra), targets: [baseUrl] });
  const hotRequest = () => ({ path: hotPath, headers: bearer(hot.grantee.apiToken) });
  let k = 0;
  const pairPaths = fixture.pairs.map((p) => ({
    path: `/v2/datasets/${p.datasetId}`,
    headers: bearer(p.grantee.apiToken),
  }));
  const rotating = () => pairPaths[k++ % pairPaths.length];
  /** A runner that also reads both gateways' decision counters around each run (the last is the measured one). */
  const counting = (into: { use?: CacheUse }) => async (options: LoadOptions) => {
    const before = await allDecisionCounters([g1, g2]);
    const result = await runLoad(options);
    into.use = decisionDelta(before, await allDecisionCounters([g1, g2]));
    return result;
  };
  const rate = config.rate.toLocaleString('en-US');

  const result: ThroughputResult = { base: [], atrium: [] };
  for (let rep = 0; rep < config.repetitions; rep++) {
    const baseOpen = await measure('baseline', baseline(), runLoad, rep);
    const openCache: { use?: CacheUse } = {};
    const open = await measure('authorized read', shape(hotRequest), counting(openCache), rep);
    const rotated = await measure(
      `authorized read, ${pairPaths.length} pairs`,
      shape(rotating),
      runLoad,
      rep,
    );
    const churn = startChurn([g1, g2], churnFixture, config.churnRate);
    const mixedCache: { use?: CacheUse } = {};
    let mixed: LoadResult;
    let churnStats: ChurnStats;
    try {
      mixed = await measure(
        `authorized read, ${config.churnRate} changes/s of others' access`,
        shape(hotRequest),
        counting(mixedCache),
        rep,
      );
    } finally {
      churnStats = await churn.stop();
    }
    progress(
      `decision cache: hot read ${percent(openCache.use?.hitRatio)} hits, under churn ${percent(mixedCache.use?.hitRatio)} ` +
        `(invalidations ${JSON.stringify(mixedCache.use?.invalidations ?? {})})`,
    );
    await sleep(1000); // the changes' events drain
    const baseFixed = await measure(
      `baseline at ${rate} req/s`,
      baseline({ overallRate: config.rate }),
      runLoad,
      rep,
    );
    const fixed = await measure(
      `authorized read at ${rate} req/s`,
      shape(hotRequest, { overallRate: config.rate }),
      runLoad,
      rep,
    );
    const basePaced = await measure(`baseline at ${rate} req/s, paced`, baseline(), paced, rep);
    const pacedRun = await measure(`authorized read at ${rate} req/s, paced`, shape(hotRequest), paced, rep);
    result.base.push({ open: baseOpen, fixed: baseFixed, paced: basePaced });
    result.atrium.push({
      open,
      rotated,
      mixed,
      fixed,
      paced: pacedRun,
      openCache: openCache.use as CacheUse,
      mixedCache: mixedCache.use as CacheUse,
      churn: churnStats,
    });
  }
  return result;
}

const percent = (v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? 'n/a' : `${(v * 100).toFixed(1)} %`;
