import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A failed login, or a sign-up refused because it named an existing account, counted against the
 * account it named. Kept in PostgreSQL so that every identity replica counts the same failures.
 */
@Entity('auth_failure')
@Index('auth_failure_key_idx', ['key', 'failedAt'])
export class AuthFailureEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  /** `login:<user id>` (or the login as typed, when it names nobody), `signup:<username or email>`. */
  @Column({ type: 'varchar', length: 300 })
  key: string;

  @Index('auth_failure_failed_at_idx')
  @Column({ type: 'timestamptz' })
  failedAt: Date;
}
