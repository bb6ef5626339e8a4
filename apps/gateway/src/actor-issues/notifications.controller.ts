import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { AppError, ID_PATTERN, IssuesRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, principalRef, UserPrincipal } from '../auth/principal';
import { AccessDecisions } from '../authorization/access-decisions';
import { SignedIn } from '../authorization/authorize.decorator';
import { paginationQuery, queryBoolean } from '../http/api-query';
import { ChangesNoAccess } from '../authorization/access-changes';
import { decideEach } from '../http/ownership-listing';
import { Returns, ValidQuery } from '../http/validated';
import { listOf, notificationView } from '../http/views';

const listQuery = z.object({ ...paginationQuery, unread: queryBoolean.optional() });

/**
 * The signed-in user's notifications: new comments and status changes on issues they subscribe
 * to. Only those about an issue the user may read now are shown or acted on — READ on its Actor,
 * decided (and narrowed by the credential) as `GET /v2/actor-issues/:id` decides it: a subscriber
 * who lost access sees none of them, not even as a count, and they show again if access returns.
 */
@Controller('v2/users/me/notifications')
export class NotificationsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  /** Newest first; `?unread=1` lists unread ones only; `unreadCount` counts them either way. */
  @Get()
  @SignedIn()
  @Returns(listOf(notificationView))
  async list(@CurrentUser() user: UserPrincipal, @ValidQuery(listQuery) q: z.output<typeof listQuery>) {
    const page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: q.desc ?? true };
    const { actorIds } = await this.rpc.call(IssuesRpc.listNotificationActors, { userId: user.userId });
    const actors = actorIds.map((id) => ({ id }));
    const readable = await decideEach(this.access, principalRef(user), 'ACTOR', actors, null);
    return {
      data: await this.rpc.call(IssuesRpc.listNotifications, {
        userId: user.userId,
        unreadOnly: q.unread ?? false,
        page,
        actorIds: readable.map(({ view }) => view.id),
      }),
    };
  }

  @Post(':notificationId/read')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(200)
  @Returns(notificationView)
  async markRead(@CurrentUser() user: UserPrincipal, @Param('notificationId') notificationId: string) {
    if (!ID_PATTERN.test(notificationId)) throw AppError.notFound('The notification');
    const notification = await this.rpc.call(IssuesRpc.getNotification, {
      userId: user.userId,
      notificationId,
    });
    const actor = await this.access.check(principalRef(user), 'ACTOR', notification.actId, 'READ');
    if (!actor.canRead) throw AppError.notFound('The notification');
    return {
      data: await this.rpc.call(IssuesRpc.markNotificationRead, { userId: user.userId, notificationId }),
    };
  }
}
