import { z } from 'zod';
import { boundedJsonObject, ActorRunOptions, actorRunOptionsSchema } from './actors.contract';
import { catalogueListRequest, catalogueType } from './resource-types';
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

/** Actor tasks: a saved input and run options for one Actor. */
export const ACTOR_TASKS = catalogueType<ActorTaskView>()(
  { type: 'ACTOR_TASK', collection: 'actor-tasks', idParam: 'actorTaskId', updateBody: updateActorTaskBody },
  /** `actorId` is resolved (and READ on it checked) by the caller. */
  z
    .object({
      ownerId: z.string().min(1),
      createdBy: z.string().min(1),
      actorId: idSchema,
      task: createActorTaskBody.omit({ actId: true }),
    })
    .strict(),
  catalogueListRequest({}),
);

export const ActorTasksRpc = ACTOR_TASKS.rpc;
