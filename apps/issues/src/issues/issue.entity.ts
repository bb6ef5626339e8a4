import { IssueStatus } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A report on an Actor. Issues are never deleted; closing one is a status change. */
@Entity('issue')
@Index('issue_actor_created_idx', ['actorId', 'createdAt'])
export class IssueEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  actorId: string;

  @Column({ type: 'varchar', length: 17 })
  authorId: string;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'text' })
  description: string;

  @Column({ type: 'varchar', length: 10 })
  status: IssueStatus;

  /** The run the author attached (shared with the Actor's owner through the permissions service). */
  @Column({ type: 'varchar', length: 17, nullable: true })
  runId: string | null;

  @Column({ type: 'integer', default: 0 })
  commentCount: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  modifiedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  closedAt: Date | null;
}
