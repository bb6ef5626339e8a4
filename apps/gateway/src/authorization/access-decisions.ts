import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import {
  AppError,
  CheckResult,
  Events,
  MAX_CHECKS_PER_REQUEST,
  MAX_FACTS_AGE_MS,
  Permission,
  PERMISSIONS_BY_TYPE,
  PermissionsRpc,
  PrincipalRef,
  RpcRequest,
  ResourceType,
  safeParseInternal,
} from '@atrium/contracts';
import { EVENT_BUS, EventBus, RpcClient } from '@atrium/messaging';
import { GatewayMetrics } from '../health/metrics';
import { ChangeVersions, REFRESH_AHEAD_MS, WIDENABLE_TTL_MS } from './kept-reads';

/** No decision is kept longer than this, whatever else holds. */
const MAX_TTL_MS = 60_000;
const MAX_ENTRIES = 100_000;
/** How often this replica asks whether the permissions service answers; cached decisions serve only while it does. */
const HEARTBEAT_MS = 1000;
/**
 * Check requests this replica has on their way at once. A cache miss is asked at once while
 * fewer are; beyond, misses wait for one to come back and then go together in one `checkMany`
 * (a burst of misses costs the permissions service a few requests, not one each).
 */
const MAX_CHECKS_IN_FLIGHT = 4;
/** Changes of access remembered for answers still on their way (older ones: the answer is not kept). */
const RECENT_CHANGES = 1024;
/**
 * What a cached decision depends on, and what a change of access reaches, as tags: a resource by
 * its id; an account's settings and memberships by `account:<id>`; a user's memberships by
 * `member:<userId>`. A decision that does not say which resources (or accounts) it read carries
 * the wildcard, which every change of that kind reaches.
 */
const ANY_RESOURCE = '*';
const ANY_ACCOUNT = 'account:*';
const accountTag = (accountId: string) => `account:${accountId}`;
const memberTag = (userId: string) => `member:${userId}`;
/** The settle's margin over WIDENABLE_TTL_MS: timer granularity. */
const SETTLE_MARGIN_MS = 2;
export { REFRESH_AHEAD_MS, WIDENABLE_TTL_MS };

interface Entry {
  result: CheckResult;
  expiresAt: number;
  /** On the monotonic clock (`performance.now()`): when a decision a change could widen goes (WIDENABLE_TTL_MS). */
  widenableUntil: number;
  /** What it depends on (see ANY_RESOURCE): what a change must reach to drop it. */
  tags: readonly string[];
  /** The permissions service's change version when it was asked, if one was known (ChangeVersions). */
  version?: string;
}

type CheckRequest = RpcRequest<typeof PermissionsRpc.check>;

/** A miss not asked yet; requests for the same decision that arrive meanwhile share it. */
interface Waiting {
  request: CheckRequest;
  answers: { resolve(result: CheckResult): void; reject(err: unknown): void }[];
}

/**
 * The gateway's access decisions: the permissions service's answers, cached per (principal,
 * permission, resource) in this replica. A `permissions.changed` event (every replica receives
 * every one) about a resource drops the decisions that depend on it — each answer names the
 * resources it read: itself, its groups, its Actor, task and run —; one about an account's
 * settings, the decisions that read that account (each answer names them: the owners of those
 * resources); one about a user's membership, that user's decisions (a decision reads only its
 * principal's memberships); one not understood drops them all. So does any access change made
 * through this replica, before its response (read-your-writes). A decision is never kept past a grant's `expiresAt` or a pending
 * grant's `notBefore` (`validUntil`). Without the event stream, or while the permissions service
 * does not answer its heartbeat (checked every second), nothing is served from the cache: the
 * gateway fails closed with 503 rather than answer from memory.
 * Only decisions on resources the caller can see are cached: "not found" is always asked again,
 * so a resource is usable as soon as it is created. A decision that a grant or a membership could
 * widen is kept only WIDENABLE_TTL_MS, and every call that changes access waits that long before it
 * answers (`settle`): what it gives is in force on every replica for the next request.
 * Misses are asked at once up to MAX_CHECKS_IN_FLIGHT requests on their way (those after the first
 * of one synchronous run, such as a listing's loop, together in one `checkMany`); the ones that
 * arrive meanwhile go together in one `checkMany` when a request comes back.
 */
