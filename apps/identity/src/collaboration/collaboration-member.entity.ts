import { CollaborationMemberStatus, SHARED_CATEGORIES } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** One shared item as stored: exactly one of resourceId, groupId or category, with its roles. */
export interface StoredSharedItem {
  resourceId?: string;
  groupId?: string;
  category?: (typeof SHARED_CATEGORIES)[number];
  roleIds: string[];
}

/**
 * A member of a primary account, invited by email. `userId` is set when a user who verified that
 * email accepts — never at invitation, so that inviting tells nothing about who is registered. The
 * record is kept after the member leaves or is removed, so that the primary can re-invite.
 */
@Entity('collaboration_member')
@Index('collaboration_member_primary_email_uq', ['primaryId', 'email'], { unique: true })
@Index('collaboration_member_primary_user_uq', ['primaryId', 'userId'], {
  unique: true,
  where: 'user_id IS NOT NULL',
})
@Index('collaboration_member_user_idx', ['userId'])
@Index('collaboration_member_email_idx', ['email'])
export class CollaborationMemberEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  primaryId: string;

  @Column({ type: 'varchar', length: 17, nullable: true })
  userId: string | null;

  /** Lowercase. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  displayName: string | null;

  @Column({ type: 'varchar', length: 20 })
  status: CollaborationMemberStatus;

  /** The SHA-256 of the secret of the token mailed with the (latest) invitation: `<member id>.<secret>`. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  tokenHash: string | null;

  @Column({ type: 'jsonb' })
  shared: StoredSharedItem[];

  @Column({ type: 'varchar', length: 100 })
  invitedBy: string;

  @Column({ type: 'timestamptz' })
  invitedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  respondedAt: Date | null;

  /** Bumped on every change of what the member may do, so stale membership events lose. */
  @Column({ type: 'integer', default: 1 })
  version: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  modifiedAt: Date;
}
