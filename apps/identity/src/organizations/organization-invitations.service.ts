import { Inject, Injectable } from '@nestjs/common';
import { IdentityConfig } from '@atrium/config';
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
import { MailMessages } from '../mail/mail-messages';
import { mailedTokenMatches, newMailedToken, parseMailedToken } from '../mail/mailed-token';
import { IDENTITY_CONFIG, Mailer, OutgoingMail } from '../mail/mailer';
import { OrganizationMemberEntity } from '../memberships/organization-member.entity';
import { OrganizationMembershipsService } from '../memberships/organization-memberships.service';
import { OrganizationAccess } from './organization-access';
import { OrganizationInvitationEntity } from './organization-invitation.entity';
import { OrganizationRoleEntity } from './organization-role.entity';
import { invitationStatus, toInvitationView } from './organization-views';
import { OrganizationEntity } from './organization.entity';

/**
 * Invitations into an organization: sent with MANAGE_MEMBERS to an existing user (by id or
 * username) or to an email address, with a role no greater than the inviter's, and mailed with a
 * one-time token; answered by the invitee alone (anyone else is told it does not exist) — for an
 * invitation to an address, by a user who verified that address; cancelled from the
 * organization's side. An invitation by address answers alike whether or not the address has an
 * account, so that inviting cannot be used to find out who is registered.
 */
