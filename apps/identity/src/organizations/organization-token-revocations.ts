import { Events } from '@atrium/contracts';
import { addToOutbox } from '@atrium/messaging';
import { EntityManager, IsNull } from 'typeorm';
import { ApiTokenEntity } from '../api-tokens/api-token.entity';
import { OrganizationRoleEntity } from './organization-role.entity';
import { effectivePermissions, scopeBeyondRole } from './role-permissions';

/**
 * Whether an organization token its creator made still fits what the creator may do as `role`
 * (null: no longer a member). The Owner's fit whatever their scope; anyone else's need
 * MANAGE_ACCESS_TOKENS and a scope within the role (an unscoped one acts as the organization).
 */
export function creatorStillCovers(role: OrganizationRoleEntity | null, token: ApiTokenEntity): boolean {
  if (!role) return false;
  if (role.builtIn === 'OWNER') return true;
  const held = effectivePermissions(role);
  return (
    held.ORGANIZATION.includes('MANAGE_ACCESS_TOKENS') &&
    token.scope !== null &&
    scopeBeyondRole(held, token.scope).length === 0
  );
}

/**
 * Revokes tokens in the caller's transaction, each announced (`api-token.revoked`) through its
 * outbox so that every gateway drops them; the caller kicks the outbox after the commit.
 */
export async function revokeTokens(
  manager: EntityManager,
  tokens: readonly ApiTokenEntity[],
): Promise<string[]> {
  const revokedAt = new Date();
  for (const token of tokens) {
    await manager.update(ApiTokenEntity, { id: token.id, revokedAt: IsNull() }, { revokedAt });
    await addToOutbox(manager, Events.apiTokenRevoked, { tokenId: token.id, userId: token.userId });
  }
  return tokens.map((t) => t.id);
}

/**
 * After a member's role or state changed (in a transaction holding the organization's lock):
 * revokes the organization's live tokens that member created and its role no longer covers — all
 * of them when it is no longer a member. Returns their ids.
 */
export async function revokeTokensBeyondCreator(
  manager: EntityManager,
  organizationId: string,
  creatorId: string,
  role: OrganizationRoleEntity | null,
): Promise<string[]> {
  const created = await manager.find(ApiTokenEntity, {
    where: { userId: organizationId, createdBy: creatorId, revokedAt: IsNull() },
    order: { createdAt: 'ASC', id: 'ASC' },
  });
  return revokeTokens(
    manager,
    created.filter((token) => !creatorStillCovers(role, token)),
  );
}
