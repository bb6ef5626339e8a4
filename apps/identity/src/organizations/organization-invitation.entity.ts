import { InvitationStatus } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An invitation of an existing user into an organization with a role. EXPIRED is usually
 * computed on read (a PENDING one past `expiresAt`), and stored once something replaces it.
 */
@Entity('organization_invitation')
@Index('organization_invitation_org_idx', ['organizationId', 'createdAt'])
@Index('organization_invitation_invitee_idx', ['inviteeId', 'createdAt'])
@Index('organization_invitation_pending_uq', ['organizationId', 'inviteeId'], {
  unique: true,
  where: `"status" = 'PENDING'`,
})
export class OrganizationInvitationEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  organizationId: string;

  @Column({ type: 'varchar', length: 17 })
  inviteeId: string;

  @Column({ type: 'varchar', length: 17 })
  roleId: string;

  @Column({ type: 'varchar', length: 17 })
  invitedBy: string;

  @Column({ type: 'varchar', length: 20 })
  status: InvitationStatus;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  respondedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
