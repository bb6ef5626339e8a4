import { ENVIRONMENT_OPERATIONS, EnvironmentOperation, SYSTEM_POLICIES } from '@atrium/contracts';
import { EntityManager } from 'typeorm';
import { StoredSharedItem } from './collaboration-member.entity';
import { CollaborationPolicyEntity } from './collaboration-policy.entity';
import { CollaborationRoleEntity } from './collaboration-role.entity';

/** The policies and roles of one primary account: what a member's shared items resolve to. */
export interface PrimaryCatalogue {
  policies: Map<string, readonly EnvironmentOperation[]>;
  roles: Map<string, CollaborationRoleEntity>;
}

export async function loadCatalogue(manager: EntityManager, primaryId: string): Promise<PrimaryCatalogue> {
  const [custom, roles] = await Promise.all([
    manager.findBy(CollaborationPolicyEntity, { primaryId }),
    manager.findBy(CollaborationRoleEntity, { primaryId }),
  ]);
  const policies = new Map<string, readonly EnvironmentOperation[]>(
    SYSTEM_POLICIES.map((p) => [p.id, p.permissions]),
  );
  for (const p of custom) policies.set(p.id, p.permissions);
  return { policies, roles: new Map(roles.map((r) => [r.id, r])) };
}

/** Sorted in the order of ENVIRONMENT_OPERATIONS, without repeats. */
export function sortOperations(ops: Iterable<EnvironmentOperation>): EnvironmentOperation[] {
  const held = new Set(ops);
  return ENVIRONMENT_OPERATIONS.filter((op) => held.has(op));
}

export function rolePermissions(
  policyIds: readonly string[],
  catalogue: Pick<PrimaryCatalogue, 'policies'>,
): EnvironmentOperation[] {
  return sortOperations(policyIds.flatMap((id) => catalogue.policies.get(id) ?? []));
}

/** The union of the operations of every policy of every role bound to the item. */
export function sharedItemPermissions(
  item: StoredSharedItem,
  catalogue: PrimaryCatalogue,
): EnvironmentOperation[] {
  return sortOperations(
    item.roleIds.flatMap((id) => {
      const role = catalogue.roles.get(id);
      return role ? rolePermissions(role.policyIds, catalogue) : [];
    }),
  );
}
