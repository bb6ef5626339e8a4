import {
  AppError,
  idSchema,
  MembershipChange,
  OrganizationPermission,
  OrganizationsRpc,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { UserPrincipal } from '../auth/principal';
import { TokenVerifications } from '../auth/token-verifications';
import { AccessDecisions } from '../authorization/access-decisions';

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
 * cache (the others drop them on `api-token.revoked`), and re-reads each affected member's
 * membership into the permissions service.
 */
export async function applyMembershipChange(
  access: AccessDecisions,
  tokens: TokenVerifications,
  change: MembershipChange<unknown>,
): Promise<void> {
  change.revokedTokenIds.forEach((tokenId) => tokens.forget(tokenId));
  await Promise.all(
    [...new Set(change.affectedUserIds)].map((userId) =>
      access.refreshed('membership', `${change.organizationId}:${userId}`),
    ),
  );
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
