import { AccountGeneralAccess } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('user_account')
export class UserEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 30 })
  username: string;

  /** Usernames and emails are unique regardless of case. */
  @Index('user_account_username_lower_uq', { unique: true })
  @Column({ type: 'varchar', length: 30 })
  usernameLower: string;

  @Index('user_account_email_lower_uq', { unique: true })
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 200 })
  passwordHash: string;

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
