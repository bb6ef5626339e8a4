import { AccountGeneralAccess } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A person who signs in, or an organization (which never signs in: members act in it). */
export const ACCOUNT_KINDS = ['USER', 'ORGANIZATION'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** Users and organizations share one table, so a username names one account of either kind. */
@Entity('user_account')
export class UserEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 20, default: 'USER' })
  kind: AccountKind;

  @Column({ type: 'varchar', length: 30 })
  username: string;

  /** Usernames and emails are unique regardless of case. */
  @Index('user_account_username_lower_uq', { unique: true })
  @Column({ type: 'varchar', length: 30 })
  usernameLower: string;

  /** Null for organizations. */
  @Index('user_account_email_lower_uq', { unique: true })
  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  /**
   * When the owner of `email` proved it (the token mailed at sign-up, or a password reset). Until
   * then the address is only a claim: nothing addressed to it (invitations) may be accepted.
   */
  @Column({ type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null;

  /** Null for organizations: no password matches it. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  passwordHash: string | null;

  @Column({ type: 'varchar', length: 40 })
  generalResourceAccess: AccountGeneralAccess;

  @Column({ type: 'boolean', default: false })
  shareRunsWithPublicActorCreators: boolean;

  /** Bumped on every change the permissions service projects, so stale events lose. */
  @Column({ type: 'integer', default: 1 })
  version: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
