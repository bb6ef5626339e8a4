import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  CollaborationMemberView,
  CollaborationRpc,
  inviteMemberBody,
  RpcPayload,
  updateMemberBody,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { AccessDecisions } from '../authorization/access-decisions';
import { SignedIn } from '../authorization/authorize.decorator';
import { refreshMemberships, requireCollaborationManager, verifySharedItems } from './collaboration-caller';
import { pageOf, pathId, PageQuery, pageQuery } from '../http/small-lists';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { z } from 'zod';
import { collaborationMemberView, listOf } from '../http/views';

type StatusAction = RpcPayload<typeof CollaborationRpc.changeMemberStatus>['action'];

/**
 * The members of the caller's account as a collaboration primary: invited by email with shared
 * environments, groups or the whole ENVIRONMENTS category, each with roles. A change takes effect
 * on the member's very next request.
 */
@ApiTags('collaboration')
@Controller('v2/collaboration/members')
export class CollaborationMembersController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  @Get()
  @SignedIn()
  @Returns(listOf(collaborationMemberView))
  async list(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    const members = await this.rpc.call(CollaborationRpc.listMembers, { primaryId: user.userId });
    return { data: pageOf(members, query) };
  }

  @Post()
  @SignedIn()
  @HttpCode(201)
  @Returns(collaborationMemberView)
  async invite(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(inviteMemberBody) invite: z.output<typeof inviteMemberBody>,
  ) {
    requireCollaborationManager(user);
    await verifySharedItems(this.rpc, user.userId, invite.shared);
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.inviteMember, {
      primaryId: user.userId,
      invitedBy: user.userId,
      invite,
    });
    await refreshMemberships(this.access, user.userId, affectedUserIds, user.userId);
    return { data: result };
  }

  @Get(':memberId')
  @SignedIn()
  @Returns(collaborationMemberView)
  async get(@CurrentUser() user: UserPrincipal, @Param('memberId') memberId: string) {
    pathId(memberId, 'The member');
    return { data: await this.rpc.call(CollaborationRpc.getMember, { primaryId: user.userId, memberId }) };
  }

  @Put(':memberId')
  @SignedIn()
  @Returns(collaborationMemberView)
  async update(
    @CurrentUser() user: UserPrincipal,
    @Param('memberId') memberId: string,
    @ValidBody(updateMemberBody) changes: z.output<typeof updateMemberBody>,
  ) {
    requireCollaborationManager(user);
    pathId(memberId, 'The member');
    if (changes.shared) await verifySharedItems(this.rpc, user.userId, changes.shared);
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.updateMember, {
      primaryId: user.userId,
      memberId,
      changes,
    });
    await refreshMemberships(this.access, user.userId, affectedUserIds, user.userId);
    return { data: result };
  }

  /** Removes the member (status REMOVED; the record is kept, so that it can be re-invited). */
  @Delete(':memberId')
  @SignedIn()
  @Returns(collaborationMemberView)
  remove(@CurrentUser() user: UserPrincipal, @Param('memberId') memberId: string) {
    return this.changeStatus(user, memberId, 'remove');
  }

  @Post(':memberId/suspend')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationMemberView)
  suspend(@CurrentUser() user: UserPrincipal, @Param('memberId') memberId: string) {
    return this.changeStatus(user, memberId, 'suspend');
  }

  @Post(':memberId/activate')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationMemberView)
  activate(@CurrentUser() user: UserPrincipal, @Param('memberId') memberId: string) {
    return this.changeStatus(user, memberId, 'activate');
  }

  @Post(':memberId/reinvite')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationMemberView)
  reinvite(@CurrentUser() user: UserPrincipal, @Param('memberId') memberId: string) {
    return this.changeStatus(user, memberId, 'reinvite');
  }

  private async changeStatus(
    user: UserPrincipal,
    memberId: string,
    action: StatusAction,
  ): Promise<{ data: CollaborationMemberView }> {
    requireCollaborationManager(user);
    pathId(memberId, 'The member');
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.changeMemberStatus, {
      primaryId: user.userId,
      memberId,
      action,
    });
    await refreshMemberships(this.access, user.userId, affectedUserIds, user.userId);
    return { data: result };
  }
}
