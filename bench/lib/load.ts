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
  /** Called for every request: the path and headers to send. */
  next: () => { path: string; headers?: Record<string, string> };
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
}

let current: autocannon.Instance | undefined;

/** Stops a run in progress (Ctrl-C). */
export function stopLoad(): void {
  if (typeof current?.stop === 'function') current.stop();
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
      const instance = autocannon(
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
                const { path, headers } = options.next();
                return { ...request, method: 'GET', path, headers: headers ?? {} };
              },
            },
          ],
        },
        (err, res) => {
          current = undefined;
          if (err) reject(err);
          else resolve(res);
        },
      );
      current = instance;
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
  };
}
