import { z } from 'zod';
import { buildRefSchema } from './actor-versions.contract';
import { GeneralAccess } from './access.enums';
import { ListPage, paginationSchema } from './resources.contract';
import { rpc } from './rpc-route';
import { changedByField } from './facts';
import { idSchema } from './validation';

export const RUN_STATUSES = ['READY', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED-OUT', 'ABORTED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED-OUT', 'ABORTED'];
/** General access a run may take: link sharing by id, never by name. */
export const RUN_GENERAL_ACCESS = ['FOLLOW_USER_SETTING', 'RESTRICTED', 'ANYONE_WITH_ID_CAN_READ'] as const;

/** The largest run input accepted (as Apify's 9 MB request limit). */
export const MAX_RUN_INPUT_BYTES = 9 * 1024 * 1024;

export const runOptionsSchema = z
  .object({
    build: buildRefSchema.optional(),
    timeoutSecs: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .optional(),
    memoryMbytes: z.number().int().min(128).max(65536).optional(),
  })
  .strict();

/** The levels the SDK and Crawlee give a status message (apify-client sends `level` with it). */
export const STATUS_MESSAGE_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const;

export const updateRunBody = z
  .object({
    status: z.enum(RUN_STATUSES).optional(),
    statusMessage: z.string().max(1000).optional(),
    isStatusMessageTerminal: z.boolean().optional(),
    generalAccess: z.enum(RUN_GENERAL_ACCESS).optional(),
  })
  .strict();

/** `resurrect({ build, memory, timeout })`: options the resurrected run takes over its own. */
export const resurrectOptionsSchema = runOptionsSchema;

/** Statuses to list: one, or several (apify-client sends an array as `READY,RUNNING`). */
export const runStatusFilter = z
  .preprocess(
    (v) => (typeof v === 'string' ? v.split(',') : v),
    z.array(z.enum(RUN_STATUSES)).min(1).max(RUN_STATUSES.length),
  )
  .optional();

export interface RunView {
  id: string;
  actId: string;
  userId: string;
  actorTaskId: string | null;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  statusMessage: string | null;
  isStatusMessageTerminal: boolean;
  meta: RunMeta;
  options: { build: string; timeoutSecs: number; memoryMbytes: number };
  buildId: string | null;
  defaultDatasetId: string;
  defaultKeyValueStoreId: string;
  defaultRequestQueueId: string;
  generalAccess: GeneralAccess;
}

/**
 * Where a run came from, as Apify's `meta`: the API, or a schedule (its id, and the time of the
 * cron tick it fired for).
 */
export type RunMeta = { origin: 'API' } | { origin: 'SCHEDULER'; scheduleId: string; scheduledAt: string };

/** The start response alone carries the run's token, as an API token is shown once. */
export interface StartedRunView extends RunView {
  runToken: string;
}

export const RunsRpc = {
  /** Creates a run with its default dataset, key-value store (input as INPUT) and request queue. */
  start: rpc<StartedRunView>()(
    'resources',
    'resources.runs.start',
    z
      .object({
        actorId: idSchema,
        taskId: idSchema.nullable(),
        userId: z.string().min(1),
        /** The INPUT record: its content type and base64 value; absent runs without input. */
        input: z
          .object({
            contentType: z.string().min(1).max(200),
            base64: z.string().max(Math.ceil((MAX_RUN_INPUT_BYTES * 4) / 3) + 4),
          })
          .strict()
          .nullable(),
        options: runOptionsSchema,
      })
      .strict(),
  ),
  get: rpc<RunView>()('resources', 'resources.runs.get', z.object({ id: idSchema }).strict()),
  list: rpc<ListPage<RunView>>()(
    'resources',
    'resources.runs.list',
    z
      .object({
        userId: z.string().min(1).optional(),
        ids: z.array(idSchema).max(1000).optional(),
        actorId: idSchema.optional(),
        taskId: idSchema.optional(),
        status: z.array(z.enum(RUN_STATUSES)).min(1).max(RUN_STATUSES.length).optional(),
        startedAfter: z.string().datetime().optional(),
        startedBefore: z.string().datetime().optional(),
        page: paginationSchema,
      })
      .strict()
      .refine((r) => (r.userId === undefined) !== (r.ids === undefined), {
        message: 'exactly one of userId or ids is required',
      }),
  ),
  /** Status changes follow the lifecycle: READY → RUNNING → a terminal status, never back. */
  update: rpc<RunView>()(
    'resources',
    'resources.runs.update',
    z.object({ id: idSchema, changes: updateRunBody, ...changedByField }).strict(),
  ),
  abort: rpc<RunView>()('resources', 'resources.runs.abort', z.object({ id: idSchema }).strict()),
  /**
   * A finished run back to RUNNING with the same storages (Apify's resurrect), its options changed
   * by those given; its run time counts again from now. Needs run time left, as a start does.
   */
  resurrect: rpc<RunView>()(
    'resources',
    'resources.runs.resurrect',
    z.object({ id: idSchema, options: resurrectOptionsSchema }).strict(),
  ),
  /**
   * Removes a finished run and its default storages that are still unnamed (a default storage the
   * user named is kept, as named storages are); their usage is released. Answers what went.
   */
  delete: rpc<{ deletedStorageIds: string[] }>()(
    'resources',
    'resources.runs.delete',
    z.object({ id: idSchema }).strict(),
  ),
  /** The run's log from character `offset` on, and whether the run has finished (for streaming). */
  getLog: rpc<{ log: string; length: number; finished: boolean }>()(
    'resources',
    'resources.runs.get-log',
    z.object({ id: idSchema, offset: z.number().int().min(0).optional() }).strict(),
  ),
  /** Verifies a run token; it stops working once the run has finished. */
  verifyToken: rpc<{ runId: string; userId: string }>()(
    'resources',
    'resources.runs.verify-token',
    z.object({ token: z.string().min(1).max(200) }).strict(),
  ),
} as const;
