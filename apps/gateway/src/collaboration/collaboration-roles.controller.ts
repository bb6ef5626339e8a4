import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  CollaborationRpc,
  createPolicyBody,
  createRoleBody,
  policyIdSchema,
  updatePolicyBody,
  updateRoleBody,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { SignedIn } from '../authorization/authorize.decorator';
import {
  AccessChangeLog,
  AccessChanges,
  ChangesAccess,
  ChangesNoAccess,
} from '../authorization/access-changes';
import { parseBody } from '../http/api-query';
import { requireCollaborationManager } from './collaboration-caller';
import { pageOf, pathId } from '../http/small-lists';

/**
 * The caller's account as a collaboration primary: its policies (system ones, fixed, and custom
 * ones) and the roles built from them. Every account can be a primary.
 */
@ApiTags('collaboration')
@Controller('v2/collaboration')
export class CollaborationRolesController {
  constructor(private readonly rpc: RpcClient) {}

  @Get('policies')
  @SignedIn()
  async listPolicies(@CurrentUser() user: UserPrincipal, @Query() query: unknown) {
    const policies = await this.rpc.call(CollaborationRpc.listPolicies, { primaryId: user.userId });
    return { data: pageOf(policies, query) };
  }

  @Post('policies')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(201)
  async createPolicy(@CurrentUser() user: UserPrincipal, @Body() body: unknown) {
    requireCollaborationManager(user);
    const policy = parseBody(createPolicyBody, body ?? {});
    return { data: await this.rpc.call(CollaborationRpc.createPolicy, { primaryId: user.userId, policy }) };
  }

  @Put('policies/:policyId')
  @ChangesAccess('membership')
  @SignedIn()
  async updatePolicy(
    @CurrentUser() user: UserPrincipal,
    @Param('policyId') policyId: string,
    @Body() body: unknown,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireCollaborationManager(user);
    pathId(policyId, 'The policy', policyIdSchema);
    const changes = parseBody(updatePolicyBody, body ?? {});
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
  async deletePolicy(@CurrentUser() user: UserPrincipal, @Param('policyId') policyId: string): Promise<void> {
    requireCollaborationManager(user);
    pathId(policyId, 'The policy', policyIdSchema);
    await this.rpc.call(CollaborationRpc.deletePolicy, { primaryId: user.userId, policyId });
  }

  @Get('roles')
  @SignedIn()
  async listRoles(@CurrentUser() user: UserPrincipal, @Query() query: unknown) {
    const roles = await this.rpc.call(CollaborationRpc.listRoles, { primaryId: user.userId });
    return { data: pageOf(roles, query) };
  }

  @Post('roles')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(201)
  async createRole(@CurrentUser() user: UserPrincipal, @Body() body: unknown) {
    requireCollaborationManager(user);
    const role = parseBody(createRoleBody, body ?? {});
    return { data: await this.rpc.call(CollaborationRpc.createRole, { primaryId: user.userId, role }) };
  }

  @Put('roles/:roleId')
  @ChangesAccess('membership')
  @SignedIn()
  async updateRole(
    @CurrentUser() user: UserPrincipal,
    @Param('roleId') roleId: string,
    @Body() body: unknown,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireCollaborationManager(user);
    pathId(roleId, 'The role');
    const changes = parseBody(updateRoleBody, body ?? {});
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
  async deleteRole(@CurrentUser() user: UserPrincipal, @Param('roleId') roleId: string): Promise<void> {
    requireCollaborationManager(user);
    pathId(roleId, 'The role');
    await this.rpc.call(CollaborationRpc.deleteRole, { primaryId: user.userId, roleId });
  }
}
