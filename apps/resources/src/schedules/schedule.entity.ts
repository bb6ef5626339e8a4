import { ScheduleActionView } from '@atrium/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Schedule-specific state; the catalogue row (`resource`) holds owner and name. */
@Entity('schedule')
@Index('schedule_due_idx', ['nextRunAt'], { where: 'is_enabled' })
export class ScheduleEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  title: string | null;

  @Column({ type: 'varchar', length: 200 })
  cronExpression: string;

  @Column({ type: 'varchar', length: 64 })
  timezone: string;

  @Column({ type: 'boolean' })
  isEnabled: boolean;

  @Column({ type: 'boolean' })
  isExclusive: boolean;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'jsonb' })
  notifications: { email: boolean };

  @Column({ type: 'jsonb' })
  actions: ScheduleActionView[];

  /** The cron tick it fires for next; null while disabled. A replica fires it once this has passed. */
  @Column({ type: 'timestamptz', nullable: true })
  nextRunAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastRunAt: Date | null;

  /** Real time until which a replica firing it holds it (ScheduleFirer's claim); null when none does. */
  @Column({ type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;

  /** The run each action last started (by action id): an exclusive schedule waits for it to finish. */
  @Column({ type: 'jsonb', default: {} })
  lastRunIds: Record<string, string>;
}
