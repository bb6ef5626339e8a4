import { ApiTokenScope } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('api_token')
export class ApiTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Index('api_token_user_idx')
  @Column({ type: 'varchar', length: 17 })
  userId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** Who created it, when that is not its account (an organization's token: the member). */
  @Column({ type: 'varchar', length: 17, nullable: true })
  createdBy: string | null;

  /** SHA-256 of the secret part; the token itself is shown once and never stored. */
  @Column({ type: 'varchar', length: 64 })
  secretHash: string;

  /** Null: full access; else the scope rule 1 narrows the account's rights to. */
  @Column({ type: 'jsonb', nullable: true })
  scope: ApiTokenScope | null;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
