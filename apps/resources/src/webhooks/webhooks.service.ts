import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import { newId } from '@atrium/auth';
import {
  AppError,
  DEFAULT_WEBHOOK_PAYLOAD_TEMPLATE,
  EventPayload,
  Events,
  ListPage,
  RpcPayload,
  WebhookCondition,
  WebhookDispatchView,
  WebhooksRpc,
  WebhookView,
} from '@atrium/contracts';
import { DataSource, EntityManager, In } from 'typeorm';
import { toBuildView } from '../builds/builds.service';
import { BuildEntity } from '../builds/build.entity';
import { ResourceEntity } from '../catalogue/resource.entity';
import { RunsService } from '../runs/runs.service';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookDispatchEntity } from './webhook-dispatch.entity';
import { checkTemplates } from './webhook-template';
import { WebhookEntity } from './webhook.entity';

type Stats = { total: number; last: WebhookDispatchEntity | null };

export function conditionOf(webhook: WebhookEntity): WebhookCondition {
  if (webhook.conditionActorRunId) return { actorRunId: webhook.conditionActorRunId };
  if (webhook.conditionActorTaskId) return { actorTaskId: webhook.conditionActorTaskId };
  return { actorId: webhook.conditionActorId ?? undefined };
}

function conditionColumns(condition: WebhookCondition) {
  return {
    conditionActorId: condition.actorId ?? null,
    conditionActorTaskId: condition.actorTaskId ?? null,
    conditionActorRunId: condition.actorRunId ?? null,
  };
}

function toView(webhook: WebhookEntity, stats: Stats): WebhookView {
  return {
    id: webhook.id,
    userId: webhook.userId,
    createdAt: webhook.createdAt.toISOString(),
    modifiedAt: webhook.modifiedAt.toISOString(),
    isAdHoc: webhook.isAdHoc,
    eventTypes: webhook.eventTypes,
    condition: conditionOf(webhook),
    ignoreSslErrors: webhook.ignoreSslErrors,
    doNotRetry: webhook.doNotRetry,
    requestUrl: webhook.requestUrl,
    payloadTemplate: webhook.payloadTemplate,
    headersTemplate: webhook.headersTemplate,
    description: webhook.description,
    shouldInterpolateStrings: webhook.shouldInterpolateStrings,
    isApifyIntegration: webhook.isApifyIntegration,
    lastDispatch: stats.last
      ? { status: stats.last.status, finishedAt: stats.last.calls.at(-1)?.finishedAt ?? null }
      : null,
    stats: { totalDispatches: stats.total },
    createdBy: webhook.createdBy,
  };
}

export function toDispatchView(dispatch: WebhookDispatchEntity, webhook: WebhookEntity): WebhookDispatchView {
  return {
    id: dispatch.id,
    userId: dispatch.userId,
    webhookId: dispatch.webhookId,
    createdAt: dispatch.createdAt.toISOString(),
    status: dispatch.status,
    eventType: dispatch.eventType,
    eventData: dispatch.eventData,
    webhook: { requestUrl: webhook.requestUrl, isAdHoc: webhook.isAdHoc, condition: conditionOf(webhook) },
    calls: dispatch.calls,
  };
}

