import { Injectable } from '@nestjs/common';
import {
  AppError,
  INVITATION_TTL_MS,
  InvitationView,
  MembershipChange,
  OrganizationsRpc,
  RpcPayload,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, In } from 'typeorm';
import { findAccountByRef } from '../accounts/accounts.service';
import { UserEntity } from '../accounts/user.entity';
import { OrganizationMemberEntity } from '../memberships/organization-member.entity';
import { OrganizationMembershipsService } from '../memberships/organization-memberships.service';
import { OrganizationAccess } from './organization-access';
import { OrganizationInvitationEntity } from './organization-invitation.entity';
import { OrganizationRoleEntity } from './organization-role.entity';
import { invitationStatus, toInvitationView } from './organization-views';
import { OrganizationEntity } from './organization.entity';

/**
 * Invitations into an organization: sent with MANAGE_MEMBERS to an existing user (by id,
 * username or email) with a role no greater than the inviter's; answered by the invitee alone
 * (anyone else is told it does not exist); cancelled from the organization's side.
 */
@Injectable()
export class OrganizationInvitationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
    private readonly access: OrganizationAccess,
    private readonly memberships: OrganizationMembershipsService,
  ) {}

  async create(
    organizationId: string,
    userId: string,
    input: RpcPayload<typeof OrganizationsRpc.createInvitation>['invitation'],
  ): Promise<InvitationView> {
    return this.dataSource.transaction(async (manager) => {
      const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
      this.access.require(actor, ['MANAGE_MEMBERS'], 'invite members');
      const role = await this.access.roleFor(manager, organizationId, input.roleId, 'body.roleId');
      this.access.requireNoMoreThanHeld(
        actor,
        role,
        'You cannot invite with a role that has permissions your role does not have',
      );
      const invitee = await this.resolveInvitee(manager, input.user);
      const member = await manager.findOneBy(OrganizationMemberEntity, {
        organizationId,
        userId: invitee.id,
        active: true,
      });
      if (member)
        throw new AppError('conflict', `${invitee.username} is already a member of the organization`);
      const pending = await manager.findOneBy(OrganizationInvitationEntity, {
        organizationId,
        inviteeId: invitee.id,
        status: 'PENDING',
      });
      if (pending && invitationStatus(pending) === 'PENDING')
        throw new AppError(
          'conflict',
          `${invitee.username} already has a pending invitation to the organization`,
        );
      // One expired in the meantime: it makes way for the new one.
      if (pending)
        await manager.update(OrganizationInvitationEntity, { id: pending.id }, { status: 'EXPIRED' });
      const id = newId();
      await manager.insert(OrganizationInvitationEntity, {
        id,
        organizationId,
        inviteeId: invitee.id,
        roleId: role.id,
        invitedBy: userId,
        status: 'PENDING',
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
        respondedAt: null,
      });
      const saved = await manager.findOneByOrFail(OrganizationInvitationEntity, { id });
      return toInvitationView(saved, {
        organizationUsername: actor.account.username,
        username: invitee.username,
        roleName: role.name,
      });
    });
  }

  /** The organization's invitations, newest first (MANAGE_MEMBERS). */
  async listOfOrganization(organizationId: string, userId: string): Promise<InvitationView[]> {
    const manager = this.dataSource.manager;
    const actor = await this.access.actor(manager, organizationId, userId);
    this.access.require(actor, ['MANAGE_MEMBERS'], 'see the invitations');
    const invitations = await manager.find(OrganizationInvitationEntity, {
      where: { organizationId },
      order: { createdAt: 'DESC', id: 'ASC' },
    });
    return this.views(manager, invitations);
  }

  /** Invitations addressed to the caller, newest first. */
  async listMine(userId: string): Promise<InvitationView[]> {
    const manager = this.dataSource.manager;
    const invitations = await manager.find(OrganizationInvitationEntity, {
      where: { inviteeId: userId },
      order: { createdAt: 'DESC', id: 'ASC' },
    });
    return this.views(manager, invitations);
  }

  /** The invitee joins with the invitation's role. */
  async accept(userId: string, invitationId: string): Promise<MembershipChange<InvitationView>> {
    const { view, revokedTokenIds } = await this.dataSource.transaction(async (manager) => {
      const invitation = await this.answerable(manager, userId, invitationId);
      const role = await manager.findOneBy(OrganizationRoleEntity, {
        id: invitation.roleId,
        organizationId: invitation.organizationId,
      });
      if (!role) throw new AppError('conflict', 'The role of this invitation no longer exists');
      const existing = await manager.findOneBy(OrganizationMemberEntity, {
        organizationId: invitation.organizationId,
        userId,
      });
      if (existing?.active) throw new AppError('conflict', 'You are already a member of the organization');
      const recorded = await this.memberships.record(
        manager,
        manager.create(OrganizationMemberEntity, {
          ...(existing ?? {}),
          organizationId: invitation.organizationId,
          userId,
          roleId: role.id,
          active: true,
          joinedAt: new Date(),
        }),
        role,
      );
      const accepted = await this.answer(manager, invitation, 'ACCEPTED');
      return { view: accepted, revokedTokenIds: recorded.revokedTokenIds };
    });
    this.outbox.kick();
    return {
      result: view,
      organizationId: view.organizationId,
      affectedUserIds: [userId],
      revokedTokenIds,
    };
  }

  async decline(userId: string, invitationId: string): Promise<InvitationView> {
    return this.dataSource.transaction(async (manager) => {
      const invitation = await this.answerable(manager, userId, invitationId);
      return this.answer(manager, invitation, 'DECLINED');
    });
  }

  /** From the organization's side: a member with MANAGE_MEMBERS. */
  async cancel(userId: string, invitationId: string): Promise<InvitationView> {
    return this.dataSource.transaction(async (manager) => {
      const found = await manager.findOneBy(OrganizationInvitationEntity, { id: invitationId });
      if (!found) throw AppError.notFound('The invitation');
      const actor = await this.access
        .actor(manager, found.organizationId, userId, { lock: true })
        .catch((err: unknown) => {
          const outsider = err instanceof AppError && err.type === 'record-not-found';
          throw outsider ? AppError.notFound('The invitation') : err;
        });
      this.access.require(actor, ['MANAGE_MEMBERS'], 'cancel invitations');
      const invitation = await this.lockedPending(manager, invitationId);
      return this.answer(manager, invitation, 'CANCELLED');
    });
  }

  /**
   * A PENDING invitation addressed to the caller, locked with its organization (the organization
   * first, as every change of it does). Addressed to someone else: 404, as if it did not exist.
   */
  private async answerable(
    manager: EntityManager,
    userId: string,
    invitationId: string,
  ): Promise<OrganizationInvitationEntity> {
    const found = await manager.findOneBy(OrganizationInvitationEntity, { id: invitationId });
    if (!found || found.inviteeId !== userId) throw AppError.notFound('The invitation');
    await manager.findOne(OrganizationEntity, {
      where: { id: found.organizationId },
      lock: { mode: 'pessimistic_write' },
    });
    return this.lockedPending(manager, invitationId);
  }

  private async lockedPending(
    manager: EntityManager,
    invitationId: string,
  ): Promise<OrganizationInvitationEntity> {
    const invitation = await manager.findOneOrFail(OrganizationInvitationEntity, {
      where: { id: invitationId },
      lock: { mode: 'pessimistic_write' },
    });
    const status = invitationStatus(invitation);
    if (status === 'EXPIRED') throw new AppError('conflict', 'The invitation has expired');
    if (status !== 'PENDING')
      throw new AppError('conflict', `The invitation was already ${status.toLowerCase()}`);
    return invitation;
  }

  private async answer(
    manager: EntityManager,
    invitation: OrganizationInvitationEntity,
    status: 'ACCEPTED' | 'DECLINED' | 'CANCELLED',
  ): Promise<InvitationView> {
    invitation.status = status;
    invitation.respondedAt = new Date();
    await manager.save(OrganizationInvitationEntity, invitation);
    const [view] = await this.views(manager, [invitation]);
    return view;
  }

  /** An existing user (not an organization), by id, else username, else email (findAccountByRef). */
  private async resolveInvitee(manager: EntityManager, ref: string): Promise<UserEntity> {
    const account = await findAccountByRef(manager, ref);
    if (!account) throw AppError.notFound(`The user "${ref}" (body.user)`);
    if (account.kind !== 'USER') {
      throw new AppError(
        'invalid-input',
        'Field "body.user" is invalid: an organization cannot be a member of another organization',
      );
    }
    return account;
  }

  private async views(
    manager: EntityManager,
    invitations: OrganizationInvitationEntity[],
  ): Promise<InvitationView[]> {
    if (!invitations.length) return [];
    const accountIds = [...new Set(invitations.flatMap((i) => [i.organizationId, i.inviteeId]))];
    // One query at a time: the manager may be a transaction's single connection.
    const accounts = await manager.findBy(UserEntity, { id: In(accountIds) });
    const roles = await manager.findBy(OrganizationRoleEntity, {
      id: In([...new Set(invitations.map((i) => i.roleId))]),
    });
    const name = new Map(accounts.map((a) => [a.id, a.username]));
    const roleName = new Map(roles.map((r) => [r.id, r.name]));
    return invitations.map((i) =>
      toInvitationView(i, {
        organizationUsername: name.get(i.organizationId) ?? '',
        username: name.get(i.inviteeId) ?? '',
        roleName: roleName.get(i.roleId) ?? '',
      }),
    );
  }
}
