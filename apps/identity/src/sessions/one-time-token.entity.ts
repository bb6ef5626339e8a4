import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const ONE_TIME_TOKEN_PURPOSES = ['VERIFY_EMAIL', 'RESET_PASSWORD'] as const;
export type OneTimeTokenPurpose = (typeof ONE_TIME_TOKEN_PURPOSES)[number];

/**
 * A token mailed to an address (email verification, password reset): `<id>.<secret>`, stored
 * hashed, spent once, expiring. A new one of the same purpose replaces the user's earlier ones.
 */
@Entity('one_time_token')
@Index('one_time_token_user_idx', ['userId', 'purpose'])
export class OneTimeTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 20 })
  purpose: OneTimeTokenPurpose;

  @Column({ type: 'varchar', length: 17 })
  userId: string;

  /** The address it was mailed to (lowercase): verifying proves this one, not a later one. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 64 })
  secretHash: string;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
