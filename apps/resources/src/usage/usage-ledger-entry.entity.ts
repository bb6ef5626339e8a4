import { ResourceType, UsageMetric } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintAsNumber } from './bigint-as-number';

/** One change of an account's usage, with the user who caused it; never changed afterwards. */
@Entity('usage_ledger')
@Index('usage_ledger_account_at_idx', ['accountId', 'at'])
@Index('usage_ledger_account_metric_idx', ['accountId', 'metric', 'causedBy'])
export class UsageLedgerEntryEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  accountId: string;

  @Column({ type: 'varchar', length: 20 })
  metric: UsageMetric;

  /** The type of the resource concerned (for RESOURCE_COUNT, the type counted). */
  @Column({ type: 'varchar', length: 40 })
  resourceType: ResourceType;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  delta: number;

  @Column({ type: 'varchar', length: 17 })
  causedBy: string;

  @Column({ type: 'varchar', length: 17 })
  resourceId: string;

  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;
}
