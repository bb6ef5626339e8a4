import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import {
  AppError,
  DEFAULT_ACCOUNT_GENERAL_ACCESS,
  Events,
  MAX_OWNED_ORGANIZATIONS,
  MembershipChange,
  OrganizationView,
  RpcPayload,
  OrganizationsRpc,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, In, IsNull } from 'typeorm';
import { toAccountFacts } from '../accounts/accounts.service';
import { UserEntity } from '../accounts/user.entity';
import { ApiTokenEntity } from '../api-tokens/api-token.entity';
import { OrganizationMemberEntity } from '../memberships/organization-member.entity';
import { OrganizationMembershipsService } from '../memberships/organization-memberships.service';
import { OrganizationAccess } from './organization-access';
import { OrganizationInvitationEntity } from './organization-invitation.entity';
import { OrganizationRoleEntity } from './organization-role.entity';
import { revokeTokens } from './organization-token-revocations';
import { toOrganizationView } from './organization-views';
import { OrganizationEntity } from './organization.entity';
import { BUILT_IN_ROLES } from './role-permissions';
import { declareStorageKeyRotation } from './organization-storage-keys';

function usernameTaken(err: unknown): never {
  if (isUniqueViolation(err))
    throw new AppError('conflict', 'That username is already taken by a user or an organization');
  throw err;
}

