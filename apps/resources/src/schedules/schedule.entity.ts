import { ScheduleActionView } from '@atrium/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Schedule-specific state; the catalogue row (`resource`) holds owner and name. */
@Entity('schedule')
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
}
