import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A comment on an issue; only its author may edit it, and the edit time is kept. */
@Entity('issue_comment')
@Index('issue_comment_issue_created_idx', ['issueId', 'createdAt'])
export class IssueCommentEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  issueId: string;

  @Column({ type: 'varchar', length: 17 })
  authorId: string;

  @Column({ type: 'text' })
  text: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  editedAt: Date | null;
}
