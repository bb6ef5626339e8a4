import { Injectable } from '@nestjs/common';
import {
  AppError,
  DEFAULT_RUN_OPTIONS,
  ListPage,
  RunMeta,
  RunsRpc,
  RunStatus,
  RunView,
  RpcPayload,
  StartedRunView,
  TERMINAL_RUN_STATUSES,
  Events,
  WebhookEventType,
} from '@atrium/contracts';
import { generateRunToken, parseRunToken, secretMatches } from '@atrium/auth';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, FindOptionsWhere, In } from 'typeorm';
import { ActorTasksService } from '../actor-tasks/actor-tasks.service';
import { ActorsService } from '../actors/actors.service';
import { CatalogueService } from '../catalogue/catalogue.service';
import { ResourceEntity } from '../catalogue/resource.entity';
import { DatasetsService } from '../datasets/datasets.service';
import { KeyValueStoresService } from '../key-value-stores/key-value-stores.service';
import { RequestQueuesService } from '../request-queues/request-queues.service';
import { UsageService } from '../usage/usage.service';
import { RunEntity } from './run.entity';
import { withLogLine } from './log-line';

type Row = { resource: ResourceEntity; run: RunEntity };

function toView({ resource, run }: Row): RunView {
  return {
    id: run.id,
    actId: run.actorId,
    userId: resource.ownerId,
    actorTaskId: run.taskId,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    status: run.status,
    statusMessage: run.statusMessage,
    isStatusMessageTerminal: run.isStatusMessageTerminal,
    meta: run.meta,
    options: run.options,
    buildId: null,
    defaultDatasetId: run.defaultDatasetId,
    defaultKeyValueStoreId: run.defaultKeyValueStoreId,
    defaultRequestQueueId: run.defaultRequestQueueId,
    generalAccess: resource.generalAccess,
  };
}

/** The webhook event of each terminal status. */
const RUN_FINISHED_EVENTS = {
  SUCCEEDED: 'ACTOR.RUN.SUCCEEDED',
  FAILED: 'ACTOR.RUN.FAILED',
  'TIMED-OUT': 'ACTOR.RUN.TIMED_OUT',
  ABORTED: 'ACTOR.RUN.ABORTED',
} as const;

/** Declares a run's webhook event in the transaction that changed the run. */
function declareRunEvent(manager: EntityManager, eventType: WebhookEventType, run: RunEntity): Promise<void> {
  return addToOutbox(manager, Events.actorJobEventOccurred, {
    eventType,
    actorId: run.actorId,
    actorTaskId: run.taskId,
    actorRunId: run.id,
  });
}

/** Which status may follow which: forward only, and a finished run stays finished. */
function checkTransition(from: RunStatus, to: RunStatus): void {
  if (from === to) return;
  if (TERMINAL_RUN_STATUSES.includes(from))
    throw new AppError('conflict', `The run has already finished (${from})`);
  if (to === 'READY') throw new AppError('conflict', `A ${from} run cannot become READY again`);
}

