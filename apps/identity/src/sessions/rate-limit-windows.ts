import { Injectable } from '@nestjs/common';
import { RateLimitHit } from '@atrium/contracts';
import { DataSource } from 'typeorm';

/**
 * Shared fixed windows: a key's window opens at its first hit and lasts `windowMs`; a hit after it
 * ended opens the next one. One statement counts the hit (INSERT … ON CONFLICT DO UPDATE, which
 * locks the key's row), so concurrent hits on any replica are each counted once, and the times
 * are the database's clock, the same for every replica. Ended windows are deleted by the
 * ThrottleSweeper.
 */
@Injectable()
export class RateLimitWindows {
  constructor(private readonly dataSource: DataSource) {}

  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    const rows = (await this.dataSource.query(
      `INSERT INTO identity.rate_limit_window AS w (key, hits, ends_at)
            VALUES ($1, 1, now() + $2::float8 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE
               SET hits = CASE WHEN w.ends_at <= now() THEN 1 ELSE w.hits + 1 END,
                   ends_at = CASE WHEN w.ends_at <= now() THEN EXCLUDED.ends_at ELSE w.ends_at END
         RETURNING hits,
                   least($2::float8, greatest(0, ceil(extract(epoch FROM ends_at - now()) * 1000)))::float8 AS ends_in_ms`,
      [key, windowMs],
    )) as { hits: number; ends_in_ms: number }[];
    return { hits: rows[0].hits, windowEndsInMs: rows[0].ends_in_ms };
  }
}
