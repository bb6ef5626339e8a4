import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Events, IdentityRpc } from '@atrium/contracts';
import { EVENT_BUS, EventBus, RpcClient } from '@atrium/messaging';
import { AnnouncedRevocations } from './announced-revocations';

const MAX_TTL_MS = 60_000;
const MAX_ENTRIES = 100_000;

/**
 * Open sessions, cached per replica like API token verifications, so that an access token's
 * session costs a map lookup on the hot path: a `sessions.ended` event (every replica receives it:
 * logout, password change or reset, refresh-token reuse) drops the session, an ending through this
 * replica drops it before the response, an entry lives a minute at most, and nothing is cached
 * while the event stream is down — then every request asks identity, and an identity that cannot
 * answer makes the request fail (503), never pass.
 */
@Injectable()
export class SessionVerifications implements OnModuleInit {
  /** Session id → until when it is known open (and whose it is). */
  private readonly open = new Map<string, { userId: string; until: number }>();
  private listening = false;
  /** Bumped by every forget: a lookup that began before one does not fill the cache (it may be stale). */
  private generation = 0;
  private readonly announcements = new AnnouncedRevocations();
  private readonly logger = new Logger(SessionVerifications.name);

  constructor(
    private readonly rpc: RpcClient,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    this.bus.onConnectionChange((connected) => {
      this.open.clear();
      this.listening = connected;
    });
    await this.bus.subscribeBroadcast([Events.sessionsEnded.name], async (envelope) => {
      const { sessionIds } = envelope.payload as { sessionIds: string[] };
      this.forget(sessionIds);
      this.announcements.announced(sessionIds);
    });
    this.listening = this.bus.connected;
  }

  /** Resolves when the session is open; rejects with token-not-valid when it ended. */
  async verify(userId: string, sessionId: string): Promise<void> {
    const now = Date.now();
    const hit = this.open.get(sessionId);
    if (hit && hit.userId === userId && hit.until > now && this.listening) return;
    const generation = this.generation;
    await this.rpc.call(IdentityRpc.verifySession, { userId, sessionId });
    if (this.listening && generation === this.generation) {
      if (this.open.size >= MAX_ENTRIES) this.open.clear();
      this.open.set(sessionId, { userId, until: now + MAX_TTL_MS });
    }
  }

  /** Drops sessions (ended through this replica, or by event). */
  forget(sessionIds: readonly string[]): void {
    this.generation++;
    for (const id of sessionIds) this.open.delete(id);
  }

  /**
   * Sessions ended through this replica: dropped here at once, and resolved once their
   * announcement reached this replica — and so every replica's queue (see AnnouncedRevocations).
   * Called before the response.
   */
  async ended(sessionIds: readonly string[]): Promise<void> {
    this.forget(sessionIds);
    if (!sessionIds.length || !this.listening) return;
    if (!(await this.announcements.heard(sessionIds)))
      this.logger.warn(`The end of ${sessionIds.length} session(s) was not announced back in time`);
  }
}
