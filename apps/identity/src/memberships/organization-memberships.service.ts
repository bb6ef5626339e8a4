import { Injectable } from '@nestjs/common';
import { Events, MembershipFacts } from '@atrium/contracts';
import { addToOutbox } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { OrganizationRoleEntity } from '../organizations/organization-role.entity';
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
   */
  async record(
    manager: EntityManager,
    member: OrganizationMemberEntity,
    role: OrganizationRoleEntity | null,
  ): Promise<OrganizationMemberEntity> {
    const stored = await manager.findOne(OrganizationMemberEntity, {
      where: { organizationId: member.organizationId, userId: member.userId },
      lock: { mode: 'pessimistic_write' },
    });
    const saved = await manager.save(OrganizationMemberEntity, {
      ...member,
      version: (stored?.version ?? 0) + 1,
    });
    await addToOutbox(manager, Events.membershipChanged, organizationMembershipFacts(saved, role));
    return saved;
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
