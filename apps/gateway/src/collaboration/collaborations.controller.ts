import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CollaborationRpc, CollaborationView, emailTokenBody, RpcPayload } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { AccessDecisions } from '../authorization/access-decisions';
import { SignedIn } from '../authorization/authorize.decorator';
import { refreshMemberships } from './collaboration-caller';
import { pageOf, pathId, PageQuery, pageQuery } from '../http/small-lists';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { z } from 'zod';
import { collaborationView, listOf } from '../http/views';

type Response = RpcPayload<typeof CollaborationRpc.respondToCollaboration>['response'];

/**
 * The member's side of account collaboration: the primaries that invited me, with status and
 * what they share. Only the invited user may answer an invitation — a user who verified the
 * invited address — by its id or with the token mailed with it.
 */
@ApiTags('collaboration')
@Controller('v2/collaborations')
export class CollaborationsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  @Get()
  @SignedIn()
  @Returns(listOf(collaborationView))
  async list(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    const collaborations = await this.rpc.call(CollaborationRpc.listCollaborations, { userId: user.userId });
    return { data: pageOf(collaborations, query) };
  }

  @Post('accept')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationView)
  async acceptByToken(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(emailTokenBody, { required: true }) body: z.output<typeof emailTokenBody>,
  ) {
    const { token } = body;
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.acceptCollaborationByToken, {
      userId: user.userId,
      token,
    });
    await refreshMemberships(this.access, result.primaryId, affectedUserIds, user.userId);
    return { data: result };
  }

  @Post(':collaborationId/accept')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationView)
  accept(@CurrentUser() user: UserPrincipal, @Param('collaborationId') id: string) {
    return this.respond(user, id, 'accept');
  }

  @Post(':collaborationId/reject')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationView)
  reject(@CurrentUser() user: UserPrincipal, @Param('collaborationId') id: string) {
    return this.respond(user, id, 'reject');
  }

  /** Leaving ends all access to the primary's environments, including those the member created. */
  @Post(':collaborationId/leave')
  @SignedIn()
  @HttpCode(200)
  @Returns(collaborationView)
  leave(@CurrentUser() user: UserPrincipal, @Param('collaborationId') id: string) {
    return this.respond(user, id, 'leave');
  }

  private async respond(
    user: UserPrincipal,
    collaborationId: string,
    response: Response,
  ): Promise<{ data: CollaborationView }> {
    pathId(collaborationId, 'The collaboration');
    const { result, affectedUserIds } = await this.rpc.call(CollaborationRpc.respondToCollaboration, {
      userId: user.userId,
      collaborationId,
      response,
    });
    await refreshMemberships(this.access, result.primaryId, affectedUserIds, user.userId);
    return { data: result };
  }
}
