/**
 * PostgreSQL's error classes as the services meet them (one place, instead of the code in each
 * service): a unique violation (a name taken, a race lost to a concurrent insert).
 */
const UNIQUE_VIOLATION = '23505';

/** The SQLSTATE of a driver error (node-postgres) or of TypeORM's QueryFailedError around one. */
export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.code ?? e?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === UNIQUE_VIOLATION;
}