@Injectable()
export class RunsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly actors: ActorsService,
    private readonly tasks: ActorTasksService,
    private readonly datasets: DatasetsService,
    private readonly keyValueStores: KeyValueStoresService,
    private readonly requestQueues: RequestQueuesService,
    private readonly outbox: ServiceOutboxRelay,
    private readonly usage: UsageService,
  ) {}

  private async load(
    id: string,
    manager: EntityManager = this.dataSource.manager,
    lock = false,
  ): Promise<Row> {
    const { resource, state } = await this.catalogue.loadRow(manager, 'ACTOR_RUN', RunEntity, id, lock);
    return { resource, run: state };
  }

  /**
   * Starts a run in one transaction: the run, its default dataset, key-value store (with the
   * input as INPUT) and request queue, all owned by the user who started it.
   */
  async start(req: RpcPayload<typeof RunsRpc.start>): Promise<StartedRunView> {
    const started = await this.dataSource.transaction((manager) => this.startIn(manager, req));
    this.outbox.kick();
    return started;
  }

  /** Starts a run inside the caller's transaction (a schedule's firing); the caller kicks the outbox. */
  async startIn(
    manager: EntityManager,
    req: RpcPayload<typeof RunsRpc.start>,
    meta: RunMeta = { origin: 'API' },
  ): Promise<StartedRunView> {
    const { resource: actor, actor: actorSettings } = await this.actors.load(req.actorId, manager);
    const task = req.taskId ? await this.tasks.load(req.taskId, manager) : null;
    if (task && task.resource.actorId !== actor.id)
      throw new AppError('invalid-input', 'The task does not belong to this Actor');
    // Options: Apify's defaults < the Actor's < the task's < the request's.
    const { build, timeoutSecs, memoryMbytes } = {
      ...DEFAULT_RUN_OPTIONS,
      ...actorSettings.defaultRunOptions,
      ...task?.state.options,
      ...req.options,
    };
    const input = runInput(task?.state.input ?? null, req.input ?? null);
    const resource = await this.catalogue.create(manager, {
      type: 'ACTOR_RUN',
      ownerId: req.userId,
      createdBy: req.userId,
      actorId: actor.id,
      taskId: req.taskId,
    });
    const storage = { ownerId: req.userId, createdBy: req.userId, runId: resource.id };
    const dataset = await this.datasets.createIn(manager, storage);
    const store = await this.keyValueStores.createIn(manager, storage);
    const queue = await this.requestQueues.createIn(manager, storage);
    if (input) {
      await this.keyValueStores.setRecordIn(
        manager,
        store.resource.id,
        'INPUT',
        Buffer.from(input.base64, 'base64'),
        input.contentType,
      );
    }
    const token = generateRunToken(resource.id);
    const run = manager.create(RunEntity, {
      id: resource.id,
      tokenHash: token.secretHash,
      actorId: actor.id,
      taskId: req.taskId,
      status: 'READY',
      statusMessage: null,
      isStatusMessageTerminal: false,
      startedAt: new Date(),
      resurrectedAt: null,
      finishedAt: null,
      options: { build, timeoutSecs, memoryMbytes },
      defaultDatasetId: dataset.resource.id,
      defaultKeyValueStoreId: store.resource.id,
      defaultRequestQueueId: queue.resource.id,
      meta,
      log: withLogLine('', `Run of Actor ${actor.name ?? actor.id} created (status READY)`),
    });
    await manager.insert(RunEntity, run);
    await declareRunEvent(manager, 'ACTOR.RUN.CREATED', run);
    return { ...toView({ resource, run }), runToken: token.token };
  }

  /** A run token acts as the user who started the run, only while the run has not finished. */
  async verifyToken(token: string): Promise<{ runId: string; userId: string }> {
    const parsed = parseRunToken(token);
    const invalid = new AppError('token-not-valid', 'The run token is not valid');
    if (!parsed) throw invalid;
    // Every request of a run's process comes here: its log (up to 10 MiB from a runner) is not read.
    const run = await this.dataSource.manager.findOne(RunEntity, {
      where: { id: parsed.runId },
      select: { id: true, status: true, tokenHash: true, leaseTokenHash: true, leaseExpiresAt: true },
    });
    // The run's own token, or its current lease's while the lease holds (run-leases.service.ts).
    const leased =
      !!run?.leaseTokenHash &&
      secretMatches(parsed.secret, run.leaseTokenHash) &&
      !!run.leaseExpiresAt &&
      run.leaseExpiresAt > new Date();
    if (!run || !(leased || secretMatches(parsed.secret, run.tokenHash))) throw invalid;
    if (TERMINAL_RUN_STATUSES.includes(run.status))
      throw new AppError('token-not-valid', 'The run has finished; its token no longer works');
    const resource = await this.catalogue.load(this.dataSource.manager, 'ACTOR_RUN', run.id);
    return { runId: run.id, userId: resource.ownerId };
  }

  async get(id: string): Promise<RunView> {
    return toView(await this.load(id));
  }

  /** The run as `manager`'s transaction sees it; null when it is gone. */
  async viewIn(manager: EntityManager, id: string): Promise<RunView | null> {
    const run = await manager.findOneBy(RunEntity, { id });
    const resource = run && (await manager.findOneBy(ResourceEntity, { id, type: 'ACTOR_RUN' }));
    return run && resource ? toView({ resource, run }) : null;
  }

  async list(req: RpcPayload<typeof RunsRpc.list>): Promise<ListPage<RunView>> {
    const { offset, limit, desc } = req.page;
    const where: FindOptionsWhere<ResourceEntity> = { type: 'ACTOR_RUN' };
    if (req.userId !== undefined) where.ownerId = req.userId;
    if (req.ids !== undefined) where.id = In(req.ids);
    if (req.actorId !== undefined) where.actorId = req.actorId;
    if (req.taskId !== undefined) where.taskId = req.taskId;
    const query = this.dataSource
      .getRepository(ResourceEntity)
      .createQueryBuilder('r')
      .innerJoinAndMapOne('r.run', RunEntity, 'run', 'run.id = r.id')
      .where(where);
    if (req.status) query.andWhere('run.status IN (:...statuses)', { statuses: req.status });
    // Both bounds inclusive, as Apify documents them.
    if (req.startedAfter) query.andWhere('run.startedAt >= :after', { after: new Date(req.startedAfter) });
    if (req.startedBefore)
      query.andWhere('run.startedAt <= :before', { before: new Date(req.startedBefore) });
    if (req.userId !== undefined)
      query
        .orderBy('r.createdAt', desc ? 'DESC' : 'ASC')
        .addOrderBy('r.id', 'ASC')
        .skip(offset)
        .take(limit);
    const [resources, total] = await query.getManyAndCount();
    const rows = resources.map((resource) => ({
      resource,
      run: (resource as ResourceEntity & { run: RunEntity }).run,
    }));
    if (req.ids) {
      const position = new Map(req.ids.map((id, i) => [id, i]));
      rows.sort((a, b) => (position.get(a.resource.id) ?? 0) - (position.get(b.resource.id) ?? 0));
    }
    return { total, offset, limit, desc, count: rows.length, items: rows.map(toView) };
  }

  async update(req: RpcPayload<typeof RunsRpc.update>): Promise<RunView> {
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      const { status, statusMessage, isStatusMessageTerminal, generalAccess } = req.changes;
      if (status) await this.moveTo(manager, current, status);
      if (statusMessage !== undefined) current.run.statusMessage = statusMessage;
      if (isStatusMessageTerminal !== undefined)
        current.run.isStatusMessageTerminal = isStatusMessageTerminal;
      await manager.save(current.run);
      if (generalAccess !== undefined)
        await this.catalogue.update(manager, current.resource, { generalAccess }, req.changedBy);
      return current;
    });
    this.outbox.kick();
    return toView(row);
  }

  async abort(id: string): Promise<RunView> {
    const view = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(id, manager, true);
      await this.moveTo(manager, current, 'ABORTED');
      await manager.save(current.run);
      return toView(current);
    });
    this.outbox.kick();
    return view;
  }

  /** Apify's resurrect: a finished run RUNNING again, with the same storages and token. */
  async resurrect(id: string, options: RpcPayload<typeof RunsRpc.resurrect>['options']): Promise<RunView> {
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(id, manager, true);
      const { run, resource } = current;
      if (!TERMINAL_RUN_STATUSES.includes(run.status))
        throw new AppError('conflict', `Only a finished run can be resurrected; this one is ${run.status}`);
      await this.usage.runStarting(manager, resource.ownerId);
      const { build, timeoutSecs, memoryMbytes } = { ...run.options, ...options };
      run.options = { build, timeoutSecs, memoryMbytes };
      // A run that runners executed waits for one again (READY, with its attempts anew: found by the
      // outside attack pass, a RUNNING run with no lease was nobody's to execute); one driven by
      // hand (PUT) is RUNNING again as before, with no lease for the sweeper to take back.
      const next = run.attempt > 0 ? 'READY' : 'RUNNING';
      run.log = withLogLine(run.log, `Run resurrected (status ${run.status} → ${next})`);
      run.status = next;
      run.finishedAt = null;
      run.resurrectedAt = new Date();
      Object.assign(run, { leaseId: null, leaseExpiresAt: null, leaseTokenHash: null, attempt: 0 });
      await manager.save(run);
      await declareRunEvent(manager, 'ACTOR.RUN.RESURRECTED', run);
      return current;
    });
    this.outbox.kick();
    return toView(row);
  }

  /**
   * Deletes a finished run with its default storages that are still unnamed, in one transaction;
   * a default storage the user named is kept (Apify keeps named storages).
   */
  async delete(id: string): Promise<{ deletedStorageIds: string[] }> {
    const deletedStorageIds = await this.dataSource.transaction(async (manager) => {
      const { run, resource } = await this.load(id, manager, true);
      if (!TERMINAL_RUN_STATUSES.includes(run.status))
        throw new AppError(
          'conflict',
          `Only a finished run can be deleted; this one is ${run.status}: abort it first`,
        );
      const deleted: string[] = [];
      const storages = [
        [run.defaultDatasetId, (m: EntityManager, sid: string) => this.datasets.deleteIn(m, sid)],
        [run.defaultKeyValueStoreId, (m: EntityManager, sid: string) => this.keyValueStores.deleteIn(m, sid)],
        [run.defaultRequestQueueId, (m: EntityManager, sid: string) => this.requestQueues.deleteIn(m, sid)],
      ] as const;
      for (const [storageId, remove] of storages) {
        const storage = await manager.findOneBy(ResourceEntity, { id: storageId });
        if (!storage || storage.name !== null) continue;
        await remove(manager, storageId);
        deleted.push(storageId);
      }
      await manager.delete(RunEntity, { id });
      await this.catalogue.remove(manager, resource);
      return deleted;
    });
    this.outbox.kick();
    return { deletedStorageIds };
  }

  async log(id: string, offset = 0): Promise<{ log: string; length: number; finished: boolean }> {
    const { run } = await this.load(id);
    return {
      log: run.log.slice(offset),
      length: run.log.length,
      finished: TERMINAL_RUN_STATUSES.includes(run.status),
    };
  }

  /** Changes the status; a run reaching a terminal status counts its run time against its owner. */
  async moveTo(manager: EntityManager, { resource, run }: Row, status: RunStatus): Promise<void> {
    checkTransition(run.status, status);
    if (run.status === status) return;
    run.log = withLogLine(run.log, `Status changed from ${run.status} to ${status}`);
    run.status = status;
    if (TERMINAL_RUN_STATUSES.includes(status)) {
      run.finishedAt = new Date();
      const since = run.resurrectedAt ?? run.startedAt;
      await this.usage.runFinished(manager, resource, since, run.finishedAt, run.options.memoryMbytes);
      await declareRunEvent(manager, RUN_FINISHED_EVENTS[status as keyof typeof RUN_FINISHED_EVENTS], run);
    }
  }
}

const JSON_INPUT = 'application/json; charset=utf-8';
const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value);

/**
 * A run's INPUT, as Apify makes it: the request's; for a task, the task's input with the
 * request's JSON object merged over it (a field the request does not set keeps the task's value);
 * the task's alone when the request sends none.
 */
export function runInput(
  taskInput: Record<string, unknown> | null,
  requested: { contentType: string; base64: string } | null,
): { contentType: string; base64: string } | null {
  const json = (value: unknown) => ({
    contentType: JSON_INPUT,
    base64: Buffer.from(JSON.stringify(value)).toString('base64'),
  });
  if (!requested) return taskInput ? json(taskInput) : null;
  if (!taskInput || !/^application\/json\b/i.test(requested.contentType)) return requested;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(requested.base64, 'base64').toString('utf8'));
  } catch {
    return requested;
  }
  return isObject(parsed) ? json({ ...taskInput, ...parsed }) : requested;
}
