import { z, ZodTypeAny } from 'zod';
import { boundedJsonObject, MAX_STORED_INPUT_CHARS, actorRunOptionsSchema } from './actors.contract';
import { cronExpressionProblem } from './cron-expression';
import { catalogueListRequest, catalogueType } from './resource-types';
import { rpc } from './rpc-route';
import { idSchema, resourceNameSchema } from './validation';

export const MAX_SCHEDULE_ACTIONS = 20;

export const cronExpressionSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((v, ctx) => {
    const problem = cronExpressionProblem(v);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone name such as "Europe/Prague" or "UTC". */
export const timezoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, { message: 'must be an IANA time zone' });

/** Schedule actions; `target` is what names the Actor or task (a reference on REST, an id over RPC). */
function scheduleActionSchema(target: ZodTypeAny) {
  return z.discriminatedUnion('type', [
    z
      .object({
        id: idSchema.optional(),
        type: z.literal('RUN_ACTOR'),
        actorId: target,
        runInput: z
          .object({ body: z.string().max(MAX_STORED_INPUT_CHARS), contentType: z.string().min(1).max(255) })
          .strict()
          .optional(),
        runOptions: actorRunOptionsSchema.optional(),
      })
      .strict(),
    z
      .object({
        id: idSchema.optional(),
        type: z.literal('RUN_ACTOR_TASK'),
        actorTaskId: target,
        input: z.union([z.string().max(MAX_STORED_INPUT_CHARS), boundedJsonObject]).optional(),
      })
      .strict(),
  ]);
}

function scheduleFields(target: ZodTypeAny) {
  return {
    name: resourceNameSchema,
    title: z.string().max(200).nullable().optional(),
    cronExpression: cronExpressionSchema,
    timezone: timezoneSchema.optional(),
    isEnabled: z.boolean().optional(),
    isExclusive: z.boolean().optional(),
    description: z.string().max(20_000).nullable().optional(),
    notifications: z.object({ email: z.boolean() }).strict().optional(),
    actions: z.array(scheduleActionSchema(target)).max(MAX_SCHEDULE_ACTIONS).optional(),
  };
}

const actionRef = z.string().min(1).max(200);
/** POST /v2/schedules; action targets are ids or `username~name` (or `username/name`). */
export const createScheduleBody = z.object(scheduleFields(actionRef)).strict();
/** PUT /v2/schedules/:scheduleId; `actions` replace the list (an action keeps its `id` if sent). */
export const updateScheduleBody = z
  .object({
    ...scheduleFields(actionRef),
    name: resourceNameSchema.optional(),
    cronExpression: cronExpressionSchema.optional(),
  })
  .strict();

/** The same bodies with every action target resolved to an id, as the resources service takes them. */
export const resolvedScheduleBody = z.object(scheduleFields(idSchema)).strict();
export const resolvedScheduleChanges = z
  .object({
    ...scheduleFields(idSchema),
    name: resourceNameSchema.optional(),
    cronExpression: cronExpressionSchema.optional(),
  })
  .strict();

export type ScheduleActionView =
  | {
      id: string;
      type: 'RUN_ACTOR';
      actorId: string;
      runInput?: { body: string; contentType: string };
      runOptions?: z.infer<typeof actorRunOptionsSchema>;
    }
  | { id: string; type: 'RUN_ACTOR_TASK'; actorTaskId: string; input?: string | Record<string, unknown> };

export interface ScheduleView {
  id: string;
  userId: string;
  name: string;
  title: string | null;
  cronExpression: string;
  timezone: string;
  isEnabled: boolean;
  isExclusive: boolean;
  description: string | null;
  createdAt: string;
  modifiedAt: string;
  /** When it fires next; null while it is disabled. */
  nextRunAt: string | null;
  /** When it last fired; null before its first firing. */
  lastRunAt: string | null;
  notifications: { email: boolean };
  actions: ScheduleActionView[];
}

/** Schedules: when to run which Actors and tasks. `PUT` takes `updateScheduleBody`, resolved. */
export const SCHEDULES = catalogueType<ScheduleView>()(
  { type: 'SCHEDULE', collection: 'schedules', idParam: 'scheduleId', updateBody: resolvedScheduleChanges },
  /** Action targets are resolved (and the caller's access to them checked) by the caller. */
  z
    .object({ ownerId: z.string().min(1), createdBy: z.string().min(1), schedule: resolvedScheduleBody })
    .strict(),
  catalogueListRequest({}),
);

/** The most entries a schedule's log keeps (Apify's log shows up to 1000 invocations); older ones go. */
export const SCHEDULE_LOG_MAX_ENTRIES = 1000;

/** One entry of `GET /v2/schedules/:scheduleId/log`, as Apify's: what a firing did or why it did not. */
export interface ScheduleLogEntryView {
  message: string;
  level: 'INFO' | 'ERROR';
  createdAt: string;
}

export const SchedulesRpc = {
  ...SCHEDULES.rpc,
  /** The schedule's log, oldest entry first: its last `SCHEDULE_LOG_MAX_ENTRIES` entries. */
  getLog: rpc<ScheduleLogEntryView[]>()(
    'resources',
    'resources.schedules.log',
    z.object({ id: idSchema }).strict(),
  ),
};
