import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Events, IdentityRpc, VerifiedApiToken } from '@atrium/contracts';
import { EVENT_BUS, EventBus, RpcClient } from '@atrium/messaging';
import { hash } from 'node:crypto';
import { AnnouncedRevocations } from './announced-revocations';

const MAX_TTL_MS = 60_000;
const MAX_ENTRIES = 100_000;

/**
 * API token verifications, cached per replica like access decisions: an `api-token.revoked`
 * event (every replica receives it) drops the token, a revocation through this replica drops it
 * before the response, an entry never outlives the token's `expiresAt`, and nothing is cached
 * while the event stream is down. Keys are hashes: no secret is kept in memory as it came.
 */
@Injectable()
export class TokenVerifications implements OnModuleInit {
  private readonly entries = new Map<string, { verified: VerifiedApiToken; expiresAt: number }>();
  private listening = false;
  /** Bumped by every forget: a verification that began before one does not fill the cache. */
  private generation = 0;
  private readonly announcements = new AnnouncedRevocations();
  private readonly logger = new Logger(TokenVerifications.name);

  constructor(
    private readonly rpc: RpcClient,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    this.bus.onConnectionChange((connected) => {
      this.entries.clear();
      this.listening = connected;
    });
    // Revoked, or given a new secret or scope: the next request verifies it again.
    await this.bus.subscribeBroadcast(
      [Events.apiTokenRevoked.name, Events.apiTokenChanged.name],
      async (envelope) => {
        const { tokenId } = envelope.payload as { tokenId: string };
        this.forget(tokenId);
        this.announcements.announced([tokenId]);
      },
    );
    this.listening = this.bus.connected;
  }

  async verify(token: string): Promise<VerifiedApiToken> {
    const key = hash('sha256', token, 'base64url');
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now && this.listening) return hit.verified;
    const generation = this.generation;
    const verified = await this.rpc.call(IdentityRpc.verifyToken, { token });
    if (this.listening && generation === this.generation) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      const tokenExpiry = verified.expiresAt ? Date.parse(verified.expiresAt) : Infinity;
      this.entries.set(key, { verified, expiresAt: Math.min(tokenExpiry, now + MAX_TTL_MS) });
    }
    return verified;
  }

  /** Drops a token (revoked or changed through this replica, or by event). */
  forget(tokenId: string): void {
    this.generation++;
    for (const [key, entry] of this.entries) if (entry.verified.tokenId === tokenId) this.entries.delete(key);
  }

  /**
   * Tokens revoked or changed through this replica: dropped here at once, and resolved once their
   * announcement reached this replica — and so every replica's queue (see AnnouncedRevocations).
   * Called before the response.
   */
  async revoked(tokenIds: readonly string[]): Promise<void> {
    tokenIds.forEach((tokenId) => this.forget(tokenId));
    if (!tokenIds.length || !this.listening) return;
    if (!(await this.announcements.heard(tokenIds)))
      this.logger.warn(`The revocation of ${tokenIds.length} token(s) was not announced back in time`);
  }
}
