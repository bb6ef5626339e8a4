import { Injectable } from '@nestjs/common';
import { Events, MembershipFacts, reachesSigningKey } from '@atrium/contracts';
import { addToOutbox } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { OrganizationRoleEntity } from '../organizations/organization-role.entity';
import { revokeTokensBeyondCreator } from '../organizations/organization-token-revocations';
import { categoryBindings, effectivePermissions } from '../organizations/role-permissions';
import { OrganizationMemberEntity } from './organization-member.entity';

/** An organization membership as the permissions service projects it; an inactive one gives nothing. */
export function organizationMembershipFacts(
  member: OrganizationMemberEntity,
  role: OrganizationRoleEntity | null,
): MembershipFacts {
  const active = member.active && role !== null;
  return {
    accountId: member.organizationId,
    userId: member.userId,
    kind: 'ORGANIZATION',
    active,
    roleName: role?.name ?? '',
    bindings: active && role ? categoryBindings(effectivePermissions(role)) : [],
    version: member.version,
  };
}

/** A membership as saved, with the organization tokens its change revoked. */
export interface RecordedMembership {
  member: OrganizationMemberEntity;
  revokedTokenIds: string[];
  /**
   * The member could reach the organization's storage signing keys (STORAGE WRITE or
   * MANAGE_ACCESS) and no longer can: the change must declare their rotation
   * (OrganizationStorageKeys), once however many members it moved.
   */
  lostStorageKeys: boolean;
}

/** Whether a role's holders are shown, or can rotate and be shown, the signing keys of the organization's storages. */
function roleReachesStorageKeys(
  role: Pick<OrganizationRoleEntity, 'builtIn' | 'permissions'> | null,
): boolean {
  return role !== null && reachesSigningKey(effectivePermissions(role).STORAGE);
}

/**
 * Organization memberships as facts: saved and announced (`membership.changed`) in the caller's
 * transaction, or read for the permissions service's read-through.
 */
@Injectable()
export class OrganizationMembershipsService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Saves a membership whose role or state changed, its version one above the stored one (or 1
   * for a new membership), and announces it through the outbox of the same transaction.
   *
   * Every change of a membership passes here (a role given, a role edited, a member removed or
   * leaving, the organization deleted), in a transaction holding the organization's lock, which
   * token creation takes too: so the organization tokens the member created that its role no
   * longer covers — all of them once it is no longer a member — are revoked here, atomically.
   * `changedBy`, the user who made the change, rides on the event for the audit log.
   * `roleBefore`: what the member's role was before the change when the role row itself was
   * edited (otherwise read from the stored membership).
   */
  async record(
    manager: EntityManager,
    member: OrganizationMemberEntity,
    role: OrganizationRoleEntity | null,
    changedBy: string,
    roleBefore?: Pick<OrganizationRoleEntity, 'builtIn' | 'permissions'>,
  ): Promise<RecordedMembership> {
    const stored = await manager.findOne(OrganizationMemberEntity, {
      where: { organizationId: member.organizationId, userId: member.userId },
      lock: { mode: 'pessimistic_write' },
    });
    const heldBefore = stored?.active
      ? (roleBefore ?? (await manager.findOneBy(OrganizationRoleEntity, { id: stored.roleId })))
      : null;
    const saved = await manager.save(OrganizationMemberEntity, {
      ...member,
      version: (stored?.version ?? 0) + 1,
    });
    await addToOutbox(manager, Events.membershipChanged, {
      ...organizationMembershipFacts(saved, role),
      changedBy,
    });
    const revokedTokenIds = await revokeTokensBeyondCreator(
      manager,
      saved.organizationId,
      saved.userId,
      saved.active ? role : null,
    );
    const lostStorageKeys =
      roleReachesStorageKeys(heldBefore) && !roleReachesStorageKeys(saved.active ? role : null);
    return { member: saved, revokedTokenIds, lostStorageKeys };
  }

  /** The organization membership of a user in an account, if there ever was one. */
  async membershipFacts(accountId: string, userId: string): Promise<MembershipFacts[]> {
    const member = await this.dataSource.manager.findOneBy(OrganizationMemberEntity, {
      organizationId: accountId,
      userId,
    });
    if (!member) return [];
    const role = await this.dataSource.manager.findOneBy(OrganizationRoleEntity, { id: member.roleId });
    return [organizationMembershipFacts(member, role)];
  }
}