@Injectable()
export class AccessDecisions implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AccessDecisions.name);
  private readonly entries = new Map<string, Entry>();
  /** Cache keys by what they depend on (a tag, see ANY_RESOURCE). */
  private readonly dependents = new Map<string, Set<string>>();
  /** Misses waiting to be asked, by cache key (never one already on its way: see `ask`). */
  private waiting = new Map<string, Waiting>();
  /**
   * Checks on their way, by cache key. A request for the same decision that arrives while one is
   * shares its answer — as it would share a cached one — when the answer is one the cache keeps
   * (the caller can see the resource), nothing changed access on this replica since it was asked,
   * and it was asked at most WIDENABLE_TTL_MS before: every answer it gets was computed after
   * any change of access that this replica made, or that another made and answered, before the
   * request arrived. A burst of requests on an expired decision costs one check, not one each.
   */
  private readonly asked = new Map<
    string,
    { generation: number; askedAt: number; answer: Promise<CheckResult> }
  >();
  private checksInFlight = 0;
  private sendScheduled = false;
  /**
   * Bumped by every change of access; what each reached (tags, or null: anything), for the last
   * RECENT_CHANGES of them. A decision asked for before a change that may affect it is not cached
   * after it.
   */
  private generation = 0;
  private readonly recentChanges = new Map<number, { tags: readonly string[] | null; at: number }>();
  private listening = false;
  private permissionsAnswer = true;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly versions: ChangeVersions,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {}

  async onModuleInit(): Promise<void> {
    this.bus.onConnectionChange((connected) => {
      this.clear('unavailable');
      this.listening = connected;
      if (!connected) this.logger.warn('Event stream lost: access decisions are not cached until it is back');
    });
    await this.bus.subscribeBroadcast([Events.permissionsChanged.name], async (envelope) => {
      const change = safeParseInternal(Events.permissionsChanged.payload, envelope.payload);
      // About one resource (a grant, its general access, a move, a deletion, a token's creation),
      // an account's settings, or a user's membership; not understood (or an account not named,
      // from an earlier release): everything goes.
      const { resourceId, subjectId, accountId, reason } = change.success ? change.data : {};
      if (resourceId) this.forget(resourceId);
      else if (reason === 'membership-changed' && subjectId) this.forgetMember(subjectId);
      else if (reason === 'general-access-changed' && accountId) this.forgetAccount(accountId);
      else this.clear();
    });
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
      this.clear('unavailable');
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
    // Asked of the permissions service's copy of the facts in memory where it can: `decide` takes
    // such an answer as asked `factsAgeMs` earlier.
    const request: CheckRequest = { principal, resourceType, resourceRef, permission, acceptFactsAge: true };
    let hit = this.entries.get(key);
    // Ran out, but asked at the version last known: a call for the version is waited for rather
    // than a check sent (an event may drop it meanwhile: it is looked up again).
    const confirming =
      hit &&
      this.usable &&
      hit.expiresAt > Date.now() &&
      this.left(hit) <= 0 &&
      this.versions.confirm('permissions', hit.version);
    if (confirming) {
      await confirming;
      hit = this.entries.get(key);
    }
    if (hit && hit.expiresAt > Date.now() && this.usable) {
      const left = this.left(hit);
      if (left > 0) {
        this.metrics?.decisionServed('cache');
        // A decision a change could widen, in use as its time runs out: renewed now (its
        // version revalidated, or it is asked again), so that the requests after it find it
        // renewed rather than wait for it.
        if (left < REFRESH_AHEAD_MS)
          this.versions.renew('permissions', hit.version, () => {
            if (!this.asked.has(key)) this.decide(key, request).catch(() => undefined);
          });
        return hit.result;
      }
    }
    if (hit) this.drop(key);
    const shared = this.usable ? this.asked.get(key) : undefined;
    // Nothing changed on this replica since it was asked (a change elsewhere is waited out by its
    // caller's settle, as for a cached decision: WIDENABLE_TTL_MS from when it was asked).
    const arrivedAt = performance.now();
    if (shared && shared.generation === this.generation && arrivedAt - shared.askedAt <= WIDENABLE_TTL_MS) {
      const result = await shared.answer;
      // What the cache would have kept (see `decide`) — and would serve to this request, taking an
      // answer from facts `factsAgeMs` old as asked that much earlier.
      const factsAskedAt = shared.askedAt - (result.factsAgeMs ?? 0);
      if (
        result.canRead &&
        arrivedAt - factsAskedAt <= WIDENABLE_TTL_MS &&
        this.generationAt(factsAskedAt, shared.generation) === shared.generation
      ) {
        this.metrics?.decisionServed('cache');
        return result;
      }
    }
    this.metrics?.decisionServed('permissions-service');
    return this.decide(key, request);
  }

  /** How long a cached decision may still be served (ms; ≤ 0: it ran out). */
  private left(hit: Entry): number {
    return (
      Math.max(hit.widenableUntil, this.versions.confirmedUntil('permissions', hit.version)) -
      performance.now()
    );
  }

  /** Asks the permissions service for a decision, and keeps the answer if it may. */
  private async decide(key: string, request: CheckRequest): Promise<CheckResult> {
    const now = Date.now();
    const generation = this.generation;
    const askedAt = performance.now();
    const version = this.versions.current('permissions');
    const answer = this.ask(key, request);
    this.asked.set(key, { generation, askedAt, answer });
    let result: CheckResult;
    try {
      result = await answer;
      // Never older than the permissions service may answer (an earlier or faulty replica): read now.
      if ((result.factsAgeMs ?? 0) > MAX_FACTS_AGE_MS)
        result = await this.rpc.call(PermissionsRpc.check, { ...request, acceptFactsAge: undefined });
    } finally {
      if (this.asked.get(key)?.answer === answer) this.asked.delete(key);
    }
    // From facts `factsAgeMs` old: as if asked that much earlier, at the version those facts show.
    const factsAskedAt = askedAt - (result.factsAgeMs ?? 0);
    // A change of access (or a lost event stream) while the answer was on its way — or since the
    // facts it was read from — may have made it stale: it answers this request, which started
    // before, but is not kept for later ones.
    const tags = result.canRead ? AccessDecisions.tagsOf(request.principal.userId, result) : [];
    if (
      this.usable &&
      result.canRead &&
      !this.changedSince(this.generationAt(factsAskedAt, generation), tags)
    ) {
      const validUntil = result.validUntil ? Date.parse(result.validUntil) : Infinity;
      if (this.entries.size >= MAX_ENTRIES) this.clear('overflow');
      this.drop(key);
      const widenableUntil = AccessDecisions.widenable(result) ? factsAskedAt + WIDENABLE_TTL_MS : Infinity;
      this.entries.set(key, {
        result,
        expiresAt: Math.min(validUntil, now + MAX_TTL_MS),
        widenableUntil,
        tags,
        version: result.factsVersion ?? version,
      });
      for (const tag of tags) {
        const keys = this.dependents.get(tag) ?? new Set<string>();
        keys.add(key);
        this.dependents.set(tag, keys);
      }
    }
    return result;
  }

  /**
   * What a decision depends on: the resources and accounts it says it read (the wildcard of each
   * kind it does not say), and its principal's memberships.
   */
  private static tagsOf(userId: string | null | undefined, result: CheckResult): string[] {
    const tags = result.dependsOn ? [...result.dependsOn] : [ANY_RESOURCE, ANY_ACCOUNT];
    if (result.dependsOn) tags.push(...(result.dependsOnAccounts?.map(accountTag) ?? [ANY_ACCOUNT]));
    if (userId) tags.push(memberTag(userId));
    return tags;
  }

  /** Whether a change of access could give more than the decision says: it denies, or holds less than all. */
  private static widenable(result: CheckResult): boolean {
    if (!result.allowed || !result.resourceType) return true;
    return !PERMISSIONS_BY_TYPE[result.resourceType].every((p) => result.permissions.includes(p));
  }

  /**
   * Resolves once no replica can still serve a decision that was asked before now and that a
   * change could have widened: a call that changed access awaits it after applying the change and
   * before answering (AccessChangesInterceptor).
   */
  async settle(): Promise<void> {
    const until = performance.now() + WIDENABLE_TTL_MS + SETTLE_MARGIN_MS;
    // A timer may fire a little early (libuv's cached loop time): it is waited out on the clock.
    for (let left = WIDENABLE_TTL_MS + SETTLE_MARGIN_MS; left > 0; left = until - performance.now())
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
  }

  /**
   * Asks the permissions service, now or with the next batch. Requests not yet sent are shared
   * here, so every answer was computed after its request arrived (after any change of access
   * that this replica made before it); one already sent, only on the terms of `asked`.
   */
  private ask(key: string, request: CheckRequest): Promise<CheckResult> {
    return new Promise<CheckResult>((resolve, reject) => {
      const waiting = this.waiting.get(key);
      if (waiting) waiting.answers.push({ resolve, reject });
      else this.waiting.set(key, { request, answers: [{ resolve, reject }] });
      // The first miss of a synchronous run goes at once; the others asked in that run (a
      // listing's loop over its items) go together in one `checkMany` when it is done, not a few
      // alone and then the rest after one comes back.
      if (this.sendScheduled) return;
      this.sendWaiting();
      this.sendScheduled = true;
      queueMicrotask(() => {
        this.sendScheduled = false;
        this.sendWaiting();
      });
    });
  }

  private sendWaiting(): void {
    while (this.waiting.size > 0 && this.checksInFlight < MAX_CHECKS_IN_FLIGHT) {
      const batch: Waiting[] = [];
      for (const [key, waiting] of this.waiting) {
        if (batch.length >= MAX_CHECKS_PER_REQUEST) break;
        batch.push(waiting);
        this.waiting.delete(key);
      }
      this.checksInFlight++;
      const answered =
        batch.length === 1
          ? this.rpc.call(PermissionsRpc.check, batch[0].request).then((result) => [result])
          : this.rpc.call(PermissionsRpc.checkMany, { checks: batch.map((w) => w.request) });
      void answered
        .then((results) => {
          if (results.length !== batch.length)
            throw new AppError('service-unavailable', 'The permissions service answered another batch');
          batch.forEach((w, i) => w.answers.forEach((a) => a.resolve(results[i])));
        })
        .catch((err: unknown) => {
          // An error of the permissions service's own (not its absence) fails only the check that
          // caused it: each is asked again alone. Otherwise every request of the batch gets the
          // error (503): fail closed.
          const answeredWithError = err instanceof AppError && err.type !== 'service-unavailable';
          if (batch.length > 1 && answeredWithError) batch.forEach((w) => this.askAlone(w));
          else batch.forEach((w) => w.answers.forEach((a) => a.reject(err)));
        })
        .finally(() => {
          this.checksInFlight--;
          this.sendWaiting();
        });
    }
  }

  private askAlone(waiting: Waiting): void {
    this.rpc.call(PermissionsRpc.check, waiting.request).then(
      (result) => waiting.answers.forEach((a) => a.resolve(result)),
      (err: unknown) => waiting.answers.forEach((a) => a.reject(err)),
    );
  }

  /**
   * Re-reads a changed resource, account or membership (`accountId:userId`) into the permissions
   * service and forgets cached decisions. `changedBy`: the caller who changed access (general
   * access, a membership), named by the audit log.
   */
  async refreshed(
    kind: 'account' | 'resource' | 'membership',
    id: string,
    changedBy?: string,
  ): Promise<void> {
    await this.rpc.call(PermissionsRpc.refreshProjection, { kind, id, changedBy });
    if (kind === 'resource') this.forget(id);
    else if (kind === 'account') this.forgetAccount(id);
    else this.forgetMember(id.slice(id.indexOf(':') + 1));
  }

  /**
   * After a change of access made through this replica (a grant given, changed or taken back):
   * of one resource, or, without one, of anything.
   */
  changed(resourceId?: string): void {
    if (resourceId) this.forget(resourceId);
    else this.clear();
  }

  /** Drops the decisions that may depend on a resource. */
  private forget(resourceId: string): void {
    this.invalidate('resource', [resourceId, ANY_RESOURCE]);
  }

  /** Drops the decisions that may have read an account's settings (or its memberships). */
  private forgetAccount(accountId: string): void {
    this.invalidate('account', [accountTag(accountId), ANY_ACCOUNT]);
  }

  /** Drops a user's decisions: the only ones that read its memberships. */
  private forgetMember(userId: string): void {
    this.invalidate('member', [memberTag(userId)]);
  }

  private invalidate(scope: 'resource' | 'account' | 'member', tags: readonly string[]): void {
    this.changing(tags);
    this.metrics?.decisionsInvalidated(scope);
    for (const tag of tags) for (const key of this.dependents.get(tag) ?? []) this.drop(key);
  }

  /** Records a change of access: answers on their way that it may affect are not kept (see `check`). */
  private changing(tags: readonly string[] | null): void {
    this.generation++;
    this.recentChanges.set(this.generation, { tags, at: performance.now() });
    this.recentChanges.delete(this.generation - RECENT_CHANGES);
  }

  /**
   * The generation as it was at `at` (monotonic clock), going back from `generation`; if that is
   * further back than the changes remembered, one so old that `changedSince` says everything changed.
   */
  private generationAt(at: number, generation: number): number {
    for (let g = generation; g > 0; g--) {
      const change = this.recentChanges.get(g);
      if (!change) return this.generation - RECENT_CHANGES;
      if (change.at <= at) return g;
    }
    return 0;
  }

  /** Whether access changed, since `generation`, in a way that may affect a decision with these tags. */
  private changedSince(generation: number, tags: readonly string[]): boolean {
    if (generation === this.generation) return false;
    if (this.generation - generation >= RECENT_CHANGES) return true;
    for (let g = generation + 1; g <= this.generation; g++) {
      const changed = this.recentChanges.get(g)?.tags;
      if (!changed || changed.some((tag) => tags.includes(tag))) return true;
    }
    return false;
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.dependents.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.dependents.delete(tag);
    }
  }

  /**
   * Drops every decision: on a change of access it cannot target (`all`), when it cannot hear of
   * changes or the permissions service does not answer (`unavailable`), or when full (`overflow`).
   */
  private clear(scope: 'all' | 'unavailable' | 'overflow' = 'all'): void {
    this.changing(null);
    this.metrics?.decisionsInvalidated(scope);
    this.entries.clear();
    this.dependents.clear();
  }
}
