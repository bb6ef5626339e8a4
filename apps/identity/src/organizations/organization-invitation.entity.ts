import { InvitationStatus } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An invitation into an organization with a role: of an existing user (by id or username), or of
 * an email address (`inviteeId` null until a user who verified that address accepts). Either way a
 * one-time token is mailed to the invitee. EXPIRED is usually computed on read (a PENDING one past
 * `expiresAt`), and stored once something replaces it.
 */
@Entity('organization_invitation')
@Index('organization_invitation_org_idx', ['organizationId', 'createdAt'])
@Index('organization_invitation_invitee_idx', ['inviteeId', 'createdAt'])
@Index('organization_invitation_pending_uq', ['organizationId', 'inviteeId'], {
  unique: true,
  where: `"status" = 'PENDING'`,
})
@Index('organization_invitation_pending_email_uq', ['organizationId', 'email'], {
  unique: true,
  where: `"status" = 'PENDING' AND "email" IS NOT NULL`,
})
@Index('organization_invitation_email_idx', ['email'])
export class OrganizationInvitationEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  organizationId: string;

  @Column({ type: 'varchar', length: 17, nullable: true })
  inviteeId: string | null;

  /** Lowercase; set when the invitee was named by email address. */
  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  /** The SHA-256 of the mailed token's secret (`<invitation id>.<secret>`). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  tokenHash: string | null;

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
