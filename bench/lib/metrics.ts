import { Api } from './api';

/** A gateway's access-decision counters, from its Prometheus `/metrics`. */
export interface DecisionCounters {
  /** Decisions answered from the replica's cache, and asked of the permissions service. */
  cache: number;
  service: number;
  /** Invalidations by scope (`atrium_access_decision_invalidations_total`). */
  invalidations: Record<string, number>;
  /** Resources' views answered from the replica's cache, and read from the resources service. */
  reads: { cache: number; service: number };
}

const sample =
  /^(atrium_access_decisions_total|atrium_access_decision_invalidations_total|atrium_cached_reads_total)\{(\w+)="([^"]*)"\} (\S+)$/;

const noCounters = (): DecisionCounters => ({
  cache: 0,
  service: 0,
  invalidations: {},
  reads: { cache: 0, service: 0 },
});

export async function decisionCounters(api: Api): Promise<DecisionCounters> {
  const res = await api.request('GET', '/metrics', { timeoutMs: 5000 });
  if (res.status !== 200 || typeof res.body !== 'string') throw new Error(`GET /metrics: ${res.status}`);
  const counters = noCounters();
  for (const line of res.body.split('\n')) {
    const m = sample.exec(line);
    if (!m) continue;
    const value = Number(m[4]);
    if (m[1] === 'atrium_access_decisions_total') {
      if (m[3] === 'cache') counters.cache += value;
      else if (m[3] === 'permissions-service') counters.service += value;
    } else if (m[1] === 'atrium_cached_reads_total') {
      if (m[3] === 'cache') counters.reads.cache += value;
      else counters.reads.service += value;
    } else {
      counters.invalidations[m[3]] = (counters.invalidations[m[3]] ?? 0) + value;
    }
  }
  return counters;
}

/** Every gateway's counters summed. */
export async function allDecisionCounters(gateways: Api[]): Promise<DecisionCounters> {
  const each = await Promise.all(gateways.map(decisionCounters));
  const sum = noCounters();
  for (const c of each) {
    sum.cache += c.cache;
    sum.service += c.service;
    sum.reads.cache += c.reads.cache;
    sum.reads.service += c.reads.service;
    for (const [scope, n] of Object.entries(c.invalidations))
      sum.invalidations[scope] = (sum.invalidations[scope] ?? 0) + n;
  }
  return sum;
}

/**
 * What happened between two readings: the decision cache's hit ratio, the invalidations by scope,
 * and the view cache's hit ratio.
 */
export function decisionDelta(
  before: DecisionCounters,
  after: DecisionCounters,
): { hitRatio: number; decisions: number; invalidations: Record<string, number>; readHitRatio: number } {
  const cache = after.cache - before.cache;
  const decisions = cache + after.service - before.service;
  const invalidations = Object.fromEntries(
    Object.entries(after.invalidations).map(([scope, n]) => [scope, n - (before.invalidations[scope] ?? 0)]),
  );
  const readsCached = after.reads.cache - before.reads.cache;
  const reads = readsCached + after.reads.service - before.reads.service;
  return {
    hitRatio: decisions ? cache / decisions : NaN,
    decisions,
    invalidations,
    readHitRatio: reads ? readsCached / reads : NaN,
  };
}
