import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  createOrganizationInvitationBody,
  createOrganizationRoleBody,
  OrganizationsRpc,
  updateOrganizationMemberBody,
  updateOrganizationRoleBody,
} from '@atrium/contracts';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { invitationView, listOf, organizationMemberView, organizationRoleView } from '../http/views';
import { z } from 'zod';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { TokenVerifications } from '../auth/token-verifications';
import { SignedIn } from '../authorization/authorize.decorator';
import {
  AccessChangeLog,
  AccessChanges,
  ChangesAccess,
  ChangesNoAccess,
} from '../authorization/access-changes';

import { applyMembershipChange, requireUnscoped } from './organization-caller';
import { pageOf, pathId, PageQuery, pageQuery } from '../http/small-lists';

/**
 * An organization's roles, members and invitations. Every change of what a member may do is
 * re-read into the permissions service before the response: it applies from the next request.
 * So do the revocations it causes: changing a member's role, editing a role, or removing a member
 * (or leaving) revokes the organization tokens that member created which its role no longer
 * covers — all of them when it is removed or leaves — and, when the member could reach the
 * signing keys of the organization's storages (STORAGE WRITE or MANAGE_ACCESS) and no longer
 * can, rotates them all. A role is deleted only when nobody holds it: that takes nothing away.
 */
@Controller('v2/organizations/:orgId')
export class OrganizationMembersController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
  ) {}

  @Get('roles')
  @SignedIn()
  @Returns(listOf(organizationRoleView))
  async listRoles(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @ValidQuery(pageQuery) query: PageQuery,
  ) {
    const organizationId = pathId(orgId, 'The organization');
    const roles = await this.rpc.call(OrganizationsRpc.listRoles, { userId: user.userId, organizationId });
    return { data: pageOf(roles, query) };
  }

  @Post('roles')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(201)
  @Returns(organizationRoleView)
  async createRole(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @ValidBody(createOrganizationRoleBody) role: z.output<typeof createOrganizationRoleBody>,
  ) {
    const organizationId = pathId(orgId, 'The organization');
    requireUnscoped(user);
    return {
      data: await this.rpc.call(OrganizationsRpc.createRole, { userId: user.userId, organizationId, role }),
    };
  }

  @Put('roles/:roleId')
  @ChangesAccess('membership')
  @SignedIn()
  @Returns(organizationRoleView)
  async updateRole(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @Param('roleId') roleIdParam: string,
    @ValidBody(updateOrganizationRoleBody) changes: z.output<typeof updateOrganizationRoleBody>,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    const organizationId = pathId(orgId, 'The organization');
    const roleId = pathId(roleIdParam, 'The role');
    requireUnscoped(user);
    const updated = await this.rpc.call(OrganizationsRpc.updateRole, {
      userId: user.userId,
      organizationId,
      roleId,
      changes,
    });
    await applyMembershipChange(this.rpc, this.tokens, updated, accessChanges);
    return { data: updated.result };
  }

  @Delete('roles/:roleId')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(204)
  @ReturnsNothing()
  async deleteRole(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @Param('roleId') roleIdParam: string,
  ): Promise<void> {
    const organizationId = pathId(orgId, 'The organization');
    const roleId = pathId(roleIdParam, 'The role');
    requireUnscoped(user);
    await this.rpc.call(OrganizationsRpc.deleteRole, { userId: user.userId, organizationId, roleId });
  }

  @Get('members')
  @SignedIn()
  @Returns(listOf(organizationMemberView))
  async listMembers(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @ValidQuery(pageQuery) query: PageQuery,
  ) {
    const organizationId = pathId(orgId, 'The organization');
    const members = await this.rpc.call(OrganizationsRpc.listMembers, {
      userId: user.userId,
      organizationId,
    });
    return { data: pageOf(members, query) };
  }

  @Put('members/:userId')
  @ChangesAccess('membership')
  @SignedIn()
  @Returns(organizationMemberView)
  async updateMember(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @Param('userId') userIdParam: string,
    @ValidBody(updateOrganizationMemberBody) changes: z.output<typeof updateOrganizationMemberBody>,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    const organizationId = pathId(orgId, 'The organization');
    const memberId = pathId(userIdParam, 'The member');
    requireUnscoped(user);
    const updated = await this.rpc.call(OrganizationsRpc.updateMember, {
      userId: user.userId,
      organizationId,
      memberId,
      changes,
    });
    await applyMembershipChange(this.rpc, this.tokens, updated, accessChanges);
    return { data: updated.result };
  }

  /** Removes a member; a member removing itself leaves. */
  @Delete('members/:userId')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(204)
  @ReturnsNothing()
  async removeMember(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @Param('userId') userIdParam: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ): Promise<void> {
    const organizationId = pathId(orgId, 'The organization');
    const memberId = pathId(userIdParam, 'The member');
    requireUnscoped(user);
    const removed = await this.rpc.call(OrganizationsRpc.removeMember, {
      userId: user.userId,
      organizationId,
      memberId,
    });
    await applyMembershipChange(this.rpc, this.tokens, removed, accessChanges);
  }

  @Get('invitations')
  @SignedIn()
  @Returns(listOf(invitationView))
  async listInvitations(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @ValidQuery(pageQuery) query: PageQuery,
  ) {
    const organizationId = pathId(orgId, 'The organization');
    const invitations = await this.rpc.call(OrganizationsRpc.listInvitations, {
      userId: user.userId,
      organizationId,
    });
    return { data: pageOf(invitations, query) };
  }

  @Post('invitations')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(201)
  @Returns(invitationView)
  async invite(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @ValidBody(createOrganizationInvitationBody)
    invitation: z.output<typeof createOrganizationInvitationBody>,
  ) {
    const organizationId = pathId(orgId, 'The organization');
    requireUnscoped(user);
    return {
      data: await this.rpc.call(OrganizationsRpc.createInvitation, {
        userId: user.userId,
        organizationId,
        invitation,
      }),
    };
  }
}
