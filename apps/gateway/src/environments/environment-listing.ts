import { ListPage, PermissionsRpc, PrincipalRef } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';

const CHECK_BATCH = 100;
const MAX_LISTED = 1000;

interface Listed {
  id: string;
  createdAt: string;
}

/**
 * `ownership=sharedWithMe` for environments and groups: those of the primaries the user is an
 * active collaboration member of that the user may READ, plus those granted to the user directly,
 * oldest first (newest with `desc`), paged here.
 */
export async function listSharedWithMe<V extends Listed>(
  rpc: RpcClient,
  principal: PrincipalRef & { userId: string },
  type: 'ENVIRONMENT' | 'ENVIRONMENT_GROUP',
  page: { offset: number; limit: number; desc: boolean },
  fetch: (req: { ownerIds: string[] } | { ids: string[] }) => Promise<ListPage<V>>,
): Promise<ListPage<V>> {
  const [accounts, granted] = await Promise.all([
    rpc.call(PermissionsRpc.listMemberAccounts, { userId: principal.userId, kind: 'COLLABORATION' }),
    rpc.call(PermissionsRpc.listSharedWith, {
      subjectId: principal.userId,
      resourceType: type,
      offset: 0,
      limit: MAX_LISTED,
      desc: false,
    }),
  ]);
  const ownerIds = [...new Set(accounts.map((a) => a.accountId))].filter((id) => id !== principal.userId);
  const [ofPrimaries, ofGrants] = await Promise.all([
    ownerIds.length ? fetch({ ownerIds }).then((p) => p.items) : Promise.resolve([] as V[]),
    granted.resourceIds.length
      ? fetch({ ids: granted.resourceIds }).then((p) => p.items)
      : Promise.resolve([] as V[]),
  ]);
  const readable = new Set((await filterReadable(rpc, principal, ofPrimaries)).map((v) => v.id));
  const byId = new Map<string, V>();
  for (const v of ofPrimaries) if (readable.has(v.id)) byId.set(v.id, v);
  for (const v of ofGrants) byId.set(v.id, v);
  const all = [...byId.values()].sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
  return pageOf(all, page);
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
  page: { offset: number; limit: number; desc: boolean },
  fetch: (req: { ownerIds: string[] }) => Promise<ListPage<V>>,
): Promise<ListPage<V>> {
  const { items } = await fetch({ ownerIds: [accountId] });
  return pageOf(await filterReadable(rpc, principal, items), page);
}

async function filterReadable<V extends Listed>(
  rpc: RpcClient,
  principal: PrincipalRef,
  items: V[],
): Promise<V[]> {
  const readable: V[] = [];
  for (let i = 0; i < items.length; i += CHECK_BATCH) {
    const chunk = items.slice(i, i + CHECK_BATCH);
    const answers = await rpc.call(PermissionsRpc.checkBatch, {
      principal,
      checks: chunk.map((v) => ({ resourceId: v.id, permission: 'READ' as const })),
    });
    chunk.forEach((v, j) => answers[j]?.allowed && readable.push(v));
  }
  return readable;
}

function pageOf<V>(all: V[], page: { offset: number; limit: number; desc: boolean }): ListPage<V> {
  const ordered = page.desc ? [...all].reverse() : all;
  const items = ordered.slice(page.offset, page.offset + page.limit);
  return { total: all.length, ...page, count: items.length, items };
}

export const listPageOf = (q: { offset?: number; limit?: number; desc?: boolean }) => ({
  offset: q.offset ?? 0,
  limit: Math.min(q.limit ?? 1000, 1000),
  desc: q.desc ?? false,
});

export const WHOLE_LIST = { offset: 0, limit: MAX_LISTED, desc: false };
