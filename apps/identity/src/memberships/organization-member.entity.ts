import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A user's membership of an organization. A member who leaves or is removed keeps the row with
 * `active` false, so the version of the (organization, user) membership only ever grows and a
 * stale `membership.changed` event never wins over a newer one.
 */
@Entity('organization_member')
@Index('organization_member_user_idx', ['userId', 'active'])
@Index('organization_member_role_idx', ['organizationId', 'roleId'])
export class OrganizationMemberEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  organizationId: string;

  @PrimaryColumn({ type: 'varchar', length: 17 })
  userId: string;

  @Column({ type: 'varchar', length: 17 })
  roleId: string;

  @Column({ type: 'boolean' })
  active: boolean;

  /** Bumped on every change of this membership (role, role permissions, removal). */
  @Column({ type: 'integer' })
  version: number;

  /** When the current membership began (re-joining starts a new one). */
  @Column({ type: 'timestamptz' })
  joinedAt: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
