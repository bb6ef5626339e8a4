import autocannon from 'autocannon';
import { percentile, within } from './log';

export interface LoadOptions {
  /** One or more gateway base URLs; autocannon spreads the connections over them round-robin. */
  targets: string[];
  connections: number;
  durationS?: number;
  amount?: number;
  /** Fixed offered load over all connections (requests/s). */
  overallRate?: number;
  /** Called for every request: what to send (a GET without a body unless it says otherwise). */
  next: () => { path: string; headers?: Record<string, string>; method?: 'GET' | 'POST'; body?: string };
}

export interface LoadResult {
  /** Completed responses per second over the run. */
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  responses: number;
  /** Non-2xx responses plus connection errors and timeouts. */
  errors: number;
  statusCounts: Record<string, number>;
  durationS: number;
  /** Every response's latency (ms), for combining runs. */
  latencies: number[];
}

const running = new Set<autocannon.Instance>();

/** Stops a run in progress (Ctrl-C). */
export function stopLoad(): void {
  for (const instance of running) if (typeof instance.stop === 'function') instance.stop();
}

/**
 * One autocannon run. Latencies are taken from every response (floating-point ms) rather than
 * autocannon's integer-millisecond histogram, so sub-millisecond differences stay visible.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  const budgetMs = ((options.durationS ?? 60) + 30) * 1000;
  const result = await within(
    new Promise<autocannon.Result>((resolve, reject) => {
      let instance: autocannon.Instance | undefined = undefined;
      instance = autocannon(
        {
          url: options.targets.map((t) => `${t}/`),
          connections: options.connections,
          ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 10 }),
          ...(options.overallRate ? { overallRate: options.overallRate } : {}),
          timeout: 10,
          pipelining: 1,
          requests: [
            {
              method: 'GET',
              setupRequest: (request) => {
                const { path, headers, method = 'GET', body } = options.next();
                return { ...request, method, path, headers: headers ?? {}, body };
              },
            },
          ],
        },
        (err, res) => {
          if (instance) running.delete(instance);
          if (err) reject(err);
          else resolve(res);
        },
      );
      running.add(instance);
      instance.on(
        'response',
        (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
          latencies.push(responseTime);
          statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
        },
      );
    }),
    budgetMs,
    'autocannon run',
  );
  const non2xx = Object.entries(statusCounts)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((sum, [, n]) => sum + n, 0);
  const errors = non2xx + result.errors + result.timeouts;
  if (result.errors || result.timeouts) {
    statusCounts.connectionErrors = result.errors;
    statusCounts.timeouts = result.timeouts;
  }
  return {
    rps: latencies.length / result.duration,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    responses: latencies.length,
    errors,
    statusCounts,
    durationS: result.duration,
    latencies,
  };
}

/**
 * A fixed offered load spread evenly over each second. autocannon's `overallRate` is enforced per
 * connection and per second (each connection sends its quota back to back when its second starts),
 * so one instance offers its whole second's load as one burst. Here `slices` instances, each with
 * `overallRate = rate / slices` and a share of the connections, start `1000 / slices` ms apart:
 * the same rate arrives as `slices` small bursts a second instead of one large one.
 */
export async function runStaggeredLoad(
  options: LoadOptions & { overallRate: number },
  slices = 20,
): Promise<LoadResult> {
  // Connections per instance: a multiple of the number of targets, so each gets an equal share.
  const perTarget = Math.max(1, Math.ceil(options.connections / slices / options.targets.length));
  const connections = perTarget * options.targets.length;
  const durationS = options.durationS ?? 10;
  const runs = await Promise.all(
    Array.from({ length: slices }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i * 1000) / slices));
      return runLoad({ ...options, connections, durationS, overallRate: options.overallRate / slices });
    }),
  );
  const latencies = runs.flatMap((r) => r.latencies);
  const statusCounts: Record<string, number> = {};
  for (const run of runs) {
    for (const [code, count] of Object.entries(run.statusCounts))
      statusCounts[code] = (statusCounts[code] ?? 0) + count;
  }
  return {
    rps: runs.reduce((sum, r) => sum + r.rps, 0),
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    responses: latencies.length,
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    statusCounts,
    durationS,
    latencies,
  };
}
