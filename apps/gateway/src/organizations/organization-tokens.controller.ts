import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { createTokenBody, OrganizationsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { TokenVerifications } from '../auth/token-verifications';
import { SignedIn } from '../authorization/authorize.decorator';
import { parseBody } from '../http/api-query';
import { pageOf, pathId, requireUnscoped } from './organization-caller';

/**
 * An organization's API tokens: they act as the organization. Only its Owner and members with
 * MANAGE_ACCESS_TOKENS see or manage them.
 */
@ApiTags('organizations')
@Controller('v2/organizations/:orgId/tokens')
export class OrganizationTokensController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
  ) {}

  @Get()
  @SignedIn()
  async list(@CurrentUser() user: UserPrincipal, @Param('orgId') orgId: string, @Query() query: unknown) {
    const organizationId = pathId(orgId, 'The organization');
    const tokens = await this.rpc.call(OrganizationsRpc.listTokens, { userId: user.userId, organizationId });
    return { data: pageOf(tokens, query) };
  }

  @Post()
  @SignedIn()
  @HttpCode(201)
  async create(@CurrentUser() user: UserPrincipal, @Param('orgId') orgId: string, @Body() body: unknown) {
    const organizationId = pathId(orgId, 'The organization');
    requireUnscoped(user);
    const token = parseBody(createTokenBody, body ?? {});
    return {
      data: await this.rpc.call(OrganizationsRpc.createToken, { userId: user.userId, organizationId, token }),
    };
  }

  @Delete(':tokenId')
  @SignedIn()
  @HttpCode(204)
  async revoke(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @Param('tokenId') tokenIdParam: string,
  ): Promise<void> {
    const organizationId = pathId(orgId, 'The organization');
    const tokenId = pathId(tokenIdParam, 'The token');
    requireUnscoped(user);
    await this.rpc.call(OrganizationsRpc.revokeToken, { userId: user.userId, organizationId, tokenId });
    this.tokens.forget(tokenId);
  }
}
