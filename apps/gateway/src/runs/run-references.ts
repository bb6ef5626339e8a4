import { Injectable } from '@nestjs/common';
import {
  AppError,
  DATASETS,
  ID_PATTERN,
  KEY_VALUE_STORES,
  REQUEST_QUEUES,
  resourceRefSchema,
  ResourceType,
  RUN_STATUSES,
  RunsRpc,
  RunView,
  StorageType,
  StorageTypeDescriptor,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { Principal, principalRef } from '../auth/principal';
import { AccessDecisions } from '../authorization/access-decisions';
import { parseQuery } from '../http/api-query';

/**
 * Where a route names a run instead of the resource it serves (apify-client's `run(id)` and
 * `lastRun()` sub-clients): by id, or as the caller's last run of an Actor or task. A storage
 * route served under one of these is the canonical route itself — the same handler and the same
 * authorization rule, decided on the storage the reference resolves to (see `RunReferences`).
 */
const RUN_BY_ID = 'actor-runs/:runId';
const LAST_RUNS = [
  'acts/:actorId/runs/last',
  'actors/:actorId/runs/last',
  'actor-tasks/:actorTaskId/runs/last',
];

/** Each storage type's descriptor: its collection path, and its segment under a run. */
const STORAGES: Record<StorageType, StorageTypeDescriptor> = {
  DATASET: DATASETS,
  KEY_VALUE_STORE: KEY_VALUE_STORES,
  REQUEST_QUEUE: REQUEST_QUEUES,
};

/** A storage route (`sub` = '', '/items', '/records/:recordKey', …): by its id, and as a run's default. */
export function storageRoutes(type: StorageType, sub = ''): string[] {
  const { collection, idParam, underRun } = STORAGES[type];
  return [
    `${collection}/:${idParam}${sub}`,
    ...[RUN_BY_ID, ...LAST_RUNS].map((run) => `${run}/${underRun}${sub}`),
  ];
}

/** A run route (`sub` = '', '/abort', '/log'): by the run's id, and as the caller's last run. */
export function runRoutes(sub = ''): string[] {
  return [RUN_BY_ID, ...LAST_RUNS].map((run) => `${run}${sub}`);
}

type RunDefaults = Pick<RunView, 'defaultDatasetId' | 'defaultKeyValueStoreId' | 'defaultRequestQueueId'>;

/** `lastRun({ status, origin })`: apify-client sends them on every call of its sub-clients. */
export const lastRunQuery = z.object({
  status: z.enum(RUN_STATUSES).optional(),
  origin: z.string().max(40).optional(),
});

const MAX_CACHED_RUNS = 10_000;

export interface ReferencingRequest {
  user: Principal;
  params: Record<string, string>;
  query: Record<string, unknown>;
}

/**
 * Resolves a route that names a run to the id of the resource the route's rule is about — the
 * run, or its default storage of the rule's type — so the authorization guard decides on that
 * resource exactly as on its own route: a caller who may not READ the storage gets the same 404
 * as for an unknown id, whatever it may do with the run, and the answer is the storage route's own.
 * `null`: nothing to resolve to (an unknown run, no last run), which the guard answers as an
 * unknown id.
 */
@Injectable()
export class RunReferences {
  /** A run's default storages never change: kept once read (only for runs that exist). */
  private readonly defaults = new Map<string, RunDefaults>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  /** Whether the matched route names a run where its rule expects `param` (a route of `runRoutes` / `storageRoutes`). */
  static names(request: ReferencingRequest, param: string): boolean {
    return !(param in request.params) && ['runId', 'actorId', 'actorTaskId'].some((p) => p in request.params);
  }

  async resolve(type: ResourceType, request: ReferencingRequest): Promise<string | null> {
    const { params } = request;
    const runId =
      'runId' in params ? (ID_PATTERN.test(params.runId) ? params.runId : null) : await this.lastRun(request);
    if (!runId) return null;
    if (type === 'ACTOR_RUN') return runId;
    const storage = STORAGES[type as StorageType];
    if (!storage) return null;
    const defaults = await this.defaultsOf(runId);
    return defaults?.[storage.runDefault] ?? null;
  }

  private async defaultsOf(runId: string): Promise<RunDefaults | null> {
    const known = this.defaults.get(runId);
    if (known) return known;
    let run: RunView;
    try {
      run = await this.rpc.call(RunsRpc.get, { id: runId });
    } catch (err) {
      if (err instanceof AppError && err.type === 'record-not-found') return null;
      throw err;
    }
    const defaults = {
      defaultDatasetId: run.defaultDatasetId,
      defaultKeyValueStoreId: run.defaultKeyValueStoreId,
      defaultRequestQueueId: run.defaultRequestQueueId,
    };
    if (this.defaults.size >= MAX_CACHED_RUNS) this.defaults.clear();
    this.defaults.set(runId, defaults);
    return defaults;
  }

  /**
   * The caller's last run of the Actor or task (of `status`, when given), as `GET …/runs/last`
   * answers it: the caller must READ the Actor or task; a run token lists no runs.
   */
  private async lastRun(request: ReferencingRequest): Promise<string | null> {
    const { status } = parseQuery(lastRunQuery, request.query);
    const user = request.user;
    if (user?.kind !== 'user') return null;
    if (user.credential === 'run-token')
      throw new AppError('insufficient-permissions', 'A run token cannot list runs');
    const [type, ref, of] =
      'actorTaskId' in request.params
        ? (['ACTOR_TASK', request.params.actorTaskId, 'taskId'] as const)
        : (['ACTOR', request.params.actorId, 'actorId'] as const);
    if (!ID_PATTERN.test(ref) && !resourceRefSchema.safeParse(ref).success) return null;
    const parent = await this.access.check(principalRef(user), type, ref, 'READ');
    if (!parent.canRead || !parent.resourceId) return null;
    const runs = await this.rpc.call(RunsRpc.list, {
      userId: user.userId,
      [of]: parent.resourceId,
      status: status && [status],
      page: { offset: 0, limit: 1, desc: true },
    });
    return runs.items[0]?.id ?? null;
  }
}
