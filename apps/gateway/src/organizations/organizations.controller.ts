import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { createOrganizationBody, OrganizationsRpc, updateOrganizationBody } from '@atrium/contracts';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { listOf, organizationView } from '../http/views';
import { z } from 'zod';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { TokenVerifications } from '../auth/token-verifications';
import { SignedIn } from '../authorization/authorize.decorator';
import { AccessChangeLog, AccessChanges, ChangesAccess } from '../authorization/access-changes';

import { applyMembershipChange, requireUnscoped } from './organization-caller';
import { pageOf, pathId, PageQuery, pageQuery } from '../http/small-lists';

const ORG = 'The organization';

/**
 * Organizations (Apify): accounts whose members act in them with a role. Identity checks the
 * caller's organization permissions; a non-member gets 404.
 */
@Controller('v2/organizations')
export class OrganizationsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
  ) {}

  @Get()
  @SignedIn()
  @Returns(listOf(organizationView))
  async list(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    const organizations = await this.rpc.call(OrganizationsRpc.list, { userId: user.userId });
    return { data: pageOf(organizations, query) };
  }

  @Post()
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(201)
  @Returns(organizationView)
  async create(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(createOrganizationBody) organization: z.output<typeof createOrganizationBody>,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireUnscoped(user);
    const created = await this.rpc.call(OrganizationsRpc.create, { userId: user.userId, organization });
    accessChanges.account(created.organizationId);
    await applyMembershipChange(this.rpc, this.tokens, created, accessChanges);
    return { data: created.result };
  }

  @Get(':orgId')
  @SignedIn()
  @Returns(organizationView)
  async get(@CurrentUser() user: UserPrincipal, @Param('orgId') orgId: string) {
    const organizationId = pathId(orgId, ORG);
    return { data: await this.rpc.call(OrganizationsRpc.get, { userId: user.userId, organizationId }) };
  }

  @Put(':orgId')
  @ChangesAccess('account', { param: 'orgId' })
  @SignedIn()
  @Returns(organizationView)
  async update(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @ValidBody(updateOrganizationBody) changes: z.output<typeof updateOrganizationBody>,
  ) {
    const organizationId = pathId(orgId, ORG);
    requireUnscoped(user);
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
  @ReturnsNothing()
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
