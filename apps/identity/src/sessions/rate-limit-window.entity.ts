import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The current window of one shared rate limit (the gateway's per-address auth limit): its hits and
 * when it ends. One row per key, counted by a single upsert, so that every gateway replica counts
 * the same hits and concurrent hits are never lost.
 */
@Entity('rate_limit_window')
export class RateLimitWindowEntity {
  /** `auth-<bucket>-<limit>-<client address>`, as the gateway names it. */
  @PrimaryColumn({ type: 'varchar', length: 300 })
  key: string;

  @Column({ type: 'int' })
  hits: number;

  @Index('rate_limit_window_ends_at_idx')
  @Column({ type: 'timestamptz' })
  endsAt: Date;
}
