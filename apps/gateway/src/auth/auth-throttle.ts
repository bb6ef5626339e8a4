import { ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ThrottlerOptions } from '@nestjs/throttler';

const REFRESH_BUCKET = 'atrium:auth-refresh-bucket';
/** The refresh routes' bucket allows this many times AUTH_RATE_LIMIT_PER_MINUTE (the console refreshes at each page load). */
export const REFRESH_LIMIT_FACTOR = 4;

/** Puts a route in the per-address refresh bucket instead of the credentials bucket. */
export const RefreshBucket = () => SetMetadata(REFRESH_BUCKET, true);

const inRefreshBucket = (context: ExecutionContext): boolean =>
  Reflect.getMetadata(REFRESH_BUCKET, context.getHandler()) === true;

/**
 * The per-address limit of the routes under ThrottlerGuard (the auth routes): ONE bucket per client
 * address for all of them (sign-in, sign-up, password reset, email verification… whichever route an
 * attempt goes to), and a separate, larger one for the refresh routes. The key names the bucket, its
 * limit and the address, never the route. Counted in identity's database by every replica alike.
 */
export function authThrottler(limitPerMinute: number): ThrottlerOptions {
  const limit = (context: ExecutionContext) =>
    inRefreshBucket(context) ? REFRESH_LIMIT_FACTOR * limitPerMinute : limitPerMinute;
  return {
    name: 'default',
    ttl: 60_000,
    limit,
    // The limit is part of the key: replicas configured alike (every replica of a deployment) share
    // one count; a replica given another limit (a canary, a test) counts on its own.
    generateKey: (context, tracker) =>
      `auth-${inRefreshBucket(context) ? 'refresh' : 'credentials'}-${limit(context)}-${tracker}`,
  };
}
