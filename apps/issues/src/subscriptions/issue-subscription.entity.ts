import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A user who is notified of new comments and status changes on an issue. */
@Entity('issue_subscription')
export class IssueSubscriptionEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  issueId: string;

  @PrimaryColumn({ type: 'varchar', length: 17 })
  userId: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
