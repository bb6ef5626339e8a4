import { Injectable } from '@nestjs/common';
import { AppError, MembershipChange, OrganizationMemberView } from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, In } from 'typeorm';
import { UserEntity } from '../accounts/user.entity';
import { OrganizationAccess } from '../organizations/organization-access';
import { OrganizationRoleEntity } from '../organizations/organization-role.entity';
import { declareStorageKeyRotation } from '../organizations/organization-storage-keys';
import { toMemberView } from '../organizations/organization-views';
import { OrganizationMemberEntity } from './organization-member.entity';
import { OrganizationMembershipsService } from './organization-memberships.service';

/**
 * An organization's members: listed by any member; their roles changed and members removed with
 * MANAGE_MEMBERS. No one changes their own role, touches the Owner, or acts on a member whose
 * role holds more than their own (the Owner excepted); any member may leave, except the Owner.
 * A member's organization tokens its new role no longer covers are revoked with the change (see
 * OrganizationMembershipsService.record).
 */
@Injectable()
export class OrganizationMembersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
    private readonly access: OrganizationAccess,
    private readonly memberships: OrganizationMembershipsService,
  ) {}

  async list(organizationId: string, userId: string): Promise<OrganizationMemberView[]> {
    const manager = this.dataSource.manager;
    await this.access.actor(manager, organizationId, userId);
    const members = await manager.find(OrganizationMemberEntity, {
      where: { organizationId, active: true },
      order: { joinedAt: 'ASC', userId: 'ASC' },
    });
    const [users, roles] = await Promise.all([
      manager.findBy(UserEntity, { id: In(members.map((m) => m.userId)) }),
      manager.findBy(OrganizationRoleEntity, { organizationId }),
    ]);
    const userById = new Map(users.map((u) => [u.id, u]));
    const roleById = new Map(roles.map((r) => [r.id, r]));
    return members.flatMap((m) => {
      const user = userById.get(m.userId);
      const role = roleById.get(m.roleId);
      return user && role ? [toMemberView(m, user, role)] : [];
    });
  }

  async changeRole(
    organizationId: string,
    userId: string,
    memberId: string,
    roleId: string,
  ): Promise<MembershipChange<OrganizationMemberView>> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
      if (memberId === userId)
        throw new AppError('insufficient-permissions', 'You cannot change your own role');
      this.access.require(actor, ['MANAGE_MEMBERS'], "change members' roles");
      const member = await manager.findOneBy(OrganizationMemberEntity, {
        organizationId,
        userId: memberId,
        active: true,
      });
      if (!member) throw AppError.notFound('The member');
      const current = await manager.findOneByOrFail(OrganizationRoleEntity, { id: member.roleId });
      if (current.builtIn === 'OWNER')
        throw new AppError('insufficient-permissions', "The Owner's role cannot be changed");
      const role = await this.access.roleFor(manager, organizationId, roleId, 'body.roleId');
      this.access.requireNoMoreThanHeld(
        actor,
        current,
        'You cannot change the role of a member whose role has permissions yours does not have',
      );
      this.access.requireNoMoreThanHeld(
        actor,
        role,
        'You cannot give a role with permissions your role does not have',
      );
      const user = await manager.findOneByOrFail(UserEntity, { id: memberId });
      if (member.roleId === role.id)
        return {
          view: toMemberView(member, user, role),
          changed: false,
          revokedTokenIds: [],
          rotation: null,
        };
      const saved = await this.memberships.record(manager, { ...member, roleId: role.id }, role, userId);
      return {
        view: toMemberView(saved.member, user, role),
        changed: true,
        revokedTokenIds: saved.revokedTokenIds,
        rotation: saved.lostStorageKeys ? await declareStorageKeyRotation(manager, organizationId) : null,
      };
    });
    if (outcome.changed) this.outbox.kick();
    return {
      result: outcome.view,
      organizationId,
      affectedUserIds: outcome.changed ? [memberId] : [],
      revokedTokenIds: outcome.revokedTokenIds,
      signingKeyRotation: outcome.rotation,
    };
  }

  /**
   * Removing oneself is leaving, which needs no permission. The record stays, inactive; the
   * organization tokens the member created are revoked, and the organization's storage signing
   * keys rotated if its role reached them.
   */
  async remove(
    organizationId: string,
    userId: string,
    memberId: string,
  ): Promise<MembershipChange<{ ok: true }>> {
    const recorded = await this.dataSource.transaction(async (manager) => {
      const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
      const member = await manager.findOneBy(OrganizationMemberEntity, {
        organizationId,
        userId: memberId,
        active: true,
      });
      if (!member) throw AppError.notFound('The member');
      const role = await manager.findOneByOrFail(OrganizationRoleEntity, { id: member.roleId });
      if (memberId === userId) {
        if (actor.isOwner)
          throw new AppError('conflict', 'The Owner cannot leave the organization; delete it instead');
      } else {
        this.access.require(actor, ['MANAGE_MEMBERS'], 'remove members');
        if (role.builtIn === 'OWNER')
          throw new AppError('insufficient-permissions', 'The Owner cannot be removed');
        this.access.requireNoMoreThanHeld(
          actor,
          role,
          'You cannot remove a member whose role has permissions yours does not have',
        );
      }
      const left = await this.memberships.record(manager, { ...member, active: false }, null, userId);
      return {
        ...left,
        rotation: left.lostStorageKeys ? await declareStorageKeyRotation(manager, organizationId) : null,
      };
    });
    this.outbox.kick();
    return {
      result: { ok: true },
      organizationId,
      affectedUserIds: [memberId],
      revokedTokenIds: recorded.revokedTokenIds,
      signingKeyRotation: recorded.rotation,
    };
  }
}
