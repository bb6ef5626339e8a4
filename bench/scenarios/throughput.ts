import { config } from '../config';
import { bearer, checkAlive, measure } from '../harness';
import { Api } from '../lib/api';
import { LoadOptions, LoadResult, runStaggeredLoad } from '../lib/load';
import { sleep } from '../lib/log';
import { Fixture } from '../lib/setup';

/** One shape of load measured on the baseline and on Atrium alike. */
export interface ThroughputRuns {
  /** As fast as the connections go. */
  open: LoadResult;
  /** At a fixed offered rate (autocannon's `overallRate`: bursts at each second boundary). */
  fixed: LoadResult;
  /** At the same rate from 20 staggered instances (closer to an even rate). */
  paced: LoadResult;
}

const paced = (options: LoadOptions) => runStaggeredLoad({ ...options, overallRate: config.rate });

/** The baseline's echo (one RabbitMQ RPC behind a NestJS gateway), while Atrium is idle. */
export async function baselineThroughput(baseUrl: string): Promise<ThroughputRuns> {
  const c = config.connections;
  let n = 0;
  const echo = () => ({ path: `/bench/echo/${(n++).toString(36)}` });
  const open = await measure('baseline', {
    targets: [baseUrl],
    connections: c,
    durationS: config.durationS,
    next: echo,
  });
  const fixed = await measure(`baseline at ${config.rate} req/s`, {
    targets: [baseUrl],
    connections: c,
    durationS: config.durationS,
    overallRate: config.rate,
    next: echo,
  });
  const pacedRun = await measure(
    `baseline at ${config.rate} req/s, paced`,
    { targets: [baseUrl], connections: c, durationS: config.durationS, next: echo },
    paced,
  );
  return { open, fixed, paced: pacedRun };
}

/**
 * Authorized reads (`GET /v2/datasets/:id` by a grantee) spread over both gateways: one grantee
 * and one dataset, then every pair of the fixture in rotation.
 */
export async function authorizedThroughput(
  g1: Api,
  g2: Api,
  fixture: Fixture,
): Promise<ThroughputRuns & { rotated: LoadResult }> {
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
  const hotRequest = () => ({ path: hotPath, headers: bearer(hot.grantee.apiToken) });
  const open = await measure('authorized read', {
    targets: both,
    connections: c,
    durationS: config.durationS,
    next: hotRequest,
  });
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
  const fixed = await measure(`authorized read at ${config.rate} req/s`, {
    targets: both,
    connections: c,
    durationS: config.durationS,
    overallRate: config.rate,
    next: hotRequest,
  });
  const pacedRun = await measure(
    `authorized read at ${config.rate} req/s, paced`,
    { targets: both, connections: c, durationS: config.durationS, next: hotRequest },
    paced,
  );
  return { open, rotated, fixed, paced: pacedRun };
}
