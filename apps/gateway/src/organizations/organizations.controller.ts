import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { createOrganizationBody, OrganizationsRpc, updateOrganizationBody } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { TokenVerifications } from '../auth/token-verifications';
import { SignedIn } from '../authorization/authorize.decorator';
import { AccessChangeLog, AccessChanges, ChangesAccess } from '../authorization/access-changes';
import { parseBody } from '../http/api-query';
import { applyMembershipChange, requireUnscoped } from './organization-caller';
import { pageOf, pathId } from '../http/small-lists';

const ORG = 'The organization';

/**
 * Organizations (Apify): accounts whose members act in them with a role. Identity checks the
 * caller's organization permissions; a non-member gets 404.
 */
@ApiTags('organizations')
@Controller('v2/organizations')
export class OrganizationsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
  ) {}

  @Get()
  @SignedIn()
  async list(@CurrentUser() user: UserPrincipal, @Query() query: unknown) {
    const organizations = await this.rpc.call(OrganizationsRpc.list, { userId: user.userId });
    return { data: pageOf(organizations, query) };
  }

  @Post()
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(201)
  async create(
    @CurrentUser() user: UserPrincipal,
    @Body() body: unknown,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireUnscoped(user);
    const organization = parseBody(createOrganizationBody, body ?? {});
    const created = await this.rpc.call(OrganizationsRpc.create, { userId: user.userId, organization });
    accessChanges.account(created.organizationId);
    await applyMembershipChange(this.rpc, this.tokens, created, accessChanges);
    return { data: created.result };
  }

  @Get(':orgId')
  @SignedIn()
  async get(@CurrentUser() user: UserPrincipal, @Param('orgId') orgId: string) {
    const organizationId = pathId(orgId, ORG);
    return { data: await this.rpc.call(OrganizationsRpc.get, { userId: user.userId, organizationId }) };
  }

  @Put(':orgId')
  @ChangesAccess('account', { param: 'orgId' })
  @SignedIn()
  async update(@CurrentUser() user: UserPrincipal, @Param('orgId') orgId: string, @Body() body: unknown) {
    const organizationId = pathId(orgId, ORG);
    requireUnscoped(user);
    const changes = parseBody(updateOrganizationBody, body ?? {});
    const updated = await this.rpc.call(OrganizationsRpc.update, {
      userId: user.userId,
      organizationId,
      changes,
    });
    return { data: updated };
  }

  @Delete(':orgId')
  @ChangesAccess('account', { param: 'orgId' })
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(204)
  async delete(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ): Promise<void> {
    const organizationId = pathId(orgId, ORG);
    requireUnscoped(user);
    const deleted = await this.rpc.call(OrganizationsRpc.delete, { userId: user.userId, organizationId });
    await applyMembershipChange(this.rpc, this.tokens, deleted, accessChanges);
  }
}
