import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  CollaborationMemberView,
  CollaborationRpc,
  inviteMemberBody,
  RpcPayload,
  updateMemberBody,
} from '@atrium/contracts';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { collaborationMemberView, listOf } from '../http/views';
import { z } from 'zod';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { SignedIn } from '../authorization/authorize.decorator';
import { AccessChangeLog, AccessChanges, ChangesAccess } from '../authorization/access-changes';

import { requireCollaborationManager, verifySharedItems } from './collaboration-caller';
import { pageOf, pathId, PageQuery, pageQuery } from '../http/small-lists';

type StatusAction = RpcPayload<typeof CollaborationRpc.changeMemberStatus>['action'];

/**
 * The members of the caller's account as a collaboration primary: invited by email with shared
 * environments, groups or the whole ENVIRONMENTS category, each with roles. A change takes effect
 * on the member's very next request.
 */
@Controller('v2/collaboration/members')
export class CollaborationMembersController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @SignedIn()
  @Returns(listOf(collaborationMemberView))
  async list(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    const members = await this.rpc.call(CollaborationRpc.listMembers, { primaryId: user.userId });
    return { data: pageOf(members, query) };
  }

  @Post()
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(201)
  @Returns(collaborationMemberView)
  async invite(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(inviteMemberBody) invite: z.output<typeof inviteMemberBody>,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireCollaborationManager(user);
    await verifySharedItems(this.rpc, user.userId, invite.shared);
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.inviteMember, {
      primaryId: user.userId,
      invitedBy: user.userId,
      invite,
    });
    accessChanges.membership(user.userId, affectedUserIds);
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
  @ChangesAccess('membership')
  @SignedIn()
  @Returns(collaborationMemberView)
  async update(
    @CurrentUser() user: UserPrincipal,
    @Param('memberId') memberId: string,
    @ValidBody(updateMemberBody) changes: z.output<typeof updateMemberBody>,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireCollaborationManager(user);
    pathId(memberId, 'The member');
    if (changes.shared) await verifySharedItems(this.rpc, user.userId, changes.shared);
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.updateMember, {
      primaryId: user.userId,
      memberId,
      changes,
    });
    accessChanges.membership(user.userId, affectedUserIds);
    return { data: result };
  }

  /** Removes the member (status REMOVED; the record is kept, so that it can be re-invited). */
  @Delete(':memberId')
  @ChangesAccess('membership')
  @SignedIn()
  @Returns(collaborationMemberView)
  remove(
    @CurrentUser() user: UserPrincipal,
    @Param('memberId') memberId: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    return this.changeStatus(user, memberId, 'remove', accessChanges);
  }

  @Post(':memberId/suspend')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationMemberView)
  suspend(
    @CurrentUser() user: UserPrincipal,
    @Param('memberId') memberId: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    return this.changeStatus(user, memberId, 'suspend', accessChanges);
  }

  @Post(':memberId/activate')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationMemberView)
  activate(
    @CurrentUser() user: UserPrincipal,
    @Param('memberId') memberId: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    return this.changeStatus(user, memberId, 'activate', accessChanges);
  }

  @Post(':memberId/reinvite')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationMemberView)
  reinvite(
    @CurrentUser() user: UserPrincipal,
    @Param('memberId') memberId: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    return this.changeStatus(user, memberId, 'reinvite', accessChanges);
  }

  private async changeStatus(
    user: UserPrincipal,
    memberId: string,
    action: StatusAction,
    accessChanges: AccessChangeLog,
  ): Promise<{ data: CollaborationMemberView }> {
    requireCollaborationManager(user);
    pathId(memberId, 'The member');
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.changeMemberStatus, {
      primaryId: user.userId,
      memberId,
      action,
    });
    accessChanges.membership(user.userId, affectedUserIds);
    return { data: result };
  }
}
