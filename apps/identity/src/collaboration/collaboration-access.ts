import {
  ENVIRONMENT_OPERATIONS,
  EnvironmentOperation,
  Events,
  MembershipBinding,
  MembershipFacts,
  SYSTEM_POLICIES,
} from '@atrium/contracts';
import { addToOutbox } from '@atrium/messaging';
import { EntityManager } from 'typeorm';
import { CollaborationMemberEntity, StoredSharedItem } from './collaboration-member.entity';
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

export function bindingOf(item: StoredSharedItem, catalogue: PrimaryCatalogue): MembershipBinding {
  const permissions = sharedItemPermissions(item, catalogue);
  return item.category
    ? { kind: 'category', target: item.category, permissions }
    : { kind: 'resource', target: (item.resourceId ?? item.groupId) as string, permissions };
}

/** What the permissions service projects of a member bound to a user. */
export function memberFacts(
  member: CollaborationMemberEntity & { userId: string },
  catalogue: PrimaryCatalogue,
): MembershipFacts {
  const roleNames = [
    ...new Set(
      member.shared.flatMap((item) => item.roleIds.map((id) => catalogue.roles.get(id)?.name ?? id)),
    ),
  ];
  const roleName = roleNames.join(', ');
  return {
    accountId: member.primaryId,
    userId: member.userId,
    kind: 'COLLABORATION',
    active: member.status === 'ACTIVE',
    roleName: roleName.length > 300 ? `${roleName.slice(0, 297)}...` : roleName,
    bindings: member.shared.map((item) => bindingOf(item, catalogue)),
    version: member.version,
  };
}

/**
 * Saves changed members with their versions bumped and announces each bound one's membership in
 * the same transaction, naming who changed it (`changedBy`, for the audit log). Returns the users
 * whose access changed.
 */
export async function saveAndAnnounce(
  manager: EntityManager,
  members: CollaborationMemberEntity[],
  catalogue: PrimaryCatalogue,
  changedBy: string,
): Promise<string[]> {
  const affected: string[] = [];
  for (const member of members) {
    member.version += 1;
    await manager.save(member);
    if (member.userId !== null) {
      await addToOutbox(manager, Events.membershipChanged, {
        ...memberFacts({ ...member, userId: member.userId }, catalogue),
        changedBy,
      });
      affected.push(member.userId);
    }
  }
  return affected;
}
