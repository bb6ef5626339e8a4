import { Injectable } from '@nestjs/common';
import {
  AppError,
  MembershipChange,
  OrganizationRoleView,
  OrganizationsRpc,
  RolePermissions,
  RpcPayload,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { OrganizationMemberEntity } from '../memberships/organization-member.entity';
import { OrganizationMembershipsService } from '../memberships/organization-memberships.service';
import { OrganizationAccess } from './organization-access';
import { OrganizationInvitationEntity } from './organization-invitation.entity';
import { OrganizationRoleEntity } from './organization-role.entity';
import { declareStorageKeyRotation } from './organization-storage-keys';
import { toRoleView } from './organization-views';

const BUILT_IN_ORDER = ['OWNER', 'ADMINISTRATOR', 'DEVELOPER', 'READ_ONLY'];

/**
 * An organization's roles: the fixed Owner, the editable built-in ones and custom ones. Managing
 * them needs MANAGE_MEMBERS, and no one but the Owner may create, edit or delete a role with a
 * permission they do not hold themselves.
 */
@Injectable()
export class OrganizationRolesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
    private readonly access: OrganizationAccess,
    private readonly memberships: OrganizationMembershipsService,
  ) {}

  async list(organizationId: string, userId: string): Promise<OrganizationRoleView[]> {
    const manager = this.dataSource.manager;
    await this.access.actor(manager, organizationId, userId);
    const [roles, counts] = await Promise.all([
      manager.find(OrganizationRoleEntity, {
        where: { organizationId },
        order: { createdAt: 'ASC', id: 'ASC' },
      }),
      this.memberCounts(manager, organizationId),
    ]);
    const rank = (r: OrganizationRoleEntity) => {
      const i = BUILT_IN_ORDER.indexOf(r.builtIn ?? '');
      return i < 0 ? BUILT_IN_ORDER.length : i;
    };
    return roles
      .map((r, i) => ({ r, i }))
      .sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i)
      .map(({ r }) => toRoleView(r, counts.get(r.id) ?? 0));
  }

  async create(
    organizationId: string,
    userId: string,
    input: RpcPayload<typeof OrganizationsRpc.createRole>['role'],
  ): Promise<OrganizationRoleView> {
    const view = await this.dataSource.transaction(async (manager) => {
      const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
      this.access.require(actor, ['MANAGE_MEMBERS'], 'manage roles');
      const permissions = input.permissions as RolePermissions;
      this.access.requireNoMoreThanHeld(
        actor,
        { builtIn: null, permissions },
        'You cannot create a role with permissions your role does not have',
      );
      await this.requireNameFree(manager, organizationId, input.name, null);
      const id = newId();
      await manager.insert(OrganizationRoleEntity, {
        id,
        organizationId,
        name: input.name,
        nameLower: input.name.toLowerCase(),
        builtIn: null,
        permissions,
      });
      return toRoleView(await manager.findOneByOrFail(OrganizationRoleEntity, { id }), 0);
    });
    return view;
  }

  /**
   * A change of permissions reaches every member holding the role, in the same transaction, and
   * revokes the organization tokens they created that the role no longer covers; a role that no
   * longer reaches storage signing keys rotates the organization's.
   */
  async update(
    organizationId: string,
    userId: string,
    roleId: string,
    changes: RpcPayload<typeof OrganizationsRpc.updateRole>['changes'],
  ): Promise<MembershipChange<OrganizationRoleView>> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
      this.access.require(actor, ['MANAGE_MEMBERS'], 'manage roles');
      const role = await this.roleOf(manager, organizationId, roleId);
      if (role.builtIn === 'OWNER') throw new AppError('invalid-input', 'The Owner role cannot be changed');
      this.access.requireNoMoreThanHeld(
        actor,
        role,
        'You cannot edit a role with permissions your role does not have',
      );
      const roleBefore = { builtIn: role.builtIn, permissions: role.permissions };
      if (changes.name !== undefined) {
        await this.requireNameFree(manager, organizationId, changes.name, role.id);
        role.name = changes.name;
        role.nameLower = changes.name.toLowerCase();
      }
      if (changes.permissions !== undefined) {
        const permissions = changes.permissions as RolePermissions;
        this.access.requireNoMoreThanHeld(
          actor,
          { builtIn: null, permissions },
          'You cannot give a role permissions your role does not have',
        );
        role.permissions = permissions;
      }
      await manager.save(OrganizationRoleEntity, role);
      // A new name is also what members' memberships are explained by.
      const holders = await manager.findBy(OrganizationMemberEntity, {
        organizationId,
        roleId,
        active: true,
      });
      // Tokens its holders created that the edited role no longer covers are revoked.
      const revokedTokenIds: string[] = [];
      let lostStorageKeys = false;
      for (const member of holders) {
        const recorded = await this.memberships.record(manager, member, role, userId, roleBefore);
        revokedTokenIds.push(...recorded.revokedTokenIds);
        lostStorageKeys ||= recorded.lostStorageKeys;
      }
      return {
        view: toRoleView(role, holders.length),
        affected: holders.map((m) => m.userId),
        revokedTokenIds,
        rotation: lostStorageKeys ? await declareStorageKeyRotation(manager, organizationId) : null,
      };
    });
    this.outbox.kick();
    return {
      result: outcome.view,
      organizationId,
      affectedUserIds: outcome.affected,
      revokedTokenIds: outcome.revokedTokenIds,
      signingKeyRotation: outcome.rotation,
    };
  }

  /** Only a role nobody holds can be removed; pending invitations with it are cancelled. */
  async delete(organizationId: string, userId: string, roleId: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
      this.access.require(actor, ['MANAGE_MEMBERS'], 'manage roles');
      const role = await this.roleOf(manager, organizationId, roleId);
      if (role.builtIn === 'OWNER') throw new AppError('invalid-input', 'The Owner role cannot be removed');
      this.access.requireNoMoreThanHeld(
        actor,
        role,
        'You cannot remove a role with permissions your role does not have',
      );
      const holders = await manager.countBy(OrganizationMemberEntity, {
        organizationId,
        roleId,
        active: true,
      });
      if (holders > 0) {
        throw new AppError(
          'conflict',
          `The role "${role.name}" is held by ${holders} member${holders === 1 ? '' : 's'}; give them another role first`,
        );
      }
      await manager.update(
        OrganizationInvitationEntity,
        { organizationId, roleId, status: 'PENDING' },
        { status: 'CANCELLED', respondedAt: new Date() },
      );
      await manager.delete(OrganizationRoleEntity, { id: role.id });
    });
    return { ok: true };
  }

  private async roleOf(manager: EntityManager, organizationId: string, roleId: string) {
    const role = await manager.findOneBy(OrganizationRoleEntity, { id: roleId, organizationId });
    if (!role) throw AppError.notFound('The role');
    return role;
  }

  private async requireNameFree(
    manager: EntityManager,
    organizationId: string,
    name: string,
    exceptId: string | null,
  ): Promise<void> {
    const existing = await manager.findOneBy(OrganizationRoleEntity, {
      organizationId,
      nameLower: name.toLowerCase(),
    });
    if (existing && existing.id !== exceptId)
      throw new AppError('conflict', `The organization already has a role named "${existing.name}"`);
  }

  private async memberCounts(manager: EntityManager, organizationId: string): Promise<Map<string, number>> {
    const rows: { roleId: string; count: string }[] = await manager
      .createQueryBuilder(OrganizationMemberEntity, 'm')
      .select('m.role_id', 'roleId')
      .addSelect('COUNT(*)', 'count')
      .where('m.organization_id = :organizationId AND m.active', { organizationId })
      .groupBy('m.role_id')
      .getRawMany();
    return new Map(rows.map((r) => [r.roleId, Number(r.count)]));
  }
}
