import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { IssuesRpc, ListPage, NotificationView, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { NotificationsService } from './notifications.service';

@Controller()
export class NotificationsMessageController {
  constructor(private readonly notifications: NotificationsService) {}

  @RpcHandler(IssuesRpc.listNotifications)
  list(
    @Payload() req: RpcPayload<typeof IssuesRpc.listNotifications>,
  ): Promise<ListPage<NotificationView> & { unreadCount: number }> {
    return this.notifications.list(req);
  }

  @RpcHandler(IssuesRpc.markNotificationRead)
  markRead(@Payload() req: RpcPayload<typeof IssuesRpc.markNotificationRead>): Promise<NotificationView> {
    return this.notifications.markRead(req);
  }
}
