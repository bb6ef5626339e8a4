import { ResourceType } from '@atrium/contracts';
import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { bigintAsNumber } from './bigint-as-number';

/** Limits an account set for itself (each at most the deployment's); absent ones follow the deployment. */
export interface OwnLimits {
  resources?: Partial<Record<ResourceType, number>>;
  storageBytes?: number;
  runTimeSecs?: number;
}

/**
 * An account's usage counters and own limits. Every change of usage locks this row first
 * (FOR UPDATE), so that checking a limit and counting against it happen as one step.
 */
@Entity('account_usage')
export class AccountUsageEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  accountId: string;

  /** Resources the account owns, per type (absent: none). */
  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  resourceCounts: Partial<Record<ResourceType, number>>;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  storageBytes: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  runTimeSecs: number;

  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  ownLimits: OwnLimits;

  @UpdateDateColumn({ type: 'timestamptz' })
  modifiedAt: Date;
}
