import { Injectable } from '@nestjs/common';
import { AppError } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { DataSource, EntityManager, In, MoreThan } from 'typeorm';
import { AuthFailureEntity } from './auth-failure.entity';

/** Failures an account may see in the window before it is refused with 429 until the oldest ages out. */
export const MAX_FAILURES_PER_ACCOUNT = 10;
export const FAILURE_WINDOW_MS = 15 * 60 * 1000;
/** The first key of the two-int advisory locks that serialize one account's reservations. */
const THROTTLE_LOCK_CLASS = 7_311;

/**
 * Per-account brute-force limiting (the gateway limits per client address): 10 failures in 15
 * minutes lock the account's login for the rest of the window, whatever address the attempts
 * come from. A login naming nobody is counted alike, so a refusal tells nothing about which
 * accounts exist. The error says when to retry (`try again in N seconds`), which the gateway
 * turns into `Retry-After`. Failures older than the window are deleted by the ThrottleSweeper.
 */
@Injectable()
export class AccountThrottle {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Reserves one attempt of `key` before its password is verified: counted as a failure at once,
   * in the same transaction that counts the window, under a per-key advisory lock — so concurrent
   * attempts, on any replica, are admitted one at a time and never more than the limit (the
   * count-then-verify race of issue 12, hole 6). A verification that succeeds clears the key.
   */
  async reserve(key: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [THROTTLE_LOCK_CLASS, key]);
      await this.check([key], manager);
      await manager.insert(AuthFailureEntity, { id: newId(), key, failedAt: new Date() });
    });
  }

  /** Throws rate-limit-exceeded while any of `keys` has had too many failures in the window. */
  async check(keys: string[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    const now = Date.now();
    const recent = await manager.find(AuthFailureEntity, {
      where: { key: In(keys), failedAt: MoreThan(new Date(now - FAILURE_WINDOW_MS)) },
      order: { failedAt: 'DESC' },
    });
    let lockedUntil = 0;
    for (const key of keys) {
      const failures = recent.filter((f) => f.key === key);
      // Locked until the failure that filled the window ages out of it.
      if (failures.length >= MAX_FAILURES_PER_ACCOUNT)
        lockedUntil = Math.max(
          lockedUntil,
          failures[MAX_FAILURES_PER_ACCOUNT - 1].failedAt.getTime() + FAILURE_WINDOW_MS,
        );
    }
    if (lockedUntil > now) {
      const seconds = Math.max(1, Math.ceil((lockedUntil - now) / 1000));
      throw new AppError(
        'rate-limit-exceeded',
        `Too many failed attempts for this account: try again in ${seconds} seconds`,
      );
    }
  }

  async recordFailure(keys: string[]): Promise<void> {
    const now = new Date();
    if (keys.length)
      await this.dataSource.manager.insert(
        AuthFailureEntity,
        keys.map((key) => ({ id: newId(), key, failedAt: now })),
      );
  }

  /** A successful login starts the account's count afresh. */
  async clear(keys: string[]): Promise<void> {
    await this.dataSource.manager.delete(AuthFailureEntity, { key: In(keys) });
  }
}
