import { Injectable } from '@nestjs/common';
import {
  AppError,
  IssueStatus,
  IssuesRpc,
  ListPage,
  MAX_NOTIFICATION_ACTORS,
  NotificationKind,
  NotificationView,
  RpcPayload,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { DataSource, EntityManager, FindOptionsWhere, In, IsNull, Not } from 'typeorm';
import { IssueEntity } from '../issues/issue.entity';
import { IssueSubscriptionEntity } from '../subscriptions/issue-subscription.entity';
import { NotificationEntity } from './notification.entity';

function toView(n: NotificationEntity): NotificationView {
  return {
    id: n.id,
    kind: n.kind,
    issueId: n.issueId,
    actId: n.actorId,
    causedBy: n.causedBy,
    commentId: n.commentId,
    status: n.status,
    createdAt: n.createdAt.toISOString(),
    readAt: n.readAt?.toISOString() ?? null,
  };
}

@Injectable()
export class NotificationsService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inside the caller's transaction: one notification per subscriber, except whoever caused it.
   * Subscribers who can no longer read the Actor are notified too: the gateway shows a user only
   * the notifications whose Actor they may read when they list them (they may have access again
   * by then, and then every comment is theirs to read anyway).
   */
  async notifySubscribers(
    manager: EntityManager,
    issue: IssueEntity,
    kind: NotificationKind,
    causedBy: string,
    details: { commentId?: string; status?: IssueStatus },
  ): Promise<void> {
    const subscribers = await manager.findBy(IssueSubscriptionEntity, {
      issueId: issue.id,
      userId: Not(causedBy),
    });
    if (!subscribers.length) return;
    await manager.insert(
      NotificationEntity,
      subscribers.map((s) => ({
        id: newId(),
        userId: s.userId,
        kind,
        issueId: issue.id,
        actorId: issue.actorId,
        causedBy,
        commentId: details.commentId ?? null,
        status: details.status ?? null,
        readAt: null,
      })),
    );
  }

  /** The Actors of the user's notifications, those notified of most recently first. */
  async actors(req: RpcPayload<typeof IssuesRpc.listNotificationActors>): Promise<{ actorIds: string[] }> {
    const rows: { actorId: string }[] = await this.dataSource
      .getRepository(NotificationEntity)
      .createQueryBuilder('n')
      .select('n.actorId', 'actorId')
      .where('n.userId = :userId', { userId: req.userId })
      .groupBy('n.actorId')
      .orderBy('MAX(n.createdAt)', 'DESC')
      .limit(MAX_NOTIFICATION_ACTORS)
      .getRawMany();
    return { actorIds: rows.map((r) => r.actorId) };
  }

  async list(
    req: RpcPayload<typeof IssuesRpc.listNotifications>,
  ): Promise<ListPage<NotificationView> & { unreadCount: number }> {
    const { offset, limit, desc } = req.page;
    if (req.actorIds?.length === 0)
      return { total: 0, offset, limit, desc, count: 0, items: [], unreadCount: 0 };
    const repository = this.dataSource.getRepository(NotificationEntity);
    const mine: FindOptionsWhere<NotificationEntity> = req.actorIds
      ? { userId: req.userId, actorId: In(req.actorIds) }
      : { userId: req.userId };
    const unread = { ...mine, readAt: IsNull() };
    const [rows, total] = await repository.findAndCount({
      where: req.unreadOnly ? unread : mine,
      order: { createdAt: desc ? 'DESC' : 'ASC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
    const unreadCount = req.unreadOnly ? total : await repository.countBy(unread);
    return { total, offset, limit, desc, count: rows.length, items: rows.map(toView), unreadCount };
  }

  async get(req: RpcPayload<typeof IssuesRpc.getNotification>): Promise<NotificationView> {
    return toView(await this.mine(req.userId, req.notificationId));
  }

  /** Marks one of the user's own notifications read; someone else's is not found. */
  async markRead(req: RpcPayload<typeof IssuesRpc.markNotificationRead>): Promise<NotificationView> {
    const repository = this.dataSource.getRepository(NotificationEntity);
    const notification = await this.mine(req.userId, req.notificationId);
    if (!notification.readAt) {
      notification.readAt = new Date();
      await repository.update({ id: notification.id }, { readAt: notification.readAt });
    }
    return toView(notification);
  }

  private async mine(userId: string, notificationId: string): Promise<NotificationEntity> {
    const notification = await this.dataSource.manager.findOneBy(NotificationEntity, {
      id: notificationId,
      userId,
    });
    if (!notification) throw AppError.notFound('The notification');
    return notification;
  }
}