@Injectable()
export class OrganizationInvitationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
    private readonly access: OrganizationAccess,
    private readonly memberships: OrganizationMembershipsService,
    private readonly mailer: Mailer,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  async create(
    organizationId: string,
    userId: string,
    input: RpcPayload<typeof OrganizationsRpc.createInvitation>['invitation'],
  ): Promise<InvitationView> {
    const { view, mail } = await this.dataSource.transaction(async (manager) => {
      const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
      this.access.require(actor, ['MANAGE_MEMBERS'], 'invite members');
      const role = await this.access.roleFor(manager, organizationId, input.roleId, 'body.roleId');
      this.access.requireNoMoreThanHeld(
        actor,
        role,
        'You cannot invite with a role that has permissions your role does not have',
      );
      const email = isEmail(input.user) ? input.user.toLowerCase() : null;
      const invitee = email ? null : await this.resolveInvitee(manager, input.user);
      if (invitee) {
        const member = await manager.findOneBy(OrganizationMemberEntity, {
          organizationId,
          userId: invitee.id,
          active: true,
        });
        if (member)
          throw new AppError('conflict', `${invitee.username} is already a member of the organization`);
      }
      const named = invitee?.username ?? (email as string);
      const pending = await manager.findOneBy(
        OrganizationInvitationEntity,
        invitee
          ? { organizationId, inviteeId: invitee.id, status: 'PENDING' }
          : { organizationId, email: email as string, status: 'PENDING' },
      );
      if (pending && invitationStatus(pending) === 'PENDING')
        throw new AppError('conflict', `${named} already has a pending invitation to the organization`);
      // One expired in the meantime: it makes way for the new one.
      if (pending)
        await manager.update(OrganizationInvitationEntity, { id: pending.id }, { status: 'EXPIRED' });
      const id = newId();
      const { token, secretHash } = newMailedToken(id);
      await manager.insert(OrganizationInvitationEntity, {
        id,
        organizationId,
        inviteeId: invitee?.id ?? null,
        email,
        tokenHash: secretHash,
        roleId: role.id,
        invitedBy: userId,
        status: 'PENDING',
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
        respondedAt: null,
      });
      const saved = await manager.findOneByOrFail(OrganizationInvitationEntity, { id });
      const to = email ?? invitee?.email;
      const outgoing: OutgoingMail | null = to
        ? MailMessages.organizationInvitation(this.baseUrl(), to, actor.account.username, token)
        : null;
      return {
        view: toInvitationView(saved, {
          organizationUsername: actor.account.username,
          username: invitee?.username ?? null,
          roleName: role.name,
        }),
        mail: outgoing,
      };
    });
    if (mail) await this.mailer.send(mail);
    return view;
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

  /** Invitations addressed to the caller (to its account, or to its address once verified), newest first. */
  async listMine(userId: string): Promise<InvitationView[]> {
    const manager = this.dataSource.manager;
    const user = await manager.findOneBy(UserEntity, { id: userId });
    const query = manager
      .getRepository(OrganizationInvitationEntity)
      .createQueryBuilder('i')
      .where('i.invitee_id = :userId', { userId });
    if (user?.email && user.emailVerifiedAt)
      query.orWhere('(i.invitee_id IS NULL AND i.email = :email)', { email: user.email });
    const invitations = await query.orderBy('i.created_at', 'DESC').addOrderBy('i.id', 'ASC').getMany();
    return this.views(manager, invitations);
  }

  /** The invitee joins with the invitation's role. */
  async accept(userId: string, invitationId: string): Promise<MembershipChange<InvitationView>> {
    return this.join(userId, (manager) => this.answerable(manager, userId, invitationId));
  }

  /** Accepts the invitation a mailed token names; its invitee alone may use it, as by id. */
  async acceptByToken(userId: string, token: string): Promise<MembershipChange<InvitationView>> {
    return this.join(userId, async (manager) => {
      const parsed = parseMailedToken(token);
      const found = parsed ? await manager.findOneBy(OrganizationInvitationEntity, { id: parsed.id }) : null;
      if (!parsed || !found || !mailedTokenMatches(parsed.secret, found.tokenHash))
        throw AppError.notFound('The invitation');
      return this.answerable(manager, userId, found.id);
    });
  }

  private async join(
    userId: string,
    find: (manager: EntityManager) => Promise<OrganizationInvitationEntity>,
  ): Promise<MembershipChange<InvitationView>> {
    const { view, revokedTokenIds } = await this.dataSource.transaction(async (manager) => {
      const invitation = await find(manager);
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
        userId,
      );
      // An invitation to an address belongs, once accepted, to the user who proved the address.
      invitation.inviteeId = userId;
      const accepted = await this.answer(manager, invitation, 'ACCEPTED');
      return { view: accepted, revokedTokenIds: recorded.revokedTokenIds };
    });
    this.outbox.kick();
    return {
      result: view,
      organizationId: view.organizationId,
      affectedUserIds: [userId],
      revokedTokenIds,
      // Joining takes nothing away.
      signingKeyRotation: null,
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
   * Addressed to the caller's email while the caller has not verified it: 403 — an address only
   * claimed at sign-up proves nothing about who reads its mail.
   */
  private async answerable(
    manager: EntityManager,
    userId: string,
    invitationId: string,
  ): Promise<OrganizationInvitationEntity> {
    const found = await manager.findOneBy(OrganizationInvitationEntity, { id: invitationId });
    const user = await manager.findOneBy(UserEntity, { id: userId });
    const byEmail = !!found && found.inviteeId === null && !!found.email && found.email === user?.email;
    if (!found || (found.inviteeId !== userId && !byEmail)) throw AppError.notFound('The invitation');
    if (byEmail && !user?.emailVerifiedAt)
      throw new AppError(
        'insufficient-permissions',
        `This invitation was sent to ${found.email}: verify that address (the link mailed at sign-up, or POST /v2/auth/verify-email/resend) before answering it`,
      );
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

  private baseUrl(): string {
    return this.config.PUBLIC_BASE_URL.replace(/\/$/, '');
  }

  /** An existing user (not an organization), by id, else username (findAccountByRef; emails are handled apart). */
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
    const accountIds = [
      ...new Set(
        invitations.flatMap((i) => (i.inviteeId ? [i.organizationId, i.inviteeId] : [i.organizationId])),
      ),
    ];
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
        username: i.inviteeId ? (name.get(i.inviteeId) ?? '') : null,
        roleName: roleName.get(i.roleId) ?? '',
      }),
    );
  }
}

/** Usernames cannot hold `@`: a reference with one names an address, and must be a valid one. */
function isEmail(ref: string): boolean {
  if (!ref.includes('@')) return false;
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(ref))
    throw new AppError('invalid-input', 'Field "body.user" is invalid: not a valid email address');
  return true;
}
