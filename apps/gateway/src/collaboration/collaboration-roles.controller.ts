import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  CollaborationRpc,
  createPolicyBody,
  createRoleBody,
  policyIdSchema,
  updatePolicyBody,
  updateRoleBody,
} from '@atrium/contracts';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { collaborationPolicyView, collaborationRoleView, listOf } from '../http/views';
import { z } from 'zod';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { SignedIn } from '../authorization/authorize.decorator';
import {
  AccessChangeLog,
  AccessChanges,
  ChangesAccess,
  ChangesNoAccess,
} from '../authorization/access-changes';

import { requireCollaborationManager } from './collaboration-caller';
import { pageOf, pathId, PageQuery, pageQuery } from '../http/small-lists';

/**
 * The caller's account as a collaboration primary: its policies (system ones, fixed, and custom
 * ones) and the roles built from them. Every account can be a primary.
 */
@Controller('v2/collaboration')
export class CollaborationRolesController {
  constructor(private readonly rpc: RpcClient) {}

  @Get('policies')
  @SignedIn()
  @Returns(listOf(collaborationPolicyView))
  async listPolicies(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    const policies = await this.rpc.call(CollaborationRpc.listPolicies, { primaryId: user.userId });
    return { data: pageOf(policies, query) };
  }

  @Post('policies')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(201)
  @Returns(collaborationPolicyView)
  async createPolicy(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(createPolicyBody) policy: z.output<typeof createPolicyBody>,
  ) {
    requireCollaborationManager(user);
    return { data: await this.rpc.call(CollaborationRpc.createPolicy, { primaryId: user.userId, policy }) };
  }

  @Put('policies/:policyId')
  @ChangesAccess('membership')
  @SignedIn()
  @Returns(collaborationPolicyView)
  async updatePolicy(
    @CurrentUser() user: UserPrincipal,
    @Param('policyId') policyId: string,
    @ValidBody(updatePolicyBody) changes: z.output<typeof updatePolicyBody>,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireCollaborationManager(user);
    pathId(policyId, 'The policy', policyIdSchema);
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.updatePolicy, {
      primaryId: user.userId,
      policyId,
      changes,
    });
    accessChanges.membership(user.userId, affectedUserIds);
    return { data: result };
  }

  @Delete('policies/:policyId')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(204)
  @ReturnsNothing()
  async deletePolicy(@CurrentUser() user: UserPrincipal, @Param('policyId') policyId: string): Promise<void> {
    requireCollaborationManager(user);
    pathId(policyId, 'The policy', policyIdSchema);
    await this.rpc.call(CollaborationRpc.deletePolicy, { primaryId: user.userId, policyId });
  }

  @Get('roles')
  @SignedIn()
  @Returns(listOf(collaborationRoleView))
  async listRoles(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    const roles = await this.rpc.call(CollaborationRpc.listRoles, { primaryId: user.userId });
    return { data: pageOf(roles, query) };
  }

  @Post('roles')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(201)
  @Returns(collaborationRoleView)
  async createRole(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(createRoleBody) role: z.output<typeof createRoleBody>,
  ) {
    requireCollaborationManager(user);
    return { data: await this.rpc.call(CollaborationRpc.createRole, { primaryId: user.userId, role }) };
  }

  @Put('roles/:roleId')
  @ChangesAccess('membership')
  @SignedIn()
  @Returns(collaborationRoleView)
  async updateRole(
    @CurrentUser() user: UserPrincipal,
    @Param('roleId') roleId: string,
    @ValidBody(updateRoleBody) changes: z.output<typeof updateRoleBody>,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireCollaborationManager(user);
    pathId(roleId, 'The role');
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.updateRole, {
      primaryId: user.userId,
      roleId,
      changes,
    });
    accessChanges.membership(user.userId, affectedUserIds);
    return { data: result };
  }

  @Delete('roles/:roleId')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(204)
  @ReturnsNothing()
  async deleteRole(@CurrentUser() user: UserPrincipal, @Param('roleId') roleId: string): Promise<void> {
    requireCollaborationManager(user);
    pathId(roleId, 'The role');
    await this.rpc.call(CollaborationRpc.deleteRole, { primaryId: user.userId, roleId });
  }
}
