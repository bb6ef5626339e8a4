import type { Pool, PoolClient } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';

/** Statements that could not be prepared by name (another connection's of the session holds it). */
const unnamed = new Set<string>();

/**
 * A read on a hot path as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of on every call (for a join of a few primary-key lookups, planning costs
 * several times the execution). Same rows as `dataSource.query`, same errors (a failed query
 * is a `QueryFailedError`). `name` must be unique per statement text in the process; use
 * column lists, never `*`, so a migration that adds a column does not change the result type.
 */
export async function preparedQuery<T>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const pool = (dataSource.driver as { master?: Pool }).master;
  // (The embedded PGlite's connections share one session; its socket server shares their
  // statements too: see passExchangesAtOnce.)
  if (!pool || unnamed.has(name)) {
    return dataSource.query(text, values);
  }
  const client: PoolClient = await pool.connect();
  let failure: Error | undefined;
  // A connection cut mid-query also emits 'error' on the client: without a listener it would
  // be an uncaught exception that ends the process (pg's own pool.query listens the same way).
  const onError = (err: Error) => (failure ??= err);
  client.on('error', onError);
  try {
    const result = await client.query<T & object>({ name, text, values });
    return result.rows;
  } catch (err) {
    failure = err as Error;
    if ((err as { code?: unknown }).code === '42P05') {
      unnamed.add(name); // duplicate_prepared_statement: a shared session after all
      return dataSource.query(text, values);
    }
    throw new QueryFailedError(text, values, err as Error);
  } finally {
    client.off('error', onError);
    // A connection that failed a query is not reused (as pg's own pool.query does).
    client.release(failure);
  }
}
