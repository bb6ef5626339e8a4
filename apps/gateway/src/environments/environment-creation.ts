import { AppError, PermissionsRpc, ResourceType } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { principalRef, UserPrincipal } from '../auth/principal';

/**
 * Placing an environment or group in an account (cloning, or moving it to another group) is
 * creating there: the caller needs CREATE in the owner account, in the target group when one is
 * named — as `@InAccount(type, 'CREATE')` asks on the create routes.
 */
export async function requireCreateIn(
  rpc: RpcClient,
  user: UserPrincipal,
  type: ResourceType,
  ownerId: string,
  groupId: string | null,
  field: string,
): Promise<void> {
  const ref = principalRef(user);
  if (ownerId === user.userId && !ref.scope) return;
  const decision = await rpc.call(PermissionsRpc.checkAccount, {
    principal: ref,
    accountId: ownerId,
    resourceType: type,
    permission: 'CREATE',
    groupId: groupId ?? undefined,
  });
  if (!decision.allowed)
    throw new AppError(
      'insufficient-permissions',
      `You may not create ${type === 'ENVIRONMENT' ? 'environments' : 'environment groups'} ${groupId ? `in group ${groupId}` : 'outside a group'} of account ${ownerId} (${field})`,
    );
}
