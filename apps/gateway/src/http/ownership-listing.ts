import { idSchema, ListPage, PermissionsRpc, ResourceType } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
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

/**
 * A page of the caller's resources of a type (`ownedByMe`, the default), or of those shared with
 * them (`sharedWithMe`: the permissions service pages the ids, the resources service fills them in).
 */
export async function listByOwnership<V>(
  rpc: RpcClient,
  userId: string,
  type: ResourceType,
  q: {
    offset?: number;
    limit?: number;
    desc?: boolean;
    ownership?: 'ownedByMe' | 'sharedWithMe';
    cursor?: string;
  },
  fetch: (req: OwnershipListRequest) => Promise<ListPage<V>>,
): Promise<ListPage<V> & { nextCursor?: string | null }> {
  const page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: q.desc ?? false };
  if (q.ownership !== 'sharedWithMe') return fetch({ ownerId: userId, page });
  const shared = await rpc.call(PermissionsRpc.listSharedWith, {
    subjectId: userId,
    resourceType: type,
    ...page,
    cursor: q.cursor,
  });
  const found = shared.resourceIds.length
    ? await fetch({ ids: shared.resourceIds, page: { ...page, offset: 0 } })
    : { items: [] };
  return {
    ...page,
    total: shared.total,
    count: found.items.length,
    items: found.items,
    nextCursor: shared.nextCursor,
  };
}
