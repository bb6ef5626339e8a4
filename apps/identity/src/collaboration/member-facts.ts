import { Events, MembershipBinding, MembershipFacts } from '@atrium/contracts';
import { addToOutbox } from '@atrium/messaging';
import { EntityManager } from 'typeorm';
import { CollaborationMemberEntity, StoredSharedItem } from './collaboration-member.entity';
import { PrimaryCatalogue, sharedItemPermissions } from './primary-catalogue';

/*
 * What the permissions service is told of collaboration members: their membership facts, announced
 * through the outbox in the transaction that changes them.
 */

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
