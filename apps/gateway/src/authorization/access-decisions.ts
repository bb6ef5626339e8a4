import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import {
  CheckResult,
  Events,
  Permission,
  PermissionsRpc,
  PrincipalRef,
  ResourceType,
} from '@atrium/contracts';
import { EVENT_BUS, EventBus, RpcClient } from '@atrium/messaging';

/** No decision is kept longer than this, whatever else holds. */
const MAX_TTL_MS = 60_000;
const MAX_ENTRIES = 100_000;
/** How often this replica asks whether the permissions service answers; cached decisions serve only while it does. */
const HEARTBEAT_MS = 1000;

interface Entry {
  result: CheckResult;
  expiresAt: number;
}

/**
 * The gateway's access decisions: the permissions service's answers, cached per (principal,
 * permission, resource) in this replica. A `permissions.changed` event (every replica receives
 * every one) drops the cache; so does any access change made through this replica, before its
 * response (read-your-writes). A decision is never kept past a grant's `expiresAt` or a pending
 * grant's `notBefore` (`validUntil`). Without the event stream, or while the permissions service
 * does not answer its heartbeat (checked every second), nothing is served from the cache: the
 * gateway fails closed with 503 rather than answer from memory.
 * Only decisions on resources the caller can see are cached: "not found" is always asked again,
 * so a resource is usable as soon as it is created.
 */
@Injectable()
export class AccessDecisions implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AccessDecisions.name);
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every clear: a decision asked for before a clear is not cached after it. */
  private generation = 0;
  private listening = false;
  private permissionsAnswer = true;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    this.bus.onConnectionChange((connected) => {
      this.clear();
      this.listening = connected;
      if (!connected) this.logger.warn('Event stream lost: access decisions are not cached until it is back');
    });
    await this.bus.subscribeBroadcast([Events.permissionsChanged.name], async () => this.clear());
    this.listening = this.bus.connected;
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  onModuleDestroy(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  private async beat(): Promise<void> {
    try {
      await this.rpc.call(PermissionsRpc.health, {}, HEARTBEAT_MS);
      this.permissionsAnswer = true;
    } catch {
      if (this.permissionsAnswer)
        this.logger.warn('The permissions service does not answer: cached decisions are not served');
      this.permissionsAnswer = false;
      this.clear();
    }
  }

  private get usable(): boolean {
    return this.listening && this.permissionsAnswer;
  }

  get cached(): number {
    return this.entries.size;
  }

  async check(
    principal: PrincipalRef,
    resourceType: ResourceType,
    resourceRef: string,
    permission: Permission,
  ): Promise<CheckResult> {
    const key = `${principal.userId ?? ''}|${principal.runId ?? ''}|${principal.scope ? principal.tokenId : ''}|${resourceType}|${resourceRef}|${permission}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now && this.usable) return hit.result;
    if (hit) this.entries.delete(key);

    const generation = this.generation;
    const result = await this.rpc.call(PermissionsRpc.check, {
      principal,
      resourceType,
      resourceRef,
      permission,
    });
    // A change of access (or a lost event stream) while the answer was on its way may have made
    // it stale: it answers this request, which started before, but is not kept for later ones.
    if (this.usable && result.canRead && generation === this.generation) {
      const validUntil = result.validUntil ? Date.parse(result.validUntil) : Infinity;
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(key, { result, expiresAt: Math.min(validUntil, now + MAX_TTL_MS) });
    }
    return result;
  }

  /**
   * Re-reads a changed resource, account or membership (`accountId:userId`) into the permissions
   * service and forgets cached decisions.
   */
  async refreshed(kind: 'account' | 'resource' | 'membership', id: string): Promise<void> {
    await this.rpc.call(PermissionsRpc.refreshProjection, { kind, id });
    this.clear();
  }

  /** After a change of access made through this replica (a grant given, changed or taken back). */
  changed(): void {
    this.clear();
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
