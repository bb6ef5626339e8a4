import { RunMeta, RunStatus } from '@atrium/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A run's state; its catalogue row (`resource`) holds who started it, its Actor and task, and its access. */
@Entity('actor_run')
@Index('actor_run_actor_idx', ['actorId', 'startedAt'])
export class RunEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  actorId: string;

  @Column({ type: 'varchar', length: 17, nullable: true })
  taskId: string | null;

  @Column({ type: 'varchar', length: 20 })
  status: RunStatus;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  statusMessage: string | null;

  /** Set with the status message by whoever sets it (the SDK marks its last one so). */
  @Column({ type: 'boolean', default: false })
  isStatusMessageTerminal: boolean;

  @Column({ type: 'timestamptz' })
  startedAt: Date;

  /** When a resurrected run became RUNNING again: its run time counts from here, not twice. */
  @Column({ type: 'timestamptz', nullable: true })
  resurrectedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'jsonb' })
  options: { build: string; timeoutSecs: number; memoryMbytes: number };

  /** Where the run came from: the API, or a schedule's firing. */
  @Column({ type: 'jsonb', default: { origin: 'API' } })
  meta: RunMeta;

  @Column({ type: 'varchar', length: 17 })
  defaultDatasetId: string;

  @Column({ type: 'varchar', length: 17 })
  defaultKeyValueStoreId: string;

  @Column({ type: 'varchar', length: 17 })
  defaultRequestQueueId: string;

  /** SHA-256 of the run token's secret; the token itself is returned once, by start. */
  @Column({ type: 'varchar', length: 64 })
  tokenHash: string;

  /** The run's log, appended to as its status changes. */
  @Column({ type: 'text', default: '' })
  log: string;

  // A runner's lease (run-leases.service.ts): who executes the run now, until when.
  @Column({ type: 'uuid', nullable: true })
  leaseId: string | null;

  /** The worker's name, as it gave it (for the log and people). */
  @Column({ type: 'varchar', length: 100, nullable: true })
  leaseHolder: string | null;

  @Column({ type: 'varchar', length: 17, nullable: true })
  leaseHolderUserId: string | null;

  @Index('actor_run_lease_expiry_idx')
  @Column({ type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  /** How many leases the run was claimed with (a lost worker's run is retried once). */
  @Column({ type: 'int', default: 0 })
  attempt: number;

  /** SHA-256 of the current lease's run token: it works while the lease holds, then never again. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  leaseTokenHash: string | null;
}
