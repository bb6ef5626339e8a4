import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { emailTokenBody, OrganizationsRpc } from '@atrium/contracts';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { invitationView, listOf } from '../http/views';
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
 * Invitations into organizations, from the invitee's side (accept — by id or with the mailed
 * token — and decline: the invitee alone, for an invitation to an address a user who verified it;
 * anyone else gets 404) and cancelled from the organization's side.
 */
@Controller('v2')
export class InvitationsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
  ) {}

  @Get('users/me/invitations')
  @SignedIn()
  @Returns(listOf(invitationView))
  async mine(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    const invitations = await this.rpc.call(OrganizationsRpc.listMyInvitations, { userId: user.userId });
    return { data: pageOf(invitations, query) };
  }

  @Post('invitations/accept')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(200)
  @Returns(invitationView)
  async acceptByToken(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(emailTokenBody, { required: true }) body: z.output<typeof emailTokenBody>,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    requireUnscoped(user);
    const { token } = body;
    const accepted = await this.rpc.call(OrganizationsRpc.acceptInvitationByToken, {
      userId: user.userId,
      token,
    });
    await applyMembershipChange(this.rpc, this.tokens, accepted, accessChanges);
    return { data: accepted.result };
  }

  @Post('invitations/:invitationId/accept')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(200)
  @Returns(invitationView)
  async accept(
    @CurrentUser() user: UserPrincipal,
    @Param('invitationId') id: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    const invitationId = pathId(id, 'The invitation');
    requireUnscoped(user);
    const accepted = await this.rpc.call(OrganizationsRpc.acceptInvitation, {
      userId: user.userId,
      invitationId,
    });
    await applyMembershipChange(this.rpc, this.tokens, accepted, accessChanges);
    return { data: accepted.result };
  }

  @Post('invitations/:invitationId/decline')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(200)
  @Returns(invitationView)
  async decline(@CurrentUser() user: UserPrincipal, @Param('invitationId') id: string) {
    const invitationId = pathId(id, 'The invitation');
    requireUnscoped(user);
    return {
      data: await this.rpc.call(OrganizationsRpc.declineInvitation, { userId: user.userId, invitationId }),
    };
  }

  @Delete('invitations/:invitationId')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(204)
  @ReturnsNothing()
  async cancel(@CurrentUser() user: UserPrincipal, @Param('invitationId') id: string): Promise<void> {
    const invitationId = pathId(id, 'The invitation');
    requireUnscoped(user);
    await this.rpc.call(OrganizationsRpc.cancelInvitation, { userId: user.userId, invitationId });
  }
}
