/**
 * Whether an error means the database went away (restart, failover, dropped connection) rather
 * than that the work itself failed: the pool reconnects on the next query, so the same work may
 * succeed when tried again. RPCs answer such errors with 503; event handlers retry them for as
 * long as the outage lasts instead of spending their retries (and dead-lettering the event).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; driverError?: { code?: unknown } } | null;
  return isConnectionLoss(e?.driverError?.code) || isConnectionLoss(e?.code) || isLostClient(e?.message);
}

/**
 * node-postgres's errors, which carry no code, for a connection that died under a query (or
 * could not be made in time): found by the reliability tier (a BEGIN on a pooled connection
 * the database had just dropped answered 500).
 */
const LOST_CLIENT =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

function isLostClient(message: unknown): boolean {
  return typeof message === 'string' && LOST_CLIENT.test(message);
}

/** PostgreSQL's connection exceptions (class 08), shutdowns (57P01-57P03) and socket failures. */
function isConnectionLoss(code: unknown): boolean {
  if (typeof code !== 'string') return false;
  return (
    code.startsWith('08') ||
    ['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)
  );
}
