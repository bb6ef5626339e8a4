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
} as const;

/** The embedded mode's targets (issue 18 item 4): `npm start` as most people first meet it. */
export const EMBEDDED_THRESHOLDS = {
  /** `npm start` on a fresh data directory until /health/ready. */
  readyS: atMost(5, 's'),
  /** The same on the data directory the first start made. */
  warmReadyS: atMost(2.5, 's'),
  /** Resident memory at ready and 2 s later, first start and warm (the largest). */
  rssMB: atMost(250, 'MB'),
  /** GET /v2/datasets/:id by a READ grantee, 64 connections, on the warm process. */
  readRps: atLeast(1200, 'req/s'),
} as const;
