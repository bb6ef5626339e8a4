import { Injectable } from '@nestjs/common';
import { AppError, OrganizationPermission, RolePermissions } from '@atrium/contracts';
import { EntityManager, IsNull } from 'typeorm';
import { UserEntity } from '../accounts/user.entity';
import { OrganizationMemberEntity } from '../memberships/organization-member.entity';
import { OrganizationRoleEntity } from './organization-role.entity';
import { OrganizationEntity } from './organization.entity';
import { effectivePermissions, missingPermissions } from './role-permissions';

/** A caller acting in an organization, as one of its active members. */
export interface OrganizationActor {
  userId: string;
  organization: OrganizationEntity;
  account: UserEntity;
  member: OrganizationMemberEntity;
  role: OrganizationRoleEntity;
  isOwner: boolean;
  permissions: RolePermissions;
}

/**
 * Who may do what in an organization. Identity decides this itself: it owns memberships and roles.
 * Anyone who is not an active member gets 404 (the organization's existence is not leaked).
 */
@Injectable()
export class OrganizationAccess {
  /**
   * The caller as an active member. With `lock`, the organization row is locked for the rest of
   * the transaction, so changes of one organization's roles and members never interleave.
   */
  async actor(
    manager: EntityManager,
    organizationId: string,
    userId: string,
    options: { lock?: boolean } = {},
  ): Promise<OrganizationActor> {
    const notFound = AppError.notFound('The organization');
    const organization = await manager.findOne(OrganizationEntity, {
      where: { id: organizationId, deletedAt: IsNull() },
      ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!organization) throw notFound;
    const member = await manager.findOneBy(OrganizationMemberEntity, {
      organizationId,
      userId,
      active: true,
    });
    if (!member) throw notFound;
    // One query at a time: the manager may be a transaction's single connection.
    const account = await manager.findOneByOrFail(UserEntity, { id: organizationId });
    const role = await manager.findOneByOrFail(OrganizationRoleEntity, { id: member.roleId });
    const isOwner = role.builtIn === 'OWNER';
    return { userId, organization, account, member, role, isOwner, permissions: effectivePermissions(role) };
  }

  /** 403 unless the actor holds one of the permissions (the Owner holds all). */
  require(actor: OrganizationActor, anyOf: OrganizationPermission[], toDo: string): void {
    if (actor.isOwner || anyOf.some((p) => actor.permissions.ORGANIZATION.includes(p))) return;
    throw new AppError(
      'insufficient-permissions',
      `You need the ${anyOf.join(' or ')} permission to ${toDo}`,
    );
  }

  /**
   * Nobody but the Owner hands out, or takes from others, what they do not hold themselves:
   * 403 when the role has a permission the actor lacks.
   */
  requireNoMoreThanHeld(
    actor: OrganizationActor,
    role: { builtIn: OrganizationRoleEntity['builtIn']; permissions: RolePermissions },
    refusal: string,
  ): void {
    if (actor.isOwner) return;
    const missing = missingPermissions(actor.permissions, effectivePermissions(role));
    if (missing.length) throw new AppError('insufficient-permissions', `${refusal}: ${missing.join(', ')}`);
  }

  /** A role of the organization named in a request body (400 naming the field when it is not one). */
  async roleFor(
    manager: EntityManager,
    organizationId: string,
    roleId: string,
    field: string,
  ): Promise<OrganizationRoleEntity> {
    const role = await manager.findOneBy(OrganizationRoleEntity, { id: roleId, organizationId });
    if (!role)
      throw new AppError('invalid-input', `Field "${field}" is invalid: no such role in this organization`);
    if (role.builtIn === 'OWNER')
      throw new AppError(
        'invalid-input',
        `Field "${field}" is invalid: the Owner role cannot be given to anyone`,
      );
    return role;
  }
}
