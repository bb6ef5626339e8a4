import { Injectable, Optional } from '@nestjs/common';
import { RpcRequest, RpcResponse, RpcRoute } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import {
  ChangeVersions,
  MAX_REVALIDATED_MS,
  REFRESH_AHEAD_MS,
  VERSIONED_SERVICES,
  VersionedService,
  WIDENABLE_TTL_MS,
} from '../authorization/kept-reads';
import { GatewayMetrics } from '../health/metrics';

/**
 * Reads kept at most: past it, those that ran out go, and if none did, all. A read is useful for
 * WIDENABLE_TTL_MS only, so this is far more than a replica serves in that time.
 */
export const MAX_CACHED_VIEWS = 1000;
/** How often, at most, the reads that ran out are swept (on a miss). */
const SWEEP_EVERY_MS = 1000;

/**
 * Request queues' views are not kept: their operations are Crawlee's several writes per request,
 * and a write that reaches nothing any replica keeps answers without the settle.
 */
const NOT_KEPT = 'resources.request-queues.';

/**
 * Whether what a call with this pattern reads or writes may be kept by a replica — its views, or
 * (any other service) its access decisions: a write that sent one answers after the settle
 * (IdempotencyInterceptor).
 */
export function reachesKeptReads(pattern: string): boolean {
  return !pattern.startsWith(NOT_KEPT);
}

interface Fetch {
  /** On the monotonic clock: when it was sent (what it answers was read after). */
  askedAt: number;
  view: Promise<unknown>;
  /** Its service, if it has a change version (ChangeVersions), and that version when it was sent, if known. */
  service?: VersionedService;
  version?: string;
  /** Once answered: when time alone changes it (the answer's `validUntil`, epoch ms; Infinity: never). */
  validUntil?: number;
}

interface Entry extends Fetch {
  /** Its renewal, sent REFRESH_AHEAD_MS before it runs out while it is in use. */
  next?: Fetch;
}

/**
 * Reads of resources' views — a dataset's or key-value store's metadata by id (what
 * `GET /v2/datasets/:id` shows), a page of them by ids and the page of ids shared with the caller
 * (`sharedWithMe`) — as the services answered them, by route and request, kept in this replica
 * WIDENABLE_TTL_MS from when they were asked, or from when their service's change version was
 * last found unchanged (ChangeVersions) — the decision cache's read-your-writes rule: every write
 * through any replica answers no sooner than that after its work (`IdempotencyInterceptor`), so
 * no replica still serves a view read before it. A request arriving meanwhile shares the view (or
 * the fetch on its way); one in steady use is renewed REFRESH_AHEAD_MS before it runs out — by
 * one small call for its service's version while that is unchanged, else by reading it again,
 * one fetch at a time — so requests do not wait for it. An answer that says when time alone
 * changes it (`validUntil`) is not kept past then. Authorization is not cached here: every request
 * is decided first, and a view is shown according to the caller's own permissions. A failed fetch
 * is not kept. Only reads go through here: a route that writes, or answers anything but the
 * resources' state (a secret, a lease), never does.
 */
@Injectable()
export class CachedViews {
  private readonly entries = new Map<string, Entry>();
  private sweptAt = 0;

  constructor(
    private readonly rpc: RpcClient,
    private readonly versions: ChangeVersions,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {}

  /**
   * What `route` (a read, never a write) answers to `request`, fresh within WIDENABLE_TTL_MS: a
   * drop-in for `RpcClient.call` on reads.
   */
  call<R extends RpcRoute>(route: R, request: RpcRequest<R>): Promise<RpcResponse<R>> {
    if (!reachesKeptReads(route.pattern)) return this.rpc.call(route, request);
    return this.serve(route, request, `${route.pattern}\n${JSON.stringify(request)}`, true);
  }

  private serve<R extends RpcRoute>(
    route: R,
    request: RpcRequest<R>,
    key: string,
    mayWait: boolean,
  ): Promise<RpcResponse<R>> {
    const now = performance.now();
    let entry = this.entries.get(key);
    // Ran out, but read at the version last known: a call for the version is waited for, once,
    // rather than the view read again.
    const confirming =
      mayWait &&
      entry?.service &&
      this.until(entry, now) < now &&
      !(entry.next && this.until(entry.next, now) >= now) &&
      this.revalidatable(entry, now)
        ? this.versions.confirm(entry.service, entry.version)
        : undefined;
    if (confirming) return confirming.then(() => this.serve(route, request, key, false));
    if (entry && this.until(entry, now) < now) {
      // Ran out: its renewal, if it is fresh enough, takes its place.
      entry = entry.next && this.until(entry.next, now) >= now ? entry.next : undefined;
      if (entry) this.entries.set(key, entry);
      else this.entries.delete(key);
    }
    if (entry) {
      this.metrics?.readServed('cache');
      const current = entry;
      if (!current.next && this.until(current, now) - now < REFRESH_AHEAD_MS) {
        const readAgain = () => (current.next = this.fetch(route, request, key, now));
        if (current.service) this.versions.renew(current.service, current.version, readAgain);
        else readAgain();
      }
      return current.view as Promise<RpcResponse<R>>;
    }
    this.metrics?.readServed('resources-service');
    if (this.entries.size >= MAX_CACHED_VIEWS || now - this.sweptAt > SWEEP_EVERY_MS) this.sweep(now);
    const fresh = this.fetch(route, request, key, now);
    this.entries.set(key, fresh);
    return fresh.view as Promise<RpcResponse<R>>;
  }

  /** Until when (monotonic clock) a fetch may be served. */
  private until(f: Fetch, now: number): number {
    const revalidated =
      f.service && this.revalidatable(f, now)
        ? this.versions.confirmedUntil(f.service, f.version)
        : -Infinity;
    return Math.max(f.askedAt + WIDENABLE_TTL_MS, revalidated);
  }

  /** Whether a fetch may be served past WIDENABLE_TTL_MS on its version: answered, not too old, and time alone has not changed it. */
  private revalidatable(f: Fetch, now: number): boolean {
    return f.validUntil !== undefined && now - f.askedAt < MAX_REVALIDATED_MS && Date.now() < f.validUntil;
  }

  private fetch<R extends RpcRoute>(route: R, request: RpcRequest<R>, key: string, askedAt: number): Fetch {
    const service = VERSIONED_SERVICES.find((s) => s === route.service);
    const version = service && this.versions.current(service);
    const view = this.rpc.call(route, request);
    const fetched: Fetch = { askedAt, view, service, version };
    view.then(
      (answer) => {
        const until = (answer as { validUntil?: unknown } | null)?.validUntil;
        fetched.validUntil = typeof until === 'string' ? Date.parse(until) : Infinity;
      },
      // Its callers see the error; later ones ask again.
      () => {
        const entry = this.entries.get(key);
        if (entry?.view === view) this.entries.delete(key);
        else if (entry?.next?.view === view) entry.next = undefined;
      },
    );
    return fetched;
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    const fresh = (f: Fetch | undefined) => f !== undefined && this.until(f, now) >= now;
    for (const [key, entry] of this.entries)
      if (!fresh(entry) && !fresh(entry.next)) this.entries.delete(key);
    if (this.entries.size >= MAX_CACHED_VIEWS) this.entries.clear();
  }
}
