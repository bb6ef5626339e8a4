import {
  CheckResult,
  idSchema,
  ListPage,
  Permission,
  PERMISSIONS_BY_TYPE,
  PermissionsRpc,
  PrincipalRef,
  ResourceType,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { principalRef } from '../auth/principal';
import { AccessDecisions } from '../authorization/access-decisions';
import type { ListingCaller } from '../authorization/authorize.decorator';
import { paginationQuery } from './api-query';

/** The query every owned-or-shared list takes. */
export const ownershipListQuery = {
  ...paginationQuery,
  ownership: z.enum(['ownedByMe', 'sharedWithMe']).optional(),
  /** With `sharedWithMe`: the `nextCursor` of the previous page (keyset pagination). */
  cursor: idSchema.optional(),
};

export interface OwnershipListRequest {
  ownerId?: string;
  ids?: string[];
  page: { offset: number; limit: number; desc: boolean };
}

/** A listed resource with what the caller holds on it: what a presenter may show follows from that. */
export interface Listed<V> {
  view: V;
  permissions: readonly Permission[];
}

interface ListedView {
  id: string;
  userId: string;
  createdAt?: string | Date;
  /** Storages: null for an unnamed one. */
  name?: string | null;
}

type Page = { offset: number; limit: number; desc: boolean };

/** The most a listing page holds. */
const MAX_PAGE = 1000;

/**
 * Every item's decision, as the single-resource route would make it (the gateway's cached
 * `check`, narrowed by the caller's credential): an item the caller cannot READ is dropped, and
 * each one that stays carries the permissions the caller holds on it. The caller's own listing of
 * its own account, with a full credential, is the owner rule's answer for every item.
 */
export async function decideEach<V extends { id: string }>(
  access: AccessDecisions,
  principal: PrincipalRef,
  type: ResourceType,
  views: readonly V[],
  ownAccount: string | null,
): Promise<Listed<V>[]> {
  if (ownAccount !== null && ownAccount === principal.userId && !principal.scope && !principal.runId) {
    const all = PERMISSIONS_BY_TYPE[type];
    return views.map((view) => ({ view, permissions: all }));
  }
  const decisions = await decideIds(
    access,
    principal,
    type,
    views.map((v) => v.id),
  );
  return readable(views, decisions);
}

/** The views whose decision lets the caller READ, each with the permissions it holds. */
function readable<V extends { id: string }>(
  views: readonly V[],
  decisions: ReadonlyMap<string, CheckResult>,
): Listed<V>[] {
  return views.flatMap((view) => {
    const decision = decisions.get(view.id);
    return decision?.canRead ? [{ view, permissions: decision.permissions }] : [];
  });
}

/** Each id's decision on READ, as its single-resource GET would make it (the cached `check`). */
async function decideIds(
  access: AccessDecisions,
  principal: PrincipalRef,
  type: ResourceType,
  ids: readonly string[],
): Promise<Map<string, CheckResult>> {
  const decisions = await Promise.all(ids.map((id) => access.check(principal, type, id, 'READ')));
  return new Map(ids.map((id, i) => [id, decisions[i]]));
}

/**
 * A page of the account's resources of a type (`ownedByMe`, the default), or of those shared
 * with the caller (`sharedWithMe`: the permissions service pages the ids, the resources service
 * fills them in). Whatever the route, every item is decided as its own GET would be
 * (`decideEach`), so a list never shows more than the single-resource routes; a scoped token
 * whose scope does not cover the category lists only the ids its scope narrows it to (shared:
 * the permissions service's page kept to those ids).
 */
export async function listByOwnership<V extends ListedView>(
  /** Asks for the page of ids shared with the caller: the RpcClient, or CachedViews (storages). */
  rpc: Pick<RpcClient, 'call'>,
  access: AccessDecisions,
  caller: ListingCaller,
  type: ResourceType,
  q: {
    offset?: number;
    limit?: number;
    desc?: boolean;
    ownership?: 'ownedByMe' | 'sharedWithMe';
    cursor?: string;
    /** Storages: whether the caller's own list includes unnamed ones (false: named only). */
    unnamed?: boolean;
  },
  fetch: (req: OwnershipListRequest) => Promise<ListPage<V>>,
): Promise<ListPage<Listed<V>> & { nextCursor?: string | null }> {
  const page = {
    offset: q.offset ?? 0,
    limit: Math.min(q.limit ?? MAX_PAGE, MAX_PAGE),
    desc: q.desc ?? false,
  };
  const principal = principalRef(caller.principal);
  const shared = q.ownership === 'sharedWithMe';
  if (caller.ids && !shared)
    return listOwnNarrowed(access, principal, { ...caller, ids: caller.ids }, type, page, q.unnamed, fetch);
  if (caller.ids?.length === 0) return { total: 0, ...page, count: 0, items: [], nextCursor: null };
  if (!shared) {
    const owned = await fetch({ ownerId: caller.account, page });
    const items = await decideEach(access, principal, type, owned.items, caller.account);
    return { ...owned, total: owned.total - (owned.items.length - items.length), count: items.length, items };
  }
  const sharedIds = await rpc.call(PermissionsRpc.listSharedWith, {
    subjectId: caller.account,
    resourceType: type,
    ...page,
    cursor: q.cursor,
    ...(caller.ids && { ids: caller.ids }),
  });
  // The page's decisions are asked while its resources are fetched: one hop, not two in a row.
  const [found, decided] = sharedIds.resourceIds.length
    ? await Promise.all([
        fetch({ ids: sharedIds.resourceIds, page: { ...page, offset: 0 } }),
        decideIds(access, principal, type, sharedIds.resourceIds),
      ])
    : [{ items: [] as V[] }, new Map<string, CheckResult>()];
  const items = readable(found.items, decided);
  return {
    ...page,
    total: sharedIds.total - (sharedIds.resourceIds.length - items.length),
    count: items.length,
    items,
    nextCursor: sharedIds.nextCursor,
  };
}

/**
 * A scoped token's own list: of the ids its scope narrows it to, its account's that it may READ
 * (named ones only unless `unnamed`), by creation time, paged here.
 */
async function listOwnNarrowed<V extends ListedView>(
  access: AccessDecisions,
  principal: PrincipalRef,
  caller: ListingCaller & { ids: string[] },
  type: ResourceType,
  page: Page,
  unnamed: boolean | undefined,
  fetch: (req: OwnershipListRequest) => Promise<ListPage<V>>,
): Promise<ListPage<Listed<V>>> {
  const found = caller.ids.length
    ? await fetch({ ids: caller.ids, page: { offset: 0, limit: caller.ids.length, desc: false } })
    : { items: [] };
  const own = found.items.filter(
    (view) => view.userId === caller.account && (unnamed !== false || view.name !== null),
  );
  const time = (v: ListedView) => (v.createdAt ? new Date(v.createdAt).getTime() : 0);
  const all = (await decideEach(access, principal, type, own, null)).sort(
    (a, b) => time(a.view) - time(b.view) || a.view.id.localeCompare(b.view.id),
  );
  const items = (page.desc ? all.reverse() : all).slice(page.offset, page.offset + page.limit);
  return { total: all.length, ...page, count: items.length, items };
}
