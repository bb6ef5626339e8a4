import { isUniqueViolation } from '@atrium/persistence';
import { Inject, Injectable } from '@nestjs/common';
import { IdentityConfig } from '@atrium/config';
import {
  AppError,
  CollaborationChange,
  CollaborationMemberStatus,
  CollaborationMemberView,
  CollaborationRpc,
  CollaborationView,
  ENDED_MEMBER_STATUSES,
  MembershipFacts,
  RpcPayload,
  SharedItem,
  SharedItemView,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, In } from 'typeorm';
import { UserEntity } from '../accounts/user.entity';
import { MailMessages } from '../mail/mail-messages';
import { mailedTokenMatches, newMailedToken, parseMailedToken } from '../mail/mailed-token';
import { IDENTITY_CONFIG, Mailer, OutgoingMail } from '../mail/mailer';
import { memberFacts, saveAndAnnounce } from './member-facts';
import { loadCatalogue, PrimaryCatalogue, sharedItemPermissions } from './primary-catalogue';
import { CollaborationMemberEntity, StoredSharedItem } from './collaboration-member.entity';

type Payload<K extends keyof typeof CollaborationRpc> = RpcPayload<(typeof CollaborationRpc)[K]>;
type StatusAction = Payload<'changeMemberStatus'>['action'];
type Response = Payload<'respondToCollaboration'>['response'];

/** Which statuses each primary-side action starts from, and where it leads. */
const STATUS_ACTIONS: Record<
  StatusAction,
  { from: readonly CollaborationMemberStatus[]; to: CollaborationMemberStatus }
> = {
  remove: { from: ['PENDING', 'ACTIVE', 'SUSPENDED', 'LEFT', 'DECLINED'], to: 'REMOVED' },
  suspend: { from: ['ACTIVE'], to: 'SUSPENDED' },
  activate: { from: ['SUSPENDED'], to: 'ACTIVE' },
  // A pending invitation may be sent again; active and suspended members are already in.
  reinvite: { from: ['PENDING', ...ENDED_MEMBER_STATUSES], to: 'PENDING' },
};
const DONE: Record<StatusAction | Response, string> = {
  remove: 'removed',
  suspend: 'suspended',
  activate: 'activated',
  reinvite: 're-invited',
  accept: 'accepted',
  reject: 'rejected',
  leave: 'left',
};
const RESPONSES: Record<
  Response,
  { from: readonly CollaborationMemberStatus[]; to: CollaborationMemberStatus }
> = {
  accept: { from: ['PENDING'], to: 'ACTIVE' },
  reject: { from: ['PENDING'], to: 'DECLINED' },
  leave: { from: ['ACTIVE', 'SUSPENDED'], to: 'LEFT' },
};

function toStored(items: SharedItem[]): StoredSharedItem[] {
  return items.map((item) =>
    item.category
      ? { category: item.category, roleIds: item.roleIds }
      : item.resourceId
        ? { resourceId: item.resourceId, roleIds: item.roleIds }
        : { groupId: item.groupId as string, roleIds: item.roleIds },
  );
}

function sharedView(items: StoredSharedItem[], catalogue: PrimaryCatalogue): SharedItemView[] {
  return items.map((item) => ({
    ...item,
    roleIds: [...item.roleIds],
    permissions: sharedItemPermissions(item, catalogue),
  }));
}

function memberView(member: CollaborationMemberEntity, catalogue: PrimaryCatalogue): CollaborationMemberView {
  return {
    id: member.id,
    primaryId: member.primaryId,
    userId: member.userId,
    email: member.email,
    displayName: member.displayName,
    status: member.status,
    shared: sharedView(member.shared, catalogue),
    invitedBy: member.invitedBy,
    invitedAt: member.invitedAt.toISOString(),
    respondedAt: member.respondedAt?.toISOString() ?? null,
    modifiedAt: member.modifiedAt.toISOString(),
  };
}

