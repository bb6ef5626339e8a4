import { AppError, EnvironmentsRpc, idSchema, ListPage, SharedItem } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { UserPrincipal } from '../auth/principal';
import { AccessDecisions } from '../authorization/access-decisions';
import { paginationQuery, parseQuery } from '../http/api-query';

/**
 * Managing an account's collaboration changes who may use all of its environments: a scoped
 * token may do it only when its scope holds MANAGE_COLLABORATION on ENVIRONMENTS.
 */
export function requireCollaborationManager(user: UserPrincipal): void {
  if (user.credential !== 'api-token' || !user.scope) return;
  if (!(user.scope.account.ENVIRONMENTS ?? []).includes('MANAGE_COLLABORATION'))
    throw new AppError(
      'insufficient-permissions',
      'Managing collaboration needs a token whose scope holds MANAGE_COLLABORATION on ENVIRONMENTS',
    );
}

/** Re-reads each affected member's membership into the permissions service before the response. */
export async function refreshMemberships(
  access: AccessDecisions,
  primaryId: string,
  userIds: readonly string[],
): Promise<void> {
  for (const userId of new Set(userIds)) await access.refreshed('membership', `${primaryId}:${userId}`);
}

/** Shared environments and groups must be the primary's own: invalid-input naming the item otherwise. */
export async function verifySharedItems(
  rpc: RpcClient,
  primaryId: string,
  shared: readonly SharedItem[],
): Promise<void> {
  const items: { id: string; type: 'ENVIRONMENT' | 'ENVIRONMENT_GROUP'; field: string }[] = [];
  shared.forEach((item, i) => {
    if (item.resourceId)
      items.push({ id: item.resourceId, type: 'ENVIRONMENT', field: `body.shared.${i}.resourceId` });
    else if (item.groupId)
      items.push({ id: item.groupId, type: 'ENVIRONMENT_GROUP', field: `body.shared.${i}.groupId` });
  });
  if (items.length) await rpc.call(EnvironmentsRpc.verifyOwnedItems, { ownerId: primaryId, items });
}

/** A malformed id in the path names nothing: 404, as for an absent record. */
export function pathId(value: string, what: string, schema: z.ZodTypeAny = idSchema): string {
  if (!schema.safeParse(value).success) throw AppError.notFound(what);
  return value;
}

const pageQuery = z.object(paginationQuery);

/** A list envelope over a whole (small) list, paged by the query's offset, limit and desc. */
export function pageOf<T>(items: readonly T[], query: unknown): ListPage<T> {
  const q = parseQuery(pageQuery, query);
  const offset = q.offset ?? 0;
  const limit = Math.min(q.limit ?? 1000, 1000);
  const desc = q.desc ?? false;
  const ordered = desc ? [...items].reverse() : [...items];
  const page = ordered.slice(offset, offset + limit);
  return { total: items.length, offset, limit, desc, count: page.length, items: page };
}
