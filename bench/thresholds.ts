/** A target of the results table: how it reads there, and whether a figure meets it. */
export interface Threshold<A extends unknown[]> {
  target: string;
  ok(...figures: A): boolean;
}

/** Atrium's figure against the baseline's: at least (throughput) or at most (latency) that many times it. */
const times = (bound: '≥' | '≤', limit: number): Threshold<[number, number]> => ({
  target: `${bound} ${limit.toFixed(2)}×`,
  ok: (atrium, baseline) => (bound === '≥' ? atrium >= limit * baseline : atrium <= limit * baseline),
});
const atMost = (limit: number, unit: string, prefix = ''): Threshold<[number]> => ({
  target: `${prefix}≤ ${limit} ${unit}`,
  ok: (figure) => figure <= limit,
});
const none: Threshold<[number]> = { target: '0', ok: (count) => count === 0 };
const allOnce: Threshold<[boolean]> = { target: 'all, once', ok: (exact) => exact };

const atLeast = (limit: number, unit: string): Threshold<[number]> => ({
  target: `≥ ${limit.toLocaleString('en-US')} ${unit}`,
  ok: (figure) => figure >= limit,
});

/**
 * Every target of the benchmark (issue 6 item 7, raised by issue 18), in one place; FAIL marks a
 * missed one. Ratio rows are judged on the median of their repetitions' ratios (pass it as the
 * first figure, 1 as the second).
 */
export const THRESHOLDS = {
  /** Authorized reads, 1 grantee × 1 dataset, against the baseline's throughput. */
  throughput: times('≥', 0.6),
  /** The same with every (grantee, dataset) pair in rotation. */
  rotatedThroughput: times('≥', 0.45),
  /** The hot read while other users' grants and memberships change through the API (20 changes/s). */
  mixedThroughput: times('≥', 0.5),
  /** p99 at a fixed offered rate in bursts (autocannon's overallRate), against the baseline's. */
  burstyRateP99: times('≤', 2),
  /** p99 at the same rate, paced (20 staggered instances), against the baseline's. */
  pacedRateP99: times('≤', 1.6),
  /** Non-2xx responses, socket errors and timeouts under load; allows after a revoke response; wrong check answers. */
  none,
  /** Revocation on gateway 1 → gateway 2 denies. */
  revocationP99Ms: atMost(50, 'ms'),
  /** sharedWithMe (gateway), first page. */
  sharedWithMeP95Ms: atMost(12, 'ms', 'p95 '),
  /** listSharedWith (permissions RPC) at scale, first page. */
  listingP95Ms: atMost(20, 'ms', 'p95 '),
  /** Walking every page lists each shared resource exactly once. */
  walk: allOnce,
  /** A check RPC, cache miss, at the large number of grants, against the echo RPC's p99 of the same run. */
  checkVsEchoP99: times('≤', 1.3),
  /** The same at the large number of grants against the small one. */
  checkP99Growth: times('≤', 1.5),
  /** `npm start` on a fresh data directory until /health/ready. */
  embeddedReadyS: atMost(5, 's'),
  /** `npm start` again on the same data directory (warm) until /health/ready. */
  embeddedWarmReadyS: atMost(2.5, 's'),
  /** Its resident memory at ready and 2 s later (the larger). */
  embeddedRssMB: atMost(250, 'MB'),
  /** The embedded mode's authorized read, 64 connections. */
  embeddedReadRps: atLeast(1200, 'req/s'),
} as const;