/** Webhooks of accounts and their dispatches: what they watch, and what was sent. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly runs: RunsService,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  private async stats(ids: string[]): Promise<Map<string, Stats>> {
    const result = new Map<string, Stats>(ids.map((id) => [id, { total: 0, last: null }]));
    if (!ids.length) return result;
    const repo = this.dataSource.getRepository(WebhookDispatchEntity);
    const counts = await repo
      .createQueryBuilder('d')
      .select('d.webhook_id', 'webhookId')
      .addSelect('count(*)::int', 'total')
      .where('d.webhook_id IN (:...ids)', { ids })
      .groupBy('d.webhook_id')
      .getRawMany<{ webhookId: string; total: number }>();
    for (const { webhookId, total } of counts) result.get(webhookId)!.total = Number(total);
    const lasts = await repo
      .createQueryBuilder('d')
      .distinctOn(['d.webhook_id'])
      .where('d.webhook_id IN (:...ids)', { ids })
      .orderBy('d.webhook_id')
      .addOrderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .getMany();
    for (const last of lasts) result.get(last.webhookId)!.last = last;
    return result;
  }

  private async view(webhook: WebhookEntity): Promise<WebhookView> {
    return toView(webhook, (await this.stats([webhook.id])).get(webhook.id)!);
  }

  private async load(id: string): Promise<WebhookEntity> {
    const webhook = await this.dataSource.manager.findOneBy(WebhookEntity, { id });
    if (!webhook) throw AppError.notFound('The webhook');
    return webhook;
  }

  async create({
    ownerId,
    createdBy,
    webhook,
  }: RpcPayload<typeof WebhooksRpc.create>): Promise<WebhookView & { created: boolean }> {
    checkTemplates(webhook);
    const key = webhook.idempotencyKey ?? null;
    const existing = async () =>
      key ? this.dataSource.manager.findOneBy(WebhookEntity, { userId: ownerId, idempotencyKey: key }) : null;
    const before = await existing();
    if (before) return { ...(await this.view(before)), created: false };
    const now = new Date();
    const row: WebhookEntity = {
      id: newId(),
      userId: ownerId,
      createdBy,
      createdAt: now,
      modifiedAt: now,
      isAdHoc: webhook.isAdHoc ?? false,
      eventTypes: [...new Set(webhook.eventTypes)],
      ...conditionColumns(webhook.condition),
      ignoreSslErrors: webhook.ignoreSslErrors ?? false,
      doNotRetry: webhook.doNotRetry ?? false,
      requestUrl: webhook.requestUrl,
      payloadTemplate: webhook.payloadTemplate || DEFAULT_WEBHOOK_PAYLOAD_TEMPLATE,
      headersTemplate: webhook.headersTemplate ?? null,
      description: webhook.description ?? null,
      shouldInterpolateStrings: webhook.shouldInterpolateStrings ?? false,
      isApifyIntegration: webhook.isApifyIntegration ?? false,
      idempotencyKey: key,
    };
    try {
      await this.dataSource.manager.insert(WebhookEntity, row);
    } catch (error) {
      // Two creates with one key at once: the second answers the first's webhook.
      const raced = isUniqueViolation(error) ? await existing() : null;
      if (!raced) throw error;
      return { ...(await this.view(raced)), created: false };
    }
    return { ...toView(row, { total: 0, last: null }), created: true };
  }

  async get(id: string): Promise<WebhookView> {
    return this.view(await this.load(id));
  }

  async list(req: RpcPayload<typeof WebhooksRpc.list>): Promise<ListPage<WebhookView>> {
    const { offset, limit, desc } = req.page;
    const query = this.dataSource
      .getRepository(WebhookEntity)
      .createQueryBuilder('w')
      .where('w.user_id = :ownerId', { ownerId: req.ownerId });
    if (req.condition?.actorId)
      query.andWhere('w.condition_actor_id = :actorId', { actorId: req.condition.actorId });
    if (req.condition?.actorTaskId)
      query.andWhere('w.condition_actor_task_id = :taskId', { taskId: req.condition.actorTaskId });
    const [rows, total] = await query
      .orderBy('w.created_at', desc ? 'DESC' : 'ASC')
      .addOrderBy('w.id', 'ASC')
      .skip(offset)
      .take(limit)
      .getManyAndCount();
    const stats = await this.stats(rows.map((r) => r.id));
    const items = rows.map((r) => toView(r, stats.get(r.id)!));
    return { total, offset, limit, desc, count: items.length, items };
  }

  async update({ id, changes }: RpcPayload<typeof WebhooksRpc.update>): Promise<WebhookView> {
    const webhook = await this.load(id);
    const next: WebhookEntity = {
      ...webhook,
      ...(changes.condition ? conditionColumns(changes.condition) : {}),
      eventTypes: changes.eventTypes ? [...new Set(changes.eventTypes)] : webhook.eventTypes,
      isAdHoc: changes.isAdHoc ?? webhook.isAdHoc,
      ignoreSslErrors: changes.ignoreSslErrors ?? webhook.ignoreSslErrors,
      doNotRetry: changes.doNotRetry ?? webhook.doNotRetry,
      requestUrl: changes.requestUrl ?? webhook.requestUrl,
      payloadTemplate:
        changes.payloadTemplate === undefined
          ? webhook.payloadTemplate
          : changes.payloadTemplate || DEFAULT_WEBHOOK_PAYLOAD_TEMPLATE,
      headersTemplate:
        changes.headersTemplate === undefined ? webhook.headersTemplate : changes.headersTemplate,
      description: changes.description === undefined ? webhook.description : changes.description,
      shouldInterpolateStrings: changes.shouldInterpolateStrings ?? webhook.shouldInterpolateStrings,
      isApifyIntegration: changes.isApifyIntegration ?? webhook.isApifyIntegration,
      modifiedAt: new Date(),
    };
    checkTemplates(next);
    await this.dataSource.manager.save(WebhookEntity, next);
    return this.view(next);
  }

  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.manager.delete(WebhookEntity, { id });
    return { ok: true };
  }

  /** A TEST dispatch of the webhook, handed to the dispatcher at once. */
  async test(id: string): Promise<WebhookDispatchView> {
    const webhook = await this.load(id);
    const condition = conditionOf(webhook);
    const dispatch = await this.addDispatch(this.dataSource.manager, webhook, 'TEST', { ...condition }, null);
    this.dispatcher.kick();
    return toDispatchView(dispatch, webhook);
  }

  async listDispatches(
    req: RpcPayload<typeof WebhooksRpc.listDispatches>,
  ): Promise<ListPage<WebhookDispatchView>> {
    const { offset, limit, desc } = req.page;
    if (!req.webhookIds.length) return { total: 0, offset, limit, desc, count: 0, items: [] };
    const [rows, total] = await this.dataSource
      .getRepository(WebhookDispatchEntity)
      .createQueryBuilder('d')
      .where('d.webhook_id IN (:...ids)', { ids: req.webhookIds })
      .orderBy('d.created_at', desc ? 'DESC' : 'ASC')
      .addOrderBy('d.id', 'ASC')
      .skip(offset)
      .take(limit)
      .getManyAndCount();
    const webhooks = new Map(
      (
        await this.dataSource.manager.findBy(WebhookEntity, {
          id: In([...new Set(rows.map((r) => r.webhookId))]),
        })
      ).map((w) => [w.id, w]),
    );
    const items = rows.flatMap((r) => {
      const webhook = webhooks.get(r.webhookId);
      return webhook ? [toDispatchView(r, webhook)] : [];
    });
    return { total, offset, limit, desc, count: items.length, items };
  }

  async getDispatch(id: string): Promise<WebhookDispatchView> {
    const dispatch = await this.dataSource.manager.findOneBy(WebhookDispatchEntity, { id });
    const webhook =
      dispatch && (await this.dataSource.manager.findOneBy(WebhookEntity, { id: dispatch.webhookId }));
    if (!dispatch || !webhook) throw AppError.notFound('The webhook dispatch');
    return toDispatchView(dispatch, webhook);
  }

  /**
   * A run or build event: one dispatch for each webhook watching it, recorded in the event's
   * own transaction (so once per event, however often it is delivered). The run or build is
   * read through that transaction, as it was when the event was handled.
   */
  async dispatchEvent(
    manager: EntityManager,
    event: EventPayload<typeof Events.actorJobEventOccurred>,
  ): Promise<number> {
    const query = manager
      .getRepository(WebhookEntity)
      .createQueryBuilder('w')
      .where('w.event_types @> CAST(:type AS jsonb)', { type: JSON.stringify([event.eventType]) });
    const targets = ['w.condition_actor_id = :actorId'];
    if (event.actorTaskId) targets.push('w.condition_actor_task_id = :taskId');
    if (event.actorRunId) targets.push('w.condition_actor_run_id = :runId');
    query.andWhere(`(${targets.join(' OR ')})`, {
      actorId: event.actorId,
      taskId: event.actorTaskId,
      runId: event.actorRunId,
    });
    const resource = await this.resourceOf(manager, event);
    // A run's events reach only webhooks of the account that started it: the owner of a public
    // Actor (or a task's) never learns of other users' runs through its webhooks (found by the
    // outside attack pass: the dispatch carried the run, its storages' ids with it).
    if (event.actorRunId) {
      const runOwner = (resource as { userId?: string } | null)?.userId;
      if (!runOwner) return 0;
      query.andWhere('w.user_id = :runOwner', { runOwner });
    }
    const webhooks = await query.getMany();
    if (!webhooks.length) return 0;
    const eventData = {
      actorId: event.actorId,
      ...(event.actorRunId ? { actorTaskId: event.actorTaskId, actorRunId: event.actorRunId } : {}),
      ...(event.actorBuildId ? { actorBuildId: event.actorBuildId } : {}),
    };
    for (const webhook of webhooks)
      await this.addDispatch(manager, webhook, event.eventType, eventData, resource);
    return webhooks.length;
  }

  private async resourceOf(
    manager: EntityManager,
    event: EventPayload<typeof Events.actorJobEventOccurred>,
  ): Promise<object | null> {
    if (event.actorRunId) return this.runs.viewIn(manager, event.actorRunId);
    if (event.actorBuildId) {
      const resource = await manager.findOneBy(ResourceEntity, {
        id: event.actorBuildId,
        type: 'ACTOR_BUILD',
      });
      const build = await manager.findOneBy(BuildEntity, { id: event.actorBuildId });
      return resource && build
        ? (toBuildView({ resource, build }) as unknown as Record<string, unknown>)
        : null;
    }
    return null;
  }

  private async addDispatch(
    manager: EntityManager,
    webhook: WebhookEntity,
    eventType: WebhookDispatchEntity['eventType'],
    eventData: WebhookDispatchEntity['eventData'],
    resource: WebhookDispatchEntity['resource'],
  ): Promise<WebhookDispatchEntity> {
    const now = new Date();
    const dispatch: WebhookDispatchEntity = {
      id: newId(),
      webhookId: webhook.id,
      userId: webhook.userId,
      createdAt: now,
      status: 'ACTIVE',
      eventType,
      eventData,
      resource,
      calls: [],
      nextAttemptAt: now,
      claimedUntil: null,
    };
    await manager.insert(WebhookDispatchEntity, dispatch);
    return dispatch;
  }
}