/** Organizations (Apify): accounts owned by the user who created them, whose members act in them. */
@Injectable()
export class OrganizationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
    private readonly access: OrganizationAccess,
    private readonly memberships: OrganizationMembershipsService,
  ) {}

  /** The caller becomes the Owner; the organization starts with the four built-in roles. */
  async create(
    userId: string,
    { username }: RpcPayload<typeof OrganizationsRpc.create>['organization'],
  ): Promise<MembershipChange<OrganizationView>> {
    const view = await this.dataSource
      .transaction(async (manager) => {
        // Locking the creator serializes their creations, so the limit holds under concurrency.
        const creator = await manager.findOne(UserEntity, {
          where: { id: userId },
          lock: { mode: 'pessimistic_write' },
        });
        if (!creator) throw AppError.notFound('The user');
        if (creator.kind !== 'USER')
          throw new AppError('insufficient-permissions', 'An organization cannot create organizations');
        const owned = await manager.countBy(OrganizationEntity, { ownerId: userId, deletedAt: IsNull() });
        if (owned >= MAX_OWNED_ORGANIZATIONS) {
          throw new AppError(
            'quota-exceeded',
            `You already own ${owned} organizations, the most one user may own is ${MAX_OWNED_ORGANIZATIONS}`,
          );
        }
        const id = newId();
        await manager.insert(UserEntity, {
          id,
          kind: 'ORGANIZATION',
          username,
          usernameLower: username.toLowerCase(),
          email: null,
          passwordHash: null,
          generalResourceAccess: DEFAULT_ACCOUNT_GENERAL_ACCESS,
          shareRunsWithPublicActorCreators: false,
          version: 1,
        });
        await manager.insert(OrganizationEntity, { id, ownerId: userId, deletedAt: null });
        const roleIds = BUILT_IN_ROLES.map(() => newId());
        await manager.insert(
          OrganizationRoleEntity,
          BUILT_IN_ROLES.map((r, i) => ({
            id: roleIds[i],
            organizationId: id,
            name: r.name,
            nameLower: r.name.toLowerCase(),
            builtIn: r.builtIn,
            permissions: r.permissions,
          })),
        );
        const account = await manager.findOneByOrFail(UserEntity, { id });
        const organization = await manager.findOneByOrFail(OrganizationEntity, { id });
        const ownerRole = await manager.findOneByOrFail(OrganizationRoleEntity, { id: roleIds[0] });
        await addToOutbox(manager, Events.accountCreated, toAccountFacts(account));
        await this.memberships.record(
          manager,
          manager.create(OrganizationMemberEntity, {
            organizationId: id,
            userId,
            roleId: ownerRole.id,
            active: true,
            joinedAt: new Date(),
          }),
          ownerRole,
          userId,
        );
        return toOrganizationView(organization, account, ownerRole);
      })
      .catch(usernameTaken);
    this.outbox.kick();
    return {
      result: view,
      organizationId: view.id,
      affectedUserIds: [userId],
      revokedTokenIds: [],
      signingKeyRotation: null,
    };
  }

  /** The organizations the caller is a member of, with the caller's role in each. */
  async list(userId: string): Promise<OrganizationView[]> {
    const manager = this.dataSource.manager;
    const members = await manager.findBy(OrganizationMemberEntity, { userId, active: true });
    if (!members.length) return [];
    const ids = members.map((m) => m.organizationId);
    const [organizations, accounts, roles] = await Promise.all([
      manager.findBy(OrganizationEntity, { id: In(ids), deletedAt: IsNull() }),
      manager.findBy(UserEntity, { id: In(ids) }),
      manager.findBy(OrganizationRoleEntity, { id: In(members.map((m) => m.roleId)) }),
    ]);
    const accountById = new Map(accounts.map((a) => [a.id, a]));
    const roleById = new Map(roles.map((r) => [r.id, r]));
    const roleOf = new Map(members.map((m) => [m.organizationId, roleById.get(m.roleId)]));
    return organizations
      .flatMap((o) => {
        const account = accountById.get(o.id);
        const role = roleOf.get(o.id);
        return account && role ? [toOrganizationView(o, account, role)] : [];
      })
      .sort((a, b) => a.username.localeCompare(b.username));
  }

  async get(organizationId: string, userId: string): Promise<OrganizationView> {
    const actor = await this.access.actor(this.dataSource.manager, organizationId, userId);
    return toOrganizationView(actor.organization, actor.account, actor.role);
  }

  /** Profile (username: UPDATE_PROFILE or MANAGE_ORGANIZATION) and settings (MANAGE_ORGANIZATION). */
  async update(
    organizationId: string,
    userId: string,
    changes: RpcPayload<typeof OrganizationsRpc.update>['changes'],
  ): Promise<OrganizationView> {
    const view = await this.dataSource
      .transaction(async (manager) => {
        const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
        if (changes.username !== undefined)
          this.access.require(
            actor,
            ['UPDATE_PROFILE', 'MANAGE_ORGANIZATION'],
            "change the organization's profile",
          );
        if (changes.settings && Object.keys(changes.settings).length)
          this.access.require(actor, ['MANAGE_ORGANIZATION'], "change the organization's settings");
        const account = actor.account;
        if (changes.username !== undefined) {
          account.username = changes.username;
          account.usernameLower = changes.username.toLowerCase();
        }
        Object.assign(account, changes.settings ?? {});
        account.version += 1;
        await manager.save(UserEntity, account);
        await addToOutbox(manager, Events.accountUpdated, toAccountFacts(account));
        return toOrganizationView(actor.organization, account, actor.role);
      })
      .catch(usernameTaken);
    this.outbox.kick();
    return view;
  }

  /**
   * Owner only. Every member loses access, pending invitations are cancelled and the
   * organization's API tokens revoked; its account becomes RESTRICTED, and its username stays
   * reserved so that no one else's account answers to it.
   */
  async delete(
    organizationId: string,
    userId: string,
  ): Promise<MembershipChange<{ ok: true; revokedTokenIds: string[] }>> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
      if (!actor.isOwner)
        throw new AppError('insufficient-permissions', 'Only the Owner can delete the organization');
      await manager.update(OrganizationEntity, { id: organizationId }, { deletedAt: new Date() });
      const members = await manager.findBy(OrganizationMemberEntity, { organizationId, active: true });
      const revokedTokenIds: string[] = [];
      let lostStorageKeys = false;
      // Each member's leaving revokes the tokens it created; the rest are revoked below.
      for (const member of members) {
        const left = await this.memberships.record(manager, { ...member, active: false }, null, userId);
        revokedTokenIds.push(...left.revokedTokenIds);
        lostStorageKeys ||= left.lostStorageKeys;
      }
      await manager.update(
        OrganizationInvitationEntity,
        { organizationId, status: 'PENDING' },
        { status: 'CANCELLED', respondedAt: new Date() },
      );
      const tokens = await manager.findBy(ApiTokenEntity, { userId: organizationId, revokedAt: IsNull() });
      revokedTokenIds.push(...(await revokeTokens(manager, tokens)));
      const account = actor.account;
      account.generalResourceAccess = 'RESTRICTED';
      account.shareRunsWithPublicActorCreators = false;
      account.version += 1;
      await manager.save(UserEntity, account);
      await addToOutbox(manager, Events.accountUpdated, toAccountFacts(account));
      return {
        affectedUserIds: members.map((m) => m.userId),
        revokedTokenIds,
        // The storages stay (the account is kept, RESTRICTED): no former member keeps their keys.
        rotation: lostStorageKeys ? await declareStorageKeyRotation(manager, organizationId) : null,
      };
    });
    this.outbox.kick();
    return {
      result: { ok: true, revokedTokenIds: outcome.revokedTokenIds },
      organizationId,
      affectedUserIds: outcome.affectedUserIds,
      revokedTokenIds: outcome.revokedTokenIds,
      signingKeyRotation: outcome.rotation,
    };
  }
}
