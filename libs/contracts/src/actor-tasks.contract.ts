import { z } from 'zod';
import { boundedJsonObject, ActorRunOptions, actorRunOptionsSchema } from './actors.contract';
import { ListPage, paginationSchema } from './resources.contract';
import { rpc } from './rpc-route';
import { idSchema, resourceNameSchema } from './validation';

const taskFields = {
  name: resourceNameSchema,
  title: z.string().max(200).nullable().optional(),
  description: z.string().max(20_000).nullable().optional(),
  options: actorRunOptionsSchema.optional(),
  input: boundedJsonObject.nullable().optional(),
};

/** POST /v2/actor-tasks: `actId` is the Actor's id or `username~name` (or `username/name`). */
export const createActorTaskBody = z.object({ actId: z.string().min(1).max(200), ...taskFields }).strict();
/** PUT /v2/actor-tasks/:taskId: the Actor cannot change; `options` merge, `input` replaces. */
export const updateActorTaskBody = z.object({ ...taskFields, name: resourceNameSchema.optional() }).strict();

/** A task as the resources service returns it; the gateway adds the owner's `username`. */
export interface ActorTaskView {
  id: string;
  userId: string;
  actId: string;
  name: string;
  title: string | null;
  description: string | null;
  createdAt: string;
  modifiedAt: string;
  options: ActorRunOptions;
  input: Record<string, unknown> | null;
}

export const ActorTasksRpc = {
  /** `actorId` is resolved (and READ on it checked) by the caller. */
  createTask: rpc<ActorTaskView>()(
    'resources',
    'resources.actor-tasks.create',
    z
      .object({
        ownerId: z.string().min(1),
        createdBy: z.string().min(1),
        actorId: idSchema,
        task: createActorTaskBody.omit({ actId: true }),
      })
      .strict(),
  ),
  getTask: rpc<ActorTaskView>()(
    'resources',
    'resources.actor-tasks.get',
    z.object({ id: idSchema }).strict(),
  ),
  updateTask: rpc<ActorTaskView>()(
    'resources',
    'resources.actor-tasks.update',
    z.object({ id: idSchema, changes: updateActorTaskBody }).strict(),
  ),
  deleteTask: rpc<{ ok: true }>()(
    'resources',
    'resources.actor-tasks.delete',
    z.object({ id: idSchema }).strict(),
  ),
  listTasks: rpc<ListPage<ActorTaskView>>()(
    'resources',
    'resources.actor-tasks.list',
    z
      .object({
        ownerId: z.string().min(1).optional(),
        ids: z.array(idSchema).max(1000).optional(),
        page: paginationSchema,
      })
      .strict()
      .refine((r) => (r.ownerId === undefined) !== (r.ids === undefined), {
        message: 'exactly one of ownerId or ids is required',
      }),
  ),
} as const;
