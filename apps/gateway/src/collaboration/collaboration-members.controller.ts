import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
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
import { SignedIn } from '../authorization/authorize.decorator';
import { AccessChangeLog, AccessChanges, ChangesAccess } from '../authorization/access-changes';
import { parseBody } from '../http/api-query';
import { requireCollaborationManager, verifySharedItems } from './collaboration-caller';
import { pageOf, pathId } from '../http/small-lists';

type StatusAction = RpcPayload<typeof CollaborationRpc.changeMemberStatus>['action'];

/**
 * The members of the caller's account as a collaboration primary: invited by email with shared
 * environments, groups or the whole ENVIRONMENTS category, each with roles. A change takes effect
 * on the member's very next request.
 */
@ApiTags('collaboration')
@Controller('v2/collaboration/members')
export class CollaborationMembersController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @SignedIn()
  async list(@CurrentUser() user: UserPrincipal, @Query() query: unknown) {
    const members = await this.rpc.call(CollaborationRpc.listMembers, { primaryId: user.userId });
    return { data: pageOf(members, query) };
  }

  @Post()
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(201)
  async invite(
    @CurrentUser() user: UserPrincipal,
    @Body() body: unknown,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireCollaborationManager(user);
    const invite = parseBody(inviteMemberBody, body ?? {});
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
  async get(@CurrentUser() user: UserPrincipal, @Param('memberId') memberId: string) {
    pathId(memberId, 'The member');
    return { data: await this.rpc.call(CollaborationRpc.getMember, { primaryId: user.userId, memberId }) };
  }

  @Put(':memberId')
  @ChangesAccess('membership')
  @SignedIn()
  async update(
    @CurrentUser() user: UserPrincipal,
    @Param('memberId') memberId: string,
    @Body() body: unknown,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireCollaborationManager(user);
    pathId(memberId, 'The member');
    const changes = parseBody(updateMemberBody, body ?? {});
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
