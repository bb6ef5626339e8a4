import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CollaborationRpc, CollaborationView, emailTokenBody, RpcPayload } from '@atrium/contracts';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { collaborationView, listOf } from '../http/views';
import { z } from 'zod';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { SignedIn } from '../authorization/authorize.decorator';
import { AccessChangeLog, AccessChanges, ChangesAccess } from '../authorization/access-changes';
import { pageOf, pathId, PageQuery, pageQuery } from '../http/small-lists';

type Response = RpcPayload<typeof CollaborationRpc.respondToCollaboration>['response'];

/**
 * The member's side of account collaboration: the primaries that invited me, with status and
 * what they share. Only the invited user may answer an invitation — a user who verified the
 * invited address — by its id or with the token mailed with it.
 */
@Controller('v2/collaborations')
export class CollaborationsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @SignedIn()
  @Returns(listOf(collaborationView))
  async list(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    const collaborations = await this.rpc.call(CollaborationRpc.listCollaborations, { userId: user.userId });
    return { data: pageOf(collaborations, query) };
  }

  @Post('accept')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationView)
  async acceptByToken(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(emailTokenBody, { required: true }) body: z.output<typeof emailTokenBody>,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    const { token } = body;
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.acceptCollaborationByToken, {
      userId: user.userId,
      token,
    });
    accessChanges.membership(result.primaryId, affectedUserIds);
    return { data: result };
  }

  @Post(':collaborationId/accept')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationView)
  accept(
    @CurrentUser() user: UserPrincipal,
    @Param('collaborationId') id: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    return this.respond(user, id, 'accept', accessChanges);
  }

  @Post(':collaborationId/reject')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationView)
  reject(
    @CurrentUser() user: UserPrincipal,
    @Param('collaborationId') id: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    return this.respond(user, id, 'reject', accessChanges);
  }

  /** Leaving ends all access to the primary's environments, including those the member created. */
  @Post(':collaborationId/leave')
  @ChangesAccess('membership')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationView)
  leave(
    @CurrentUser() user: UserPrincipal,
    @Param('collaborationId') id: string,
    @AccessChanges() accessChanges: AccessChangeLog,
  ) {
    return this.respond(user, id, 'leave', accessChanges);
  }

  private async respond(
    user: UserPrincipal,
    collaborationId: string,
    response: Response,
    accessChanges: AccessChangeLog,
  ): Promise<{ data: CollaborationView }> {
    pathId(collaborationId, 'The collaboration');
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.respondToCollaboration, {
      userId: user.userId,
      collaborationId,
      response,
    });
    accessChanges.membership(result.primaryId, affectedUserIds);
    return { data: result };
  }
}
