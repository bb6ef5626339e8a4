import { Injectable } from '@nestjs/common';
import {
  AppError,
  EventEnvelope,
  Events,
  IssuesRpc,
  IssueView,
  ListPage,
  PermissionsRpc,
  RpcPayload,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { addToOutboxReturning, RpcClient, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, FindOptionsWhere } from 'typeorm';
import { NotificationsService } from '../notifications/notifications.service';
import { addSubscription } from '../subscriptions/add-subscription';
import { IssueEntity } from './issue.entity';

export function toIssueView(issue: IssueEntity): IssueView {
  return {
    id: issue.id,
    actId: issue.actorId,
    userId: issue.authorId,
    title: issue.title,
    description: issue.description,
    status: issue.status,
    runId: issue.runId,
    commentCount: issue.commentCount,
    createdAt: issue.createdAt.toISOString(),
    modifiedAt: issue.modifiedAt.toISOString(),
    closedAt: issue.closedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class IssuesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly notifications: NotificationsService,
    private readonly outbox: ServiceOutboxRelay,
    private readonly rpc: RpcClient,
  ) {}

  async load(
    id: string,
    manager: EntityManager = this.dataSource.manager,
    lock = false,
  ): Promise<IssueEntity> {
    const issue = await manager.findOne(IssueEntity, {
      where: { id },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!issue) throw AppError.notFound('The issue');
    return issue;
  }

  /**
   * The issue, its author's subscription and, with a run the author shares, `issues.run-attached`
   * are written in one transaction: the run is shared with the Actor's owner if and only if the
   * issue exists. A run attached without `shareRun` is recorded on the issue and shared with no one.
   * The share is applied by the permissions service before this answers (read-your-writes: the
   * Actor's owner can read the run as soon as the issue's create call returns); if it cannot be,
   * this fails (the gateway answers 503) and the outbox's copy of the event applies it later.
   */
  async create(req: RpcPayload<typeof IssuesRpc.create>): Promise<IssueView> {
    let runAttached: EventEnvelope | undefined;
    const issue = await this.dataSource.transaction(async (manager) => {
      const id = newId();
      await manager.insert(IssueEntity, {
        id,
        actorId: req.actorId,
        authorId: req.authorId,
        title: req.title,
        description: req.description,
        status: 'OPEN',
        runId: req.runId,
        commentCount: 0,
        closedAt: null,
      });
      await addSubscription(manager, id, req.authorId);
      if (req.runId && req.shareRun) {
        runAttached = await addToOutboxReturning(manager, Events.issuesRunAttached, {
          issueId: id,
          actorId: req.actorId,
          actorOwnerId: req.actorOwnerId,
          runId: req.runId,
          reporterId: req.authorId,
        });
      }
      return manager.findOneByOrFail(IssueEntity, { id });
    });
    if (runAttached) {
      this.outbox.kick();
      await this.rpc.call(PermissionsRpc.applyEvents, { events: [runAttached] });
    }
    return toIssueView(issue);
  }

  async get(id: string): Promise<IssueView> {
    return toIssueView(await this.load(id));
  }

  async list(req: RpcPayload<typeof IssuesRpc.list>): Promise<ListPage<IssueView>> {
    const { offset, limit, desc } = req.page;
    const where: FindOptionsWhere<IssueEntity> = { actorId: req.actorId };
    if (req.status !== 'ALL') where.status = req.status;
    const [rows, total] = await this.dataSource.getRepository(IssueEntity).findAndCount({
      where,
      order: { createdAt: desc ? 'DESC' : 'ASC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
    return { total, offset, limit, desc, count: rows.length, items: rows.map(toIssueView) };
  }

  /** Setting the status it already has changes nothing and notifies no one. */
  async updateStatus(req: RpcPayload<typeof IssuesRpc.updateStatus>): Promise<IssueView> {
    const issue = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      if (current.status === req.status) return current;
      current.status = req.status;
      current.closedAt = req.status === 'CLOSED' ? new Date() : null;
      await manager.save(current);
      await this.notifications.notifySubscribers(manager, current, 'STATUS_CHANGED', req.changedBy, {
        status: req.status,
      });
      return current;
    });
    return toIssueView(issue);
  }
}
