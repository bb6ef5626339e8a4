import { Injectable } from '@nestjs/common';
import { ApiTokenView, AppError, CreatedApiToken, OrganizationsRpc, RpcPayload } from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, IsNull } from 'typeorm';
import { ApiTokenEntity } from '../api-tokens/api-token.entity';
import { ApiTokensService } from '../api-tokens/api-tokens.service';
import { OrganizationAccess } from './organization-access';
import { scopeBeyondRole } from './role-permissions';

/**
 * An organization's API tokens act as the organization (their account is the organization), so
 * they own what it owns. Only the Owner and members with MANAGE_ACCESS_TOKENS see or manage
 * them; they are never listed among their creator's own tokens.
 *
 * No one but the Owner mints a token beyond their own role: anyone else's must be scoped, within
 * the permissions their role gives (an unscoped token would act as the organization, with every
 * permission on every resource it owns). A token lives only as long as its creator's role covers
 * it: when the creator is removed or leaves, or its role is changed or edited so that it no
 * longer holds MANAGE_ACCESS_TOKENS or no longer gives the token's whole scope, the token is
 * revoked in the same transaction (OrganizationMembershipsService.record). The check and the
 * insert run under the organization's lock, which every membership change takes too, so neither
 * can slip between the other's check and write.
 */
@Injectable()
export class OrganizationTokensService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
    private readonly access: OrganizationAccess,
    private readonly tokens: ApiTokensService,
  ) {}

  async list(organizationId: string, userId: string): Promise<ApiTokenView[]> {
    await this.requireTokenManager(organizationId, userId);
    return this.tokens.list(organizationId);
  }

  async create(
    organizationId: string,
    userId: string,
    token: RpcPayload<typeof OrganizationsRpc.createToken>['token'],
  ): Promise<CreatedApiToken> {
    const created = await this.dataSource.transaction(async (manager) => {
      const actor = await this.access.actor(manager, organizationId, userId, { lock: true });
      this.access.require(actor, ['MANAGE_ACCESS_TOKENS'], "manage the organization's API tokens");
      if (!actor.isOwner) {
        if (!token.scope)
          throw new AppError(
            'insufficient-permissions',
            'Only the Owner can create an organization token without a scope (body.scope): give it a scope within your role',
          );
        const beyond = scopeBeyondRole(actor.permissions, token.scope);
        if (beyond.length)
          throw new AppError(
            'insufficient-permissions',
            `The token's scope (body.scope) goes beyond your role: ${beyond.join(', ')}`,
          );
      }
      return this.tokens.create(organizationId, token, { createdBy: userId, manager });
    });
    this.outbox.kick();
    return created;
  }

  /**
   * A token manager below the Owner revokes only tokens it could have minted itself (scoped
   * within its role): the Owner's unscoped tokens, or ones beyond its role, are not its to end.
   */
  async revoke(organizationId: string, userId: string, tokenId: string): Promise<{ ok: true }> {
    const actor = await this.access.actor(this.dataSource.manager, organizationId, userId);
    this.access.require(actor, ['MANAGE_ACCESS_TOKENS'], "manage the organization's API tokens");
    if (!actor.isOwner) {
      const token = await this.dataSource.manager.findOneBy(ApiTokenEntity, {
        id: tokenId,
        userId: organizationId,
        revokedAt: IsNull(),
      });
      if (!token) throw AppError.notFound('The token');
      if (!token.scope || scopeBeyondRole(actor.permissions, token.scope).length)
        throw new AppError(
          'insufficient-permissions',
          'This token reaches beyond your role: only the Owner (or a member whose role covers it) can revoke it',
        );
    }
    return this.tokens.revoke(organizationId, tokenId);
  }

  private async requireTokenManager(organizationId: string, userId: string): Promise<void> {
    const actor = await this.access.actor(this.dataSource.manager, organizationId, userId);
    this.access.require(actor, ['MANAGE_ACCESS_TOKENS'], "manage the organization's API tokens");
  }
}
