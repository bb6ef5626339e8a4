import { Injectable } from '@nestjs/common';
import { ApiTokenView, CreatedApiToken, OrganizationsRpc, RpcPayload } from '@atrium/contracts';
import { DataSource } from 'typeorm';
import { ApiTokensService } from '../api-tokens/api-tokens.service';
import { OrganizationAccess } from './organization-access';

/**
 * An organization's API tokens act as the organization (their account is the organization), so
 * they own what it owns. Only the Owner and members with MANAGE_ACCESS_TOKENS see or manage
 * them; they are never listed among their creator's own tokens.
 */
@Injectable()
export class OrganizationTokensService {
  constructor(
    private readonly dataSource: DataSource,
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
    await this.requireTokenManager(organizationId, userId);
    return this.tokens.create(organizationId, token, { createdBy: userId });
  }

  async revoke(organizationId: string, userId: string, tokenId: string): Promise<{ ok: true }> {
    await this.requireTokenManager(organizationId, userId);
    return this.tokens.revoke(organizationId, tokenId);
  }

  private async requireTokenManager(organizationId: string, userId: string): Promise<void> {
    const actor = await this.access.actor(this.dataSource.manager, organizationId, userId);
    this.access.require(actor, ['MANAGE_ACCESS_TOKENS'], "manage the organization's API tokens");
  }
}
