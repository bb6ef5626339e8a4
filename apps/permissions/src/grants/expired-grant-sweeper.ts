import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SigningKeyRotation, STORAGE_TYPES } from '@atrium/contracts';
import { PollingWorker, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { ProjectionsService } from '../projections/projections.service';
import { GrantStorageKeys } from './grant-storage-keys';
import { GrantEntity } from './grant.entity';

/** How often expired storage grants are looked for: links their holders signed stop within this. */
const SWEEP_INTERVAL_MS = 5000;
const SWEEP_BATCH = 100;

/**
 * A storage grant whose `expiresAt` has passed takes its reach of the storage's signing key with
 * it, as a revocation does: every few seconds the expired storage grants are deleted (they give
 * nothing any more) and, where one reached the key (WRITE, MANAGE_ACCESS), the storage's key is
 * rotated (declared in the same transaction, applied at once; reason `grant-revoked`), so that
 * links its holder signed stop working. Replicas share the work: rows another replica holds are
 * skipped (FOR UPDATE SKIP LOCKED).
 */
@Injectable()
export class ExpiredGrantSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly worker = new PollingWorker(
    () => this.sweep().then(() => undefined),
    SWEEP_INTERVAL_MS,
    new Logger(ExpiredGrantSweeper.name),
    'Expired grant sweep will retry',
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly projections: ProjectionsService,
    private readonly storageKeys: GrantStorageKeys,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  /** Deletes the expired storage grants, rotating the keys they reached; returns how many. */
  async sweep(): Promise<number> {
    let swept = 0;
    for (;;) {
      const { count, rotations } = await this.dataSource.transaction(async (manager) => {
        const expired = await manager
          .createQueryBuilder(GrantEntity, 'g')
          .where('g.expires_at <= now() AND g.resource_type IN (:...types)', { types: STORAGE_TYPES })
          .orderBy('g.expires_at')
          .take(SWEEP_BATCH)
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .getMany();
        const found: (SigningKeyRotation | null)[] = [];
        for (const grant of expired) {
          const resource = await this.projections.resource(grant.resourceId, manager);
          found.push(await this.storageKeys.declareIfTaken(manager, resource?.ownerId, grant, null));
        }
        if (expired.length)
          await manager.delete(
            GrantEntity,
            expired.map((g) => g.id),
          );
        return { count: expired.length, rotations: found };
      });
      if (rotations.some(Boolean)) this.outbox.kick();
      // Applied now; one the resources service cannot take yet is applied by its event.
      for (const rotation of rotations) await this.storageKeys.applyNow(rotation).catch(() => undefined);
      swept += count;
      if (count < SWEEP_BATCH) return swept;
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
