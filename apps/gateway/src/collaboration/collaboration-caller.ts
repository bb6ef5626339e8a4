import { AppError, EnvironmentsRpc, SharedItem } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { UserPrincipal } from '../auth/principal';

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
