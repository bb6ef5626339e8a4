import { Injectable } from '@nestjs/common';
import { RpcResponse, RpcRoute } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { REFRESH_AHEAD_MS, WIDENABLE_TTL_MS } from '../authorization/access-decisions';

/** Views kept at most: past it, those that ran out go, and if none did, all. */
export const MAX_CACHED_VIEWS = 10_000;

interface Fetch {
  /** On the monotonic clock: when it was sent (what it answers was read after). */
  askedAt: number;
  view: Promise<unknown>;
}

interface Entry extends Fetch {
  /** Its renewal, sent REFRESH_AHEAD_MS before it runs out while it is in use. */
  next?: Fetch;
}

/**
 * One resource's view by id (a storage's metadata: what `GET /v2/datasets/:id` shows), as the
 * resources service answered it, kept in this replica WIDENABLE_TTL_MS from when it was asked —
 * the decision cache's read-your-writes rule: every write through any replica answers no sooner
 * than that after its work (`IdempotencyInterceptor`), so no replica still serves a view read
 * before it. A request arriving meanwhile shares the view (or the fetch on its way); one in
 * steady use is renewed REFRESH_AHEAD_MS before it runs out, one fetch at a time, so requests do
 * not wait for it. Authorization is not cached here: every request is decided first, and a view
 * is shown according to the caller's own permissions. A failed fetch is not kept.
 * A hot resource costs its replica one RPC per WIDENABLE_TTL_MS instead of one per request.
 */
@Injectable()
export class CachedViews {
  private readonly entries = new Map<string, Entry>();
  /** Requests answered from a kept view or a fetch already on its way, and those that fetched. */
  hits = 0;
  misses = 0;

  constructor(private readonly rpc: RpcClient) {}

  /** The view of `id` by `route` (a read by id, never a write), fresh within WIDENABLE_TTL_MS. */
  get<R extends RpcRoute>(route: R, id: string): Promise<RpcResponse<R>> {
    const key = `${route.pattern}\n${id}`;
    const now = performance.now();
    let entry = this.entries.get(key);
    if (entry && now - entry.askedAt > WIDENABLE_TTL_MS) {
      // Ran out: its renewal, if it is fresh enough, takes its place.
      entry = entry.next && now - entry.next.askedAt <= WIDENABLE_TTL_MS ? { ...entry.next } : undefined;
      if (entry) this.entries.set(key, entry);
      else this.entries.delete(key);
    }
    if (entry) {
      this.hits++;
      if (!entry.next && now - entry.askedAt > WIDENABLE_TTL_MS - REFRESH_AHEAD_MS)
        entry.next = this.fetch(route, id, key, now);
      return entry.view as Promise<RpcResponse<R>>;
    }
    this.misses++;
    if (this.entries.size >= MAX_CACHED_VIEWS) this.prune(now);
    const fresh = this.fetch(route, id, key, now);
    this.entries.set(key, fresh);
    return fresh.view as Promise<RpcResponse<R>>;
  }

  private fetch(route: RpcRoute, id: string, key: string, askedAt: number): Fetch {
    const view = this.rpc.call(route, { id } as never);
    // Its callers see the error; later ones ask again.
    view.catch(() => {
      const entry = this.entries.get(key);
      if (entry?.view === view) this.entries.delete(key);
      else if (entry?.next?.view === view) entry.next = undefined;
    });
    return { askedAt, view };
  }

  private prune(now: number): void {
    const fresh = (f: Fetch | undefined) => f !== undefined && now - f.askedAt <= WIDENABLE_TTL_MS;
    for (const [key, entry] of this.entries)
      if (!fresh(entry) && !fresh(entry.next)) this.entries.delete(key);
    if (this.entries.size >= MAX_CACHED_VIEWS) this.entries.clear();
  }
}
