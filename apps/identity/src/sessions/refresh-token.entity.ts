import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** One link of a rotation chain; every token of a login shares its family. */
@Entity('refresh_token')
export class RefreshTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Index('refresh_token_family_idx')
  @Column({ type: 'varchar', length: 17 })
  familyId: string;

  @Index('refresh_token_user_idx')
  @Column({ type: 'varchar', length: 17 })
  userId: string;

  @Column({ type: 'varchar', length: 64 })
  secretHash: string;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  /** Set when exchanged for a new pair; presenting it again is reuse. */
  @Column({ type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
