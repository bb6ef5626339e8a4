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

/** The most a listing page holds (and the permissions service's ids per request). */
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
 * whose scope does not cover the category lists only the ids its scope narrows it to.
 */
export async function listByOwnership<V extends ListedView>(
  rpc: RpcClient,
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
  if (caller.ids)
    return listNarrowed(rpc, access, principal, { ...caller, ids: caller.ids }, type, shared, page, q, fetch);
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
 * A scoped token's listing: of the ids its scope narrows it to, those it may READ, paged here —
 * its own account's by creation time (named only unless `unnamed`); `sharedWithMe`, those the
 * permissions service lists as shared with its user (asked about these ids only), in id order
 * (with `cursor`, after it), as the full listing pages them.
 */
async function listNarrowed<V extends ListedView>(
  rpc: RpcClient,
  access: AccessDecisions,
  principal: PrincipalRef,
  caller: ListingCaller & { ids: string[] },
  type: ResourceType,
  shared: boolean,
  page: Page,
  q: { cursor?: string; unnamed?: boolean },
  fetch: (req: OwnershipListRequest) => Promise<ListPage<V>>,
): Promise<ListPage<Listed<V>> & { nextCursor?: string | null }> {
  const ids = shared ? await sharedAmong(rpc, caller.account, type, caller.ids) : caller.ids;
  const found = ids.length
    ? await fetch({ ids, page: { offset: 0, limit: ids.length, desc: false } })
    : { items: [] };
  // Others' (sharedWithMe), or its own account's: named ones only unless asked for unnamed too.
  const listed = found.items.filter((view) =>
    shared
      ? view.userId !== caller.account
      : view.userId === caller.account && (q.unnamed !== false || view.name !== null),
  );
  const decided = await decideIds(
    access,
    principal,
    type,
    listed.map((view) => view.id),
  );
  if (!shared) {
    const time = (v: ListedView) => (v.createdAt ? new Date(v.createdAt).getTime() : 0);
    const all = readable(listed, decided).sort(
      (a, b) => time(a.view) - time(b.view) || a.view.id.localeCompare(b.view.id),
    );
    const items = (page.desc ? all.reverse() : all).slice(page.offset, page.offset + page.limit);
    return { total: all.length, ...page, count: items.length, items };
  }
  // Ids compare as the database orders them (byte order), not by locale.
  const byId = (a: Listed<V>, b: Listed<V>) => (a.view.id < b.view.id ? -1 : a.view.id > b.view.id ? 1 : 0);
  const all = readable(listed, decided).sort(byId);
  const ordered = page.desc ? all.reverse() : all;
  const { cursor } = q;
  const after =
    cursor === undefined
      ? ordered
      : ordered.filter(({ view }) => (page.desc ? view.id < cursor : view.id > cursor));
  const items = after.slice(page.offset, page.offset + page.limit);
  const more = after.length > page.offset + page.limit;
  return {
    total: all.length,
    ...page,
    count: items.length,
    items,
    nextCursor: more ? items[items.length - 1].view.id : null,
  };
}

/** Of `ids`, those shared with the account (the permissions service's listing, asked in pages of ids). */
async function sharedAmong(
  rpc: RpcClient,
  account: string,
  type: ResourceType,
  ids: readonly string[],
): Promise<string[]> {
  const unique = [...new Set(ids)];
  const chunks = [];
  for (let start = 0; start < unique.length; start += MAX_PAGE)
    chunks.push(unique.slice(start, start + MAX_PAGE));
  const pages = await Promise.all(
    chunks.map((chunk) =>
      rpc.call(PermissionsRpc.listSharedWith, {
        subjectId: account,
        resourceType: type,
        offset: 0,
        limit: MAX_PAGE,
        desc: false,
        ids: chunk,
      }),
    ),
  );
  return pages.flatMap((p) => p.resourceIds);
}
