import {
  deadlineError,
  deadlinePassed,
  deserializeResult,
  enterKeyedTransaction,
  insideKeyedTransaction,
  serializeResult,
} from '@atrium/messaging';
import {
  DataSource,
  DataSourceOptions,
  EntityManager,
  EntitySchema,
  MigrationExecutor,
  MixedList,
} from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { defaults as pgDefaults } from 'pg';
import { SnakeNamingStrategy } from './snake-naming.strategy';

// Dates go to PostgreSQL in UTC (every column is timestamptz). In the process's local time,
// node-postgres drops the seconds of an old local-mean-time offset: under TZ=America/New_York,
// 0001-01-01T00:00:00Z was stored as 0000-12-31T23:59:58Z.
pgDefaults.parseInputDatesAsUTC = true;

export interface ServiceDataSourceOptions {
  /** The service's own Postgres schema; no service reads another's. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  url: string;
  poolSize?: number;
}

export function serviceDataSourceOptions(options: ServiceDataSourceOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: `${options.schema}_migrations`,
    migrationsTransactionMode: 'all',
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    extra: {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      application_name: `atrium-${options.schema}`,
    },
  };
}

export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  return new ServiceDataSource(serviceDataSourceOptions(options));
}

type TransactionWork<T> = (manager: EntityManager) => Promise<T>;

/**
 * A service's data source, whose top-level transactions are effectively once when they serve a
 * keyed RPC (see libs/messaging idempotency.ts). The n-th transaction of a handler first claims
 * `<call key>#<n>` in the service's `rpc_idempotency` table: if an earlier execution committed
 * it, its recorded result is returned and the work is not run again (a concurrent execution
 * waits on the row until the other commits or rolls back); otherwise the work runs and its
 * result is recorded in the same transaction. Past the caller's deadline it rolls back instead
 * of committing. Handlers need no change; transactions outside an RPC handler are not keyed.
 */
export class ServiceDataSource extends DataSource {
  override transaction<T>(work: TransactionWork<T>): Promise<T>;
  override transaction<T>(isolation: IsolationLevel, work: TransactionWork<T>): Promise<T>;
  override async transaction<T>(
    isolationOrWork: IsolationLevel | TransactionWork<T>,
    maybeWork?: TransactionWork<T>,
  ): Promise<T> {
    const isolation = typeof isolationOrWork === 'function' ? undefined : isolationOrWork;
    const work = typeof isolationOrWork === 'function' ? isolationOrWork : maybeWork!;
    const keyed = enterKeyedTransaction();
    if (!keyed) return isolation ? super.transaction(isolation, work) : super.transaction(work);
    const table = `"${this.schemaName()}".rpc_idempotency`;
    const run = (manager: EntityManager): Promise<T> =>
      insideKeyedTransaction(async () => {
        if (keyed.key) {
          const claimed: unknown[] = await manager.query(
            `INSERT INTO ${table} (key) VALUES ($1) ON CONFLICT (key) DO NOTHING RETURNING key`,
            [keyed.key],
          );
          if (!claimed.length) {
            const [row] = (await manager.query(`SELECT result FROM ${table} WHERE key = $1`, [
              keyed.key,
            ])) as {
              result: string | null;
            }[];
            this.replayedTransactions++;
            return deserializeResult(row?.result ?? '{}') as T;
          }
        }
        const result = await work(manager);
        if (keyed.key)
          await manager.query(`UPDATE ${table} SET result = $2 WHERE key = $1`, [
            keyed.key,
            serializeResult(result),
          ]);
        // The caller has given up: committing now would be a write nobody was told about.
        if (deadlinePassed(keyed.deadline)) throw deadlineError();
        return result;
      });
    return isolation ? super.transaction(isolation, run) : super.transaction(run);
  }

  /** Keyed transactions answered from their record rather than run again, since start. */
  replayedTransactions = 0;

  private schemaName(): string {
    const schema = this.options.type === 'postgres' ? this.options.schema : undefined;
    if (!schema) throw new Error('A service data source needs a schema');
    return schema;
  }
}

/**
 * Creates the schema and applies pending migrations, under an advisory lock so that replicas
 * starting together migrate once.
 */
export async function migrateServiceSchema(dataSource: DataSource): Promise<string[]> {
  const schema = dataSource.options.type === 'postgres' ? dataSource.options.schema : undefined;
  if (!schema) throw new Error('A service data source needs a schema');
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`atrium-migrate-${schema}`]);
    try {
      await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      // On the connection holding the lock, so a pool of one suffices.
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'all';
      const applied = await executor.executePendingMigrations();
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`atrium-migrate-${schema}`]);
    }
  } finally {
    await runner.release();
  }
}
