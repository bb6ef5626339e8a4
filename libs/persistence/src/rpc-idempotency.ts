import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { IDEMPOTENCY_WINDOW_MS, PollingWorker } from '@atrium/messaging';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';

/** How often the sweeper looks for expired keys, and how many rows it deletes per statement. */
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
const SWEEP_BATCH = 1000;

/** The table of a service's keyed transactions (see `ServiceDataSource`), in its own schema. */
export function rpcIdempotencyMigration(schema: string, timestamp: number) {
  return class implements MigrationInterface {
    name = `RpcIdempotency${timestamp}`;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(
        `CREATE TABLE "${schema}"."rpc_idempotency" ("key" text PRIMARY KEY, "result" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())`,
      );
      await queryRunner.query(
        `CREATE INDEX "rpc_idempotency_created_at_idx" ON "${schema}"."rpc_idempotency" ("created_at")`,
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE "${schema}"."rpc_idempotency"`);
    }
  };
}

/**
 * Deletes the keys older than the idempotency window (24 h), a batch at a time: past it, a
 * repeat of the request runs again.
 */
@Injectable()
export class RpcIdempotencySweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly worker = new PollingWorker(
    () => this.sweep().then(() => undefined),
    SWEEP_INTERVAL_MS,
    new Logger('RpcIdempotencySweeper'),
    'Idempotency key sweep will retry',
  );

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Deletes every expired key; returns how many. */
  async sweep(windowMs = IDEMPOTENCY_WINDOW_MS): Promise<number> {
    const schema = this.dataSource.options.type === 'postgres' ? this.dataSource.options.schema : undefined;
    let deleted = 0;
    for (;;) {
      const rows: unknown[] = await this.dataSource.query(
        `DELETE FROM "${schema}"."rpc_idempotency" WHERE key IN (SELECT key FROM "${schema}"."rpc_idempotency" WHERE created_at < now() - make_interval(secs => $1) LIMIT ${SWEEP_BATCH}) RETURNING 1`,
        [windowMs / 1000],
      );
      deleted += rows.length;
      if (rows.length < SWEEP_BATCH) return deleted;
    }
  }

  onApplicationBootstrap(): void {
    this.worker.start();
    this.worker.kick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }
}