/**
 * Members of a primary account (the primary's side: invite, edit shares, suspend, activate, remove,
 * re-invite) and collaborations of a user (the member's side: accept, reject, leave). Every change
 * of what a member may do announces the membership through the outbox in the same transaction.
 */
@Injectable()
export class CollaborationMembersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
    private readonly mailer: Mailer,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
  ) {}

  async invite({
    primaryId,
    invitedBy,
    invite,
  }: Payload<'inviteMember'>): Promise<CollaborationChange<CollaborationMemberView>> {
    let mail: OutgoingMail | null = null;
    const change = await this.dataSource
      .transaction(async (manager) => {
        const primary = await manager.findOneBy(UserEntity, { id: primaryId });
        if (primary?.email === invite.email)
          throw new AppError('invalid-input', 'Field "body.email" is invalid: you cannot invite yourself');
        const existing = await manager.findOneBy(CollaborationMemberEntity, {
          primaryId,
          email: invite.email,
        });
        if (existing)
          throw new AppError(
            'conflict',
            `${invite.email} is already a member (${existing.status}, id ${existing.id}): edit or re-invite that member`,
          );
        const catalogue = await loadCatalogue(manager, primaryId);
        this.requireRoles(invite.shared, catalogue);
        const id = newId();
        const { token, secretHash } = newMailedToken(id);
        mail = this.invitationMail(invite.email, primary, token);
        // Bound to a user only when one who verified the address accepts.
        const member = manager.create(CollaborationMemberEntity, {
          id,
          primaryId,
          userId: null,
          email: invite.email,
          displayName: invite.displayName ?? null,
          status: 'PENDING',
          tokenHash: secretHash,
          shared: toStored(invite.shared),
          invitedBy,
          invitedAt: new Date(),
          respondedAt: null,
          version: 0,
        });
        const affectedUserIds = await saveAndAnnounce(manager, [member], catalogue, invitedBy);
        const saved = await manager.findOneByOrFail(CollaborationMemberEntity, { id: member.id });
        return { result: memberView(saved, catalogue), affectedUserIds };
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err)) throw new AppError('conflict', `${invite.email} is already a member`);
        throw err;
      });
    this.outbox.kick();
    if (mail) await this.mailer.send(mail);
    return change;
  }

  async list(primaryId: string): Promise<CollaborationMemberView[]> {
    const manager = this.dataSource.manager;
    const [members, catalogue] = await Promise.all([
      manager.find(CollaborationMemberEntity, {
        where: { primaryId },
        order: { invitedAt: 'ASC', id: 'ASC' },
      }),
      loadCatalogue(manager, primaryId),
    ]);
    return members.map((m) => memberView(m, catalogue));
  }

  async get({ primaryId, memberId }: Payload<'getMember'>): Promise<CollaborationMemberView> {
    const manager = this.dataSource.manager;
    const member = await manager.findOneBy(CollaborationMemberEntity, { id: memberId, primaryId });
    if (!member) throw AppError.notFound('The member');
    return memberView(member, await loadCatalogue(manager, primaryId));
  }

  async update({
    primaryId,
    memberId,
    changes,
  }: Payload<'updateMember'>): Promise<CollaborationChange<CollaborationMemberView>> {
    return this.changeMember(primaryId, memberId, (member, catalogue) => {
      if (changes.shared !== undefined) {
        this.requireRoles(changes.shared, catalogue);
        member.shared = toStored(changes.shared);
      }
      if (changes.displayName !== undefined) member.displayName = changes.displayName;
    });
  }

  async changeStatus({
    primaryId,
    memberId,
    action,
  }: Payload<'changeMemberStatus'>): Promise<CollaborationChange<CollaborationMemberView>> {
    const { from, to } = STATUS_ACTIONS[action];
    let mail: OutgoingMail | null = null;
    const change = await this.changeMember(primaryId, memberId, async (member, _catalogue, manager) => {
      if (!from.includes(member.status))
        throw new AppError('conflict', `A ${member.status} member cannot be ${DONE[action]}`);
      member.status = to;
      if (action === 'reinvite') {
        member.invitedAt = new Date();
        member.respondedAt = null;
        // A new token (the earlier one stops working), mailed again.
        const { token, secretHash } = newMailedToken(member.id);
        member.tokenHash = secretHash;
        mail = this.invitationMail(
          member.email,
          await manager.findOneBy(UserEntity, { id: primaryId }),
          token,
        );
      }
    });
    if (mail) await this.mailer.send(mail);
    return change;
  }

  /**
   * Invitations and collaborations of a user: bound to it, or addressed to its email and unbound —
   * those only once the user verified the address.
   */
  async listCollaborations(userId: string): Promise<CollaborationView[]> {
    const manager = this.dataSource.manager;
    const user = await manager.findOneBy(UserEntity, { id: userId });
    if (!user) return [];
    const query = manager
      .getRepository(CollaborationMemberEntity)
      .createQueryBuilder('m')
      .where('m.user_id = :userId', { userId });
    if (user.email && user.emailVerifiedAt)
      query.orWhere('(m.user_id IS NULL AND m.email = :email)', { email: user.email });
    const members = await query.orderBy('m.invited_at', 'ASC').addOrderBy('m.id', 'ASC').getMany();
    const primaries = await this.usernames(
      manager,
      members.map((m) => m.primaryId),
    );
    const catalogues = new Map<string, PrimaryCatalogue>();
    const views: CollaborationView[] = [];
    for (const member of members) {
      let catalogue = catalogues.get(member.primaryId);
      if (!catalogue)
        catalogues.set(member.primaryId, (catalogue = await loadCatalogue(manager, member.primaryId)));
      views.push(this.collaborationView(member, catalogue, primaries));
    }
    return views;
  }

  /**
   * Only the invited user may answer: anyone else gets not-found, as if there were no invitation;
   * a user whose email is the invited one but unverified gets 403 until it verifies the address.
   */
  async respond({
    userId,
    collaborationId,
    response,
  }: Payload<'respondToCollaboration'>): Promise<CollaborationChange<CollaborationView>> {
    return this.answer(userId, collaborationId, response);
  }

  /** Accepts the invitation a mailed token names, with the same checks as by id. */
  async acceptByToken({
    userId,
    token,
  }: Payload<'acceptCollaborationByToken'>): Promise<CollaborationChange<CollaborationView>> {
    const parsed = parseMailedToken(token);
    const member = parsed
      ? await this.dataSource.manager.findOneBy(CollaborationMemberEntity, { id: parsed.id })
      : null;
    if (!parsed || !member || !mailedTokenMatches(parsed.secret, member.tokenHash))
      throw AppError.notFound('The collaboration');
    return this.answer(userId, member.id, 'accept', member.tokenHash);
  }

  private async answer(
    userId: string,
    collaborationId: string,
    response: Response,
    /** Accepting by token: the token must still be the member's latest. */
    tokenHash?: string | null,
  ): Promise<CollaborationChange<CollaborationView>> {
    const { from, to } = RESPONSES[response];
    const change = await this.dataSource
      .transaction(async (manager) => {
        const user = await manager.findOneBy(UserEntity, { id: userId });
        const member = await manager.findOne(CollaborationMemberEntity, {
          where: { id: collaborationId },
          lock: { mode: 'pessimistic_write' },
        });
        const byEmail = !!user && !!member && member.userId === null && member.email === user.email;
        const addressedToMe = !!member && (member.userId === userId || byEmail);
        if (!member || !addressedToMe || (tokenHash !== undefined && member.tokenHash !== tokenHash))
          throw AppError.notFound('The collaboration');
        if (byEmail && !user?.emailVerifiedAt)
          throw new AppError(
            'insufficient-permissions',
            `This invitation was sent to ${member.email}: verify that address (the link mailed at sign-up, or POST /v2/auth/verify-email/resend) before answering it`,
          );
        if (!from.includes(member.status))
          throw new AppError('conflict', `A ${member.status} collaboration cannot be ${DONE[response]}`);
        member.status = to;
        member.userId = userId;
        member.respondedAt = new Date();
        const catalogue = await loadCatalogue(manager, member.primaryId);
        const affectedUserIds = await saveAndAnnounce(manager, [member], catalogue, userId);
        const primaries = await this.usernames(manager, [member.primaryId]);
        return { result: this.collaborationView(member, catalogue, primaries), affectedUserIds };
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw new AppError('conflict', 'You are already a member of this account under another invitation');
        throw err;
      });
    this.outbox.kick();
    return change;
  }

  /** The collaboration membership of a user in an account, if any (for `getMembershipFacts`). */
  async membershipFacts(accountId: string, userId: string): Promise<MembershipFacts[]> {
    const manager = this.dataSource.manager;
    const member = await manager.findOneBy(CollaborationMemberEntity, { primaryId: accountId, userId });
    if (!member) return [];
    return [memberFacts({ ...member, userId }, await loadCatalogue(manager, accountId))];
  }

  private async changeMember(
    primaryId: string,
    memberId: string,
    apply: (
      member: CollaborationMemberEntity,
      catalogue: PrimaryCatalogue,
      manager: EntityManager,
    ) => void | Promise<void>,
  ): Promise<CollaborationChange<CollaborationMemberView>> {
    const change = await this.dataSource.transaction(async (manager) => {
      const member = await manager.findOne(CollaborationMemberEntity, {
        where: { id: memberId, primaryId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!member) throw AppError.notFound('The member');
      const catalogue = await loadCatalogue(manager, primaryId);
      await apply(member, catalogue, manager);
      const affectedUserIds = await saveAndAnnounce(manager, [member], catalogue, primaryId);
      const saved = await manager.findOneByOrFail(CollaborationMemberEntity, { id: member.id });
      return { result: memberView(saved, catalogue), affectedUserIds };
    });
    this.outbox.kick();
    return change;
  }

  private invitationMail(email: string, primary: UserEntity | null, token: string): OutgoingMail {
    const base = this.config.PUBLIC_BASE_URL.replace(/\/$/, '');
    return MailMessages.collaborationInvitation(base, email, primary?.username ?? 'An Atrium account', token);
  }

  private collaborationView(
    member: CollaborationMemberEntity,
    catalogue: PrimaryCatalogue,
    usernames: Map<string, string>,
  ): CollaborationView {
    // What was shared stays the primary's business once the collaboration has ended.
    const ended = ENDED_MEMBER_STATUSES.includes(member.status);
    return {
      id: member.id,
      primaryId: member.primaryId,
      primaryUsername: usernames.get(member.primaryId) ?? null,
      status: member.status,
      displayName: member.displayName,
      shared: ended ? [] : sharedView(member.shared, catalogue),
      invitedAt: member.invitedAt.toISOString(),
      respondedAt: member.respondedAt?.toISOString() ?? null,
    };
  }

  private async usernames(manager: EntityManager, ids: string[]): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const users = await manager.findBy(UserEntity, { id: In([...new Set(ids)]) });
    return new Map(users.map((u) => [u.id, u.username]));
  }

  /** Every role of every shared item must be one of the primary's (else invalid-input naming it). */
  private requireRoles(items: SharedItem[], catalogue: PrimaryCatalogue): void {
    items.forEach((item, i) =>
      item.roleIds.forEach((roleId, j) => {
        if (!catalogue.roles.has(roleId))
          throw new AppError(
            'invalid-input',
            `Field "body.shared.${i}.roleIds.${j}" is invalid: role "${roleId}" is not one of your roles`,
          );
      }),
    );
  }
}
