import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { PollingWorker } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { FAILURE_WINDOW_MS } from './account-throttle';

const SWEEP_INTERVAL_MS = 60_000;
/** Rows deleted per statement, so that a sweep never holds many locks at once. */
const SWEEP_BATCH = 1000;

/**
 * Deletes what the throttles no longer count: ended rate-limit windows and per-account failures
 * older than their window. Every replica sweeps; the deletes are idempotent, and SKIP LOCKED keeps
 * a sweep from waiting on a key being counted.
 */
@Injectable()
export class ThrottleSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ThrottleSweeper.name);
  private readonly worker = new PollingWorker(
    async () => {
      await this.sweep();
    },
    SWEEP_INTERVAL_MS,
    this.logger,
    'Throttle sweeper will retry',
  );

  constructor(private readonly dataSource: DataSource) {}

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }

  /** Deletes the expired rows, batch by batch; returns how many. */
  async sweep(): Promise<number> {
    let deleted = 0;
    const statements = [
      `DELETE FROM identity.rate_limit_window WHERE key IN (
         SELECT key FROM identity.rate_limit_window WHERE ends_at <= now()
          LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)`,
      `DELETE FROM identity.auth_failure WHERE id IN (
         SELECT id FROM identity.auth_failure WHERE failed_at <= now() - $1::float8 * interval '1 millisecond'
          LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)`,
    ];
    for (const [i, statement] of statements.entries()) {
      for (;;) {
        const [, count] = (await this.dataSource.query(statement, i ? [FAILURE_WINDOW_MS] : [])) as [
          unknown,
          number,
        ];
        deleted += count;
        if (count < SWEEP_BATCH || this.worker.isStopped) break;
      }
    }
    return deleted;
  }
}
