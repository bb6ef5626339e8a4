import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { createTokenBody, OrganizationsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { TokenVerifications } from '../auth/token-verifications';
import { SignedIn } from '../authorization/authorize.decorator';
import { ChangesNoAccess } from '../authorization/access-changes';
import { requireUnscoped } from './organization-caller';
import { pageOf, pathId, PageQuery, pageQuery } from '../http/small-lists';
import { ApiOperation, Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { z } from 'zod';
import { apiTokenView, createdApiTokenView, listOf } from '../http/views';

const CREATE_DESCRIPTION = [
  'Body `{ name, expiresAt?, scope? }` (scope as on POST /v2/users/me/tokens). The token acts as',
  'the organization. Only the Owner may create one without a scope (full access); any other member',
  'with MANAGE_ACCESS_TOKENS must give a scope within its role: each account-level category',
  'permission and each resource permission held by its role for that category, and WRITE on the',
  'category of each CREATE type; otherwise 403 naming what goes beyond. The token is revoked when',
  'its creator is removed or leaves, or when its role is changed or edited so that it no longer',
  'holds MANAGE_ACCESS_TOKENS or no longer gives the whole scope.',
].join(' ');

/**
 * An organization's API tokens: they act as the organization. Only its Owner and members with
 * MANAGE_ACCESS_TOKENS see or manage them; a member below the Owner mints scoped tokens only,
 * within its role, and they live only as long as its role covers them (identity decides).
 */
@Controller('v2/organizations/:orgId/tokens')
export class OrganizationTokensController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
  ) {}

  @Get()
  @SignedIn()
  @Returns(listOf(apiTokenView))
  async list(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @ValidQuery(pageQuery) query: PageQuery,
  ) {
    const organizationId = pathId(orgId, 'The organization');
    const tokens = await this.rpc.call(OrganizationsRpc.listTokens, { userId: user.userId, organizationId });
    return { data: pageOf(tokens, query) };
  }

  @Post()
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an organization API token', description: CREATE_DESCRIPTION })
  @Returns(createdApiTokenView)
  async create(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @ValidBody(createTokenBody) token: z.output<typeof createTokenBody>,
  ) {
    const organizationId = pathId(orgId, 'The organization');
    requireUnscoped(user);
    // The scope, if any, goes through as given: identity checks it against the caller's role.
    return {
      data: await this.rpc.call(OrganizationsRpc.createToken, { userId: user.userId, organizationId, token }),
    };
  }

  @Delete(':tokenId')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(204)
  @ReturnsNothing()
  async revoke(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @Param('tokenId') tokenIdParam: string,
  ): Promise<void> {
    const organizationId = pathId(orgId, 'The organization');
    const tokenId = pathId(tokenIdParam, 'The token');
    requireUnscoped(user);
    await this.rpc.call(OrganizationsRpc.revokeToken, { userId: user.userId, organizationId, tokenId });
    await this.tokens.revoked([tokenId]);
  }
}
