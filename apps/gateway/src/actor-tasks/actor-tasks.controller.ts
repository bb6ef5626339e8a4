import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  ActorTasksRpc,
  ActorTaskView,
  AppError,
  boundedJsonObject,
  createActorTaskBody,
  updateActorTaskBody,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { requireAccess } from '../authorization/access-check';
import {
  Authorize,
  AuthorizedResource,
  CurrentResource,
  InAccount,
  CurrentAccount,
  Lister,
  ListingCaller,
} from '../authorization/authorize.decorator';
import { ChangesAccess, ChangesNoAccess } from '../authorization/access-changes';
import { parseBody, parseQuery } from '../http/api-query';
import { listByOwnership, ownershipListQuery } from '../http/ownership-listing';
import { usernamesOf } from '../users/usernames';
import { AccessDecisions } from '../authorization/access-decisions';

const listQuery = z.object(ownershipListQuery);

/** Actor tasks with Apify API v2's paths and shapes; their runs are under `/runs` (RunsController). */
@ApiTags('actor-tasks')
@Controller('v2/actor-tasks')
export class ActorTasksController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  private async present(tasks: ActorTaskView[]): Promise<Record<string, unknown>[]> {
    const usernames = await usernamesOf(
      this.rpc,
      tasks.map((t) => t.userId),
    );
    return tasks.map((task) => ({ ...task, username: usernames.get(task.userId) ?? null }));
  }

  private async presentOne(task: ActorTaskView): Promise<Record<string, unknown>> {
    return (await this.present([task]))[0] as Record<string, unknown>;
  }

  @Get()
  @InAccount('ACTOR_TASK', 'READ')
  async list(@Lister() lister: ListingCaller, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const page = await listByOwnership(this.rpc, this.access, lister, 'ACTOR_TASK', q, (req) =>
      this.rpc.call(ActorTasksRpc.listTasks, req),
    );
    return { data: { ...page, items: await this.present(page.items.map((t) => t.view)) } };
  }

  /** A task of any Actor the caller can read (their own, one shared with them, a public one). */
  @Post()
  @InAccount('ACTOR_TASK', 'CREATE')
  @HttpCode(201)
  async create(@CurrentUser() user: UserPrincipal, @CurrentAccount() account: string, @Body() body: unknown) {
    const { actId, ...task } = parseBody(createActorTaskBody, body ?? {});
    const actorId = await requireAccess(this.access, user, 'ACTOR', actId, 'READ', 'body.actId');
    const created = await this.rpc.call(ActorTasksRpc.createTask, {
      ownerId: account,
      createdBy: user.userId,
      actorId,
      task,
    });
    return { data: await this.presentOne(created) };
  }

  @Get(':actorTaskId')
  @Authorize('ACTOR_TASK', 'READ', 'actorTaskId')
  async get(@CurrentResource() resource: AuthorizedResource) {
    return { data: await this.presentOne(await this.rpc.call(ActorTasksRpc.getTask, { id: resource.id })) };
  }

  @Put(':actorTaskId')
  @ChangesAccess('resource')
  @Authorize('ACTOR_TASK', 'WRITE', 'actorTaskId')
  async update(@CurrentResource() resource: AuthorizedResource, @Body() body: unknown) {
    // apify-client's publish()/unpublish() send only this: say why it cannot be, not just "not allowed".
    if (body && typeof body === 'object' && 'isPublic' in body)
      throw new AppError(
        'invalid-input',
        'Field "body.isPublic" is not supported: Atrium has no public tasks (a task is shared with grants, POST /v2/actor-tasks/:id/access/grants)',
      );
    const changes = parseBody(updateActorTaskBody, body ?? {});
    const task = await this.rpc.call(ActorTasksRpc.updateTask, { id: resource.id, changes });
    return { data: await this.presentOne(task) };
  }

  @Delete(':actorTaskId')
  @ChangesAccess('resource')
  @Authorize('ACTOR_TASK', 'WRITE', 'actorTaskId')
  @HttpCode(204)
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(ActorTasksRpc.deleteTask, { id: resource.id });
  }

  /** The task's input alone, as Apify returns it (no envelope). */
  @Get(':actorTaskId/input')
  @Authorize('ACTOR_TASK', 'READ', 'actorTaskId')
  async getInput(@CurrentResource() resource: AuthorizedResource) {
    return (await this.rpc.call(ActorTasksRpc.getTask, { id: resource.id })).input ?? {};
  }

  /** Replaces the task's input; answers with the new input (no envelope), as Apify does. */
  @Put(':actorTaskId/input')
  @ChangesNoAccess()
  @Authorize('ACTOR_TASK', 'WRITE', 'actorTaskId')
  async updateInput(@CurrentResource() resource: AuthorizedResource, @Body() body: unknown) {
    const input = parseBody(boundedJsonObject, body ?? {});
    return (
      (await this.rpc.call(ActorTasksRpc.updateTask, { id: resource.id, changes: { input } })).input ?? {}
    );
  }
}
