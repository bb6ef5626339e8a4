import {
  AppError,
  idSchema,
  MembershipChange,
  OrganizationPermission,
  OrganizationsRpc,
  ResourcesRpc,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { UserPrincipal } from '../auth/principal';
import { TokenVerifications } from '../auth/token-verifications';
import { AccessChangeLog } from '../authorization/access-changes';

/**
 * Changing an organization (members, roles, tokens, settings) reaches beyond any resource scope:
 * a scoped API token may read what its user sees, but never make such a change.
 */
export function requireUnscoped(user: UserPrincipal): void {
  if (user.credential === 'api-token' && user.scope)
    throw new AppError('insufficient-permissions', 'A scoped API token cannot change organizations');
}

/**
 * Before the response: drops the organization tokens the change revoked from this replica's
 * cache (the others drop them on `api-token.revoked`), reports each affected member's membership
 * as changed (re-read when the handler is done, see AccessChangesInterceptor), and has the
 * storage signing keys the change rotates (a member no longer reaching them) rotated. That
 * rotation is also identity's event, applied once whichever comes first: if the resources service
 * cannot be reached now, the caller is told (503) and the event rotates the keys when it can.
 */
export async function applyMembershipChange(
  rpc: RpcClient,
  tokens: TokenVerifications,
  change: MembershipChange<unknown>,
  accessChanges: AccessChangeLog,
): Promise<void> {
  await tokens.revoked(change.revokedTokenIds);
  accessChanges.membership(change.organizationId, change.affectedUserIds);
  if (!change.signingKeyRotation) return;
  try {
    await rpc.call(ResourcesRpc.rotateSigningKeys, change.signingKeyRotation);
  } catch {
    throw new AppError(
      'service-unavailable',
      "The change is made, but the signing keys of the organization's storages are not rotated yet; they will be shortly, and links signed with the old keys work until then",
    );
  }
}

/**
 * Identity decides: a non-member gets 404 (the organization is not revealed); a member whose
 * role holds none of `anyOf` (the Owner holds all) gets 403. The organization's own API token
 * acts as the organization and may.
 */
export async function requireInOrganization(
  rpc: RpcClient,
  user: UserPrincipal,
  orgId: string,
  anyOf: OrganizationPermission[],
  toDo: string,
): Promise<void> {
  if (!idSchema.safeParse(orgId).success) throw AppError.notFound('The organization');
  if (user.userId === orgId) return;
  const organization = await rpc.call(OrganizationsRpc.get, { userId: user.userId, organizationId: orgId });
  if (!anyOf.some((p) => organization.role.permissions.ORGANIZATION.includes(p))) {
    throw new AppError(
      'insufficient-permissions',
      `You need the ${anyOf.join(' or ')} permission to ${toDo}`,
    );
  }
}
