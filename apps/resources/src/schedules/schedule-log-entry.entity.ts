import { ScheduleLogEntryView } from '@atrium/contracts';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One line of a schedule's log; a schedule keeps its last SCHEDULE_LOG_MAX_ENTRIES. */
@Entity('schedule_log_entry')
@Index('schedule_log_entry_schedule_idx', ['scheduleId', 'id'])
export class ScheduleLogEntryEntity {
  /** Bigint, read as a string: orders the entries of one firing, written in the same instant. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  scheduleId: string;

  @Column({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'varchar', length: 10 })
  level: ScheduleLogEntryView['level'];

  @Column({ type: 'text' })
  message: string;
}
