import { Controller, Get, Put } from '@nestjs/common';
import {
  ACTOR_TASKS,
  ActorTasksRpc,
  ActorTaskView,
  AppError,
  boundedJsonObject,
  createActorTaskBody,
  updateActorTaskBody,
} from '@atrium/contracts';
import { ChangesNoAccess } from '../authorization/access-changes';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { requireAccess } from '../authorization/access-check';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { catalogueController } from '../http/catalogue-controller';
import { actorTaskView, anyObject } from '../http/views';
import { Returns, ValidBody } from '../http/validated';
import { usernamesOf } from '../users/usernames';

/** Tasks as Apify shows them: with their owner's `username`. */
async function presentTasks(rpc: RpcClient, tasks: ActorTaskView[]): Promise<Record<string, unknown>[]> {
  const usernames = await usernamesOf(
    rpc,
    tasks.map((t) => t.userId),
  );
  return tasks.map((task) => ({ ...task, username: usernames.get(task.userId) ?? null }));
}

/** Actor tasks' list, create, get, update and delete, made from `ACTOR_TASKS`. */
export const ActorTasksCatalogueController = catalogueController(ACTOR_TASKS, {
  view: actorTaskView,
  present: presentTasks,
  /** A task of any Actor the caller can read (their own, one shared with them, a public one). */
  create: {
    body: createActorTaskBody,
    request: async ({ access }, user, { actId, ...task }: z.output<typeof createActorTaskBody>) => ({
      actorId: await requireAccess(access, user, 'ACTOR', actId, 'READ', 'body.actId'),
      task,
    }),
  },
  update: {
    // apify-client's publish()/unpublish() send only `isPublic`: say why it cannot be, not just "not allowed".
    body: updateActorTaskBody.extend({ isPublic: z.unknown() }),
    changes: async (_calls, _principal, _resource, { isPublic, ...changes }: { isPublic?: unknown }) => {
      if (isPublic !== undefined)
        throw new AppError(
          'invalid-input',
          'Field "body.isPublic" is not supported: Atrium has no public tasks (a task is shared with grants, POST /v2/actor-tasks/:id/access/grants)',
        );
      return changes;
    },
  },
});

/**
 * What is special about Actor tasks, with Apify API v2's paths and shapes: their input. Their
 * runs are under `/runs` (RunsController).
 */
@Controller('v2/actor-tasks')
export class ActorTasksController {
  constructor(private readonly rpc: RpcClient) {}

  /** The task's input alone, as Apify returns it (no envelope). */
  @Get(':actorTaskId/input')
  @Authorize('ACTOR_TASK', 'READ', 'actorTaskId')
  @Returns(anyObject, { envelope: false })
  async getInput(@CurrentResource() resource: AuthorizedResource) {
    return (await this.rpc.call(ActorTasksRpc.get, { id: resource.id })).input ?? {};
  }

  /** Replaces the task's input; answers with the new input (no envelope), as Apify does. */
  @Put(':actorTaskId/input')
  @ChangesNoAccess()
  @Authorize('ACTOR_TASK', 'WRITE', 'actorTaskId')
  @Returns(anyObject, { envelope: false })
  async updateInput(
    @CurrentResource() resource: AuthorizedResource,
    @ValidBody(boundedJsonObject) input: z.output<typeof boundedJsonObject>,
  ) {
    return (await this.rpc.call(ActorTasksRpc.update, { id: resource.id, changes: { input } })).input ?? {};
  }
}
