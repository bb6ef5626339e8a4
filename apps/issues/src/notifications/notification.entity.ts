import { IssueStatus, NotificationKind } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** Tells a subscriber of an issue about a new comment or a status change someone else made. */
@Entity('notification')
@Index('notification_user_created_idx', ['userId', 'createdAt'])
export class NotificationEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  /** The recipient. */
  @Column({ type: 'varchar', length: 17 })
  userId: string;

  @Column({ type: 'varchar', length: 20 })
  kind: NotificationKind;

  @Column({ type: 'varchar', length: 17 })
  issueId: string;

  @Column({ type: 'varchar', length: 17 })
  actorId: string;

  @Column({ type: 'varchar', length: 17 })
  causedBy: string;

  @Column({ type: 'varchar', length: 17, nullable: true })
  commentId: string | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  status: IssueStatus | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  readAt: Date | null;
}
