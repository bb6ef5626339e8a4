import { ListPage, MAX_CHECKS_PER_REQUEST, PermissionsRpc, PrincipalRef } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';

const CHECK_BATCH = MAX_CHECKS_PER_REQUEST;
/** The largest page (and id list) the resources and permissions services take in one request. */
const PAGE = 1000;
/** The most owners one resources request takes. */
const OWNERS_PER_REQUEST = 100;

interface Listed {
  id: string;
  createdAt: string;
}

type Page = { offset: number; limit: number; desc: boolean };
/** One page of the resources service's listing, of some owners' items or of given ids. */
export type FetchPage<V> = (
  req: ({ ownerIds: string[] } | { ids: string[] }) & { page: Page },
) => Promise<ListPage<V>>;

/**
 * `ownership=sharedWithMe` for environments and groups: those of the primaries the user is an
 * active collaboration member of that the user may READ, plus those granted to the user directly,
 * oldest first (newest with `desc`), paged here. Every one is considered, however many: the
 * membership rules (category, group, item) decide item by item, so the listing is assembled
 * here from complete lists, never from a truncated one.
 */
export async function listSharedWithMe<V extends Listed>(
  rpc: RpcClient,
  principal: PrincipalRef & { userId: string },
  type: 'ENVIRONMENT' | 'ENVIRONMENT_GROUP',
  page: Page,
  fetch: FetchPage<V>,
): Promise<ListPage<V>> {
  const [accounts, grantedIds] = await Promise.all([
    rpc.call(PermissionsRpc.listMemberAccounts, { userId: principal.userId, kind: 'COLLABORATION' }),
    everySharedId(rpc, principal.userId, type),
  ]);
  const ownerIds = [...new Set(accounts.map((a) => a.accountId))].filter((id) => id !== principal.userId);
  const [ofPrimaries, ofGrants] = await Promise.all([
    everyItem(fetch, { ownerIds }),
    everyItem(fetch, { ids: grantedIds }),
  ]);
  // Granted ones too are decided item by item: a scoped token sees only what its scope allows.
  const byId = new Map<string, V>();
  for (const v of [...ofPrimaries, ...ofGrants]) byId.set(v.id, v);
  const all = (await filterReadable(rpc, principal, [...byId.values()])).sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
  return pageOf(all, page);
}

/** The ids of every resource of the type granted to the user, walked by cursor. */
async function everySharedId(
  rpc: RpcClient,
  subjectId: string,
  resourceType: 'ENVIRONMENT' | 'ENVIRONMENT_GROUP',
) {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const shared = await rpc.call(PermissionsRpc.listSharedWith, {
      subjectId,
      resourceType,
      offset: 0,
      limit: PAGE,
      desc: false,
      ...(cursor === undefined ? {} : { cursor }),
    });
    ids.push(...shared.resourceIds);
    cursor = shared.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return ids;
}

/** Every item of some owners (page after page) or of some ids (in requests of PAGE ids). */
async function everyItem<V>(
  fetch: FetchPage<V>,
  by: { ownerIds: string[] } | { ids: string[] },
): Promise<V[]> {
  const items: V[] = [];
  if ('ids' in by) {
    for (let i = 0; i < by.ids.length; i += PAGE) {
      items.push(
        ...(await fetch({ ids: by.ids.slice(i, i + PAGE), page: { offset: 0, limit: PAGE, desc: false } }))
          .items,
      );
    }
    return items;
  }
  for (let i = 0; i < by.ownerIds.length; i += OWNERS_PER_REQUEST) {
    const ownerIds = by.ownerIds.slice(i, i + OWNERS_PER_REQUEST);
    for (let offset = 0; ; offset += PAGE) {
      const { items: batch } = await fetch({ ownerIds, page: { offset, limit: PAGE, desc: false } });
      items.push(...batch);
      if (batch.length < PAGE) break;
    }
  }
  return items;
}

/**
 * Another account's environments or groups (`X-Account-Id`: a primary the user collaborates
 * with, an organization it belongs to): only those the user may READ, as a member may be shared
 * some of them only.
 */
export async function listReadableOf<V extends Listed>(
  rpc: RpcClient,
  principal: PrincipalRef & { userId: string },
  accountId: string,
  page: Page,
  fetch: FetchPage<V>,
): Promise<ListPage<V>> {
  return pageOf(
    await filterReadable(rpc, principal, await everyItem(fetch, { ownerIds: [accountId] })),
    page,
  );
}

async function filterReadable<V extends Listed>(
  rpc: RpcClient,
  principal: PrincipalRef,
  items: V[],
): Promise<V[]> {
  const readable: V[] = [];
  for (let i = 0; i < items.length; i += CHECK_BATCH) {
    const chunk = items.slice(i, i + CHECK_BATCH);
    const answers = await rpc.call(PermissionsRpc.checkMany, {
      checks: chunk.map((v) => ({ principal, resourceRef: v.id, permission: 'READ' as const })),
      probe: true,
    });
    chunk.forEach((v, j) => answers[j]?.allowed && readable.push(v));
  }
  return readable;
}

function pageOf<V>(all: V[], page: Page): ListPage<V> {
  const ordered = page.desc ? [...all].reverse() : all;
  const items = ordered.slice(page.offset, page.offset + page.limit);
  return { total: all.length, ...page, count: items.length, items };
}

export const listPageOf = (q: { offset?: number; limit?: number; desc?: boolean }) => ({
  offset: q.offset ?? 0,
  limit: Math.min(q.limit ?? 1000, 1000),
  desc: q.desc ?? false,
});
