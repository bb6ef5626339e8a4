import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { IssuesRpc, ListPage, NotificationView, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { NotificationsService } from './notifications.service';

@Controller()
export class NotificationsMessageController {
  constructor(private readonly notifications: NotificationsService) {}

  @RpcHandler(IssuesRpc.listNotificationActors)
  actors(
    @Payload() req: RpcPayload<typeof IssuesRpc.listNotificationActors>,
  ): Promise<{ actorIds: string[] }> {
    return this.notifications.actors(req);
  }

  @RpcHandler(IssuesRpc.listNotifications)
  list(
    @Payload() req: RpcPayload<typeof IssuesRpc.listNotifications>,
  ): Promise<ListPage<NotificationView> & { unreadCount: number }> {
    return this.notifications.list(req);
  }

  @RpcHandler(IssuesRpc.getNotification)
  get(@Payload() req: RpcPayload<typeof IssuesRpc.getNotification>): Promise<NotificationView> {
    return this.notifications.get(req);
  }

  @RpcHandler(IssuesRpc.markNotificationRead)
  markRead(@Payload() req: RpcPayload<typeof IssuesRpc.markNotificationRead>): Promise<NotificationView> {
    return this.notifications.markRead(req);
  }
}
