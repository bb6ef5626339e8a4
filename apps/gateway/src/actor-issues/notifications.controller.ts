import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AppError, ID_PATTERN, IssuesRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { SignedIn } from '../authorization/authorize.decorator';
import { paginationQuery, parseQuery, queryBoolean } from '../http/api-query';

const listQuery = z.object({ ...paginationQuery, unread: queryBoolean.optional() });

/** The signed-in user's notifications: new comments and status changes on issues they subscribe to. */
@ApiTags('actor-issues')
@Controller('v2/users/me/notifications')
export class NotificationsController {
  constructor(private readonly rpc: RpcClient) {}

  /** Newest first; `?unread=1` lists unread ones only; `unreadCount` counts them either way. */
  @Get()
  @SignedIn()
  async list(@CurrentUser() user: UserPrincipal, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: q.desc ?? true };
    return {
      data: await this.rpc.call(IssuesRpc.listNotifications, {
        userId: user.userId,
        unreadOnly: q.unread ?? false,
        page,
      }),
    };
  }

  @Post(':notificationId/read')
  @SignedIn()
  @HttpCode(200)
  async markRead(@CurrentUser() user: UserPrincipal, @Param('notificationId') notificationId: string) {
    if (!ID_PATTERN.test(notificationId)) throw AppError.notFound('The notification');
    return {
      data: await this.rpc.call(IssuesRpc.markNotificationRead, { userId: user.userId, notificationId }),
    };
  }
}
