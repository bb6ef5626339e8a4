import { Injectable } from '@nestjs/common';
import {
  AppError,
  IssueStatus,
  IssuesRpc,
  ListPage,
  NotificationKind,
  NotificationView,
  RpcPayload,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { DataSource, EntityManager, IsNull, Not } from 'typeorm';
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

  /** Inside the caller's transaction: one notification per subscriber, except whoever caused it. */
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

  async list(
    req: RpcPayload<typeof IssuesRpc.listNotifications>,
  ): Promise<ListPage<NotificationView> & { unreadCount: number }> {
    const { offset, limit, desc } = req.page;
    const repository = this.dataSource.getRepository(NotificationEntity);
    const where = req.unreadOnly ? { userId: req.userId, readAt: IsNull() } : { userId: req.userId };
    const [rows, total] = await repository.findAndCount({
      where,
      order: { createdAt: desc ? 'DESC' : 'ASC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
    const unreadCount = req.unreadOnly
      ? total
      : await repository.countBy({ userId: req.userId, readAt: IsNull() });
    return { total, offset, limit, desc, count: rows.length, items: rows.map(toView), unreadCount };
  }

  /** Marks one of the user's own notifications read; someone else's is not found. */
  async markRead(req: RpcPayload<typeof IssuesRpc.markNotificationRead>): Promise<NotificationView> {
    const repository = this.dataSource.getRepository(NotificationEntity);
    const notification = await repository.findOneBy({ id: req.notificationId, userId: req.userId });
    if (!notification) throw AppError.notFound('The notification');
    if (!notification.readAt) {
      notification.readAt = new Date();
      await repository.update({ id: notification.id }, { readAt: notification.readAt });
    }
    return toView(notification);
  }
}
