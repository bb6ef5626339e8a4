import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { createOrganizationBody, OrganizationsRpc, updateOrganizationBody } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { TokenVerifications } from '../auth/token-verifications';
import { AccessDecisions } from '../authorization/access-decisions';
import { SignedIn } from '../authorization/authorize.decorator';
import { applyMembershipChange, requireUnscoped } from './organization-caller';
import { pageOf, pathId, PageQuery, pageQuery } from '../http/small-lists';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { z } from 'zod';
import { listOf, organizationView } from '../http/views';

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
    private readonly access: AccessDecisions,
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
  @SignedIn()
  @HttpCode(201)
  @Returns(organizationView)
  async create(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(createOrganizationBody) organization: z.output<typeof createOrganizationBody>,
  ) {
    requireUnscoped(user);
    const created = await this.rpc.call(OrganizationsRpc.create, { userId: user.userId, organization });
    await this.access.refreshed('account', created.organizationId);
    await applyMembershipChange(this.rpc, this.access, this.tokens, created, user.userId);
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
    // Its general access and username decide reads of its resources from the next request.
    await this.access.refreshed('account', organizationId);
    return { data: updated };
  }

  @Delete(':orgId')
  @SignedIn()
  @HttpCode(204)
  @ReturnsNothing()
  async delete(@CurrentUser() user: UserPrincipal, @Param('orgId') orgId: string): Promise<void> {
    const organizationId = pathId(orgId, ORG);
    requireUnscoped(user);
    const deleted = await this.rpc.call(OrganizationsRpc.delete, { userId: user.userId, organizationId });
    await this.access.refreshed('account', organizationId);
    await applyMembershipChange(this.rpc, this.access, this.tokens, deleted, user.userId);
  }
}
