import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One change of access, or one denial: who did what to whom, on what, before and after, when. */
@Entity('audit_entry')
@Index('audit_entry_account_idx', ['accountId', 'id'])
@Index('audit_entry_resource_idx', ['resourceId', 'id'])
export class AuditEntryEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  occurredAt: Date;

  @Column({ type: 'varchar', length: 60 })
  action: string;

  /** Who acted (null: anonymous, or not known to this service). */
  @Column({ type: 'varchar', length: 17, nullable: true })
  actorId: string | null;

  /** Whom it concerns (the grantee, the account whose setting changed…). */
  @Column({ type: 'varchar', length: 17, nullable: true })
  subjectId: string | null;

  @Column({ type: 'varchar', length: 17, nullable: true })
  resourceId: string | null;

  @Column({ type: 'varchar', length: 40, nullable: true })
  resourceType: string | null;

  /** The account that owns what changed: whose audit log the entry belongs to. */
  @Column({ type: 'varchar', length: 17 })
  accountId: string;

  @Column({ type: 'jsonb', nullable: true })
  before: object | null;

  @Column({ type: 'jsonb', nullable: true })
  after: object | null;
}
