import type { ThrottlerStorage } from '@nestjs/throttler';
import { AppError, IdentityRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * The auth routes' counters, kept by identity in PostgreSQL (the gateway has no database) so that
 * every replica counts the same hits: N replicas give an address the limit once, not N times. One
 * RPC per attempt on the throttled routes only; other routes never reach it. Fails closed: when the
 * count cannot be had, the attempt is refused with 503, never let through uncounted.
 */
export class SharedThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly rpc: RpcClient) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    let hit;
    try {
      hit = await this.rpc.call(IdentityRpc.hitRateLimit, { key, windowMs: ttl });
    } catch (err) {
      throw new AppError(
        'service-unavailable',
        `Sign-in attempts cannot be counted right now, so none is accepted: try again shortly (${(err as Error).message})`,
      );
    }
    const secondsLeft = Math.max(1, Math.ceil(hit.windowEndsInMs / 1000));
    const isBlocked = hit.hits > limit;
    return {
      totalHits: hit.hits,
      timeToExpire: secondsLeft,
      isBlocked,
      timeToBlockExpire: isBlocked ? secondsLeft : 0,
    };
  }
}
