import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { createScheduleBody, SchedulesRpc, updateScheduleBody } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { requireAccess, requireActorRunOf } from '../authorization/access-check';
import {
  Authorize,
  AuthorizedResource,
  CurrentResource,
  InAccount,
  CurrentAccount,
  Lister,
  ListingCaller,
} from '../authorization/authorize.decorator';
import { ChangesAccess } from '../authorization/access-changes';
import { parseBody, parseQuery } from '../http/api-query';
import { listByOwnership, ownershipListQuery } from '../http/ownership-listing';
import { AccessDecisions } from '../authorization/access-decisions';

const listQuery = z.object(ownershipListQuery);
type ActionsInput = NonNullable<z.output<typeof createScheduleBody>['actions']>;

/** Schedules with Apify API v2's paths and shapes. Atrium stores them; it does not fire them yet. */
@ApiTags('schedules')
@Controller('v2/schedules')
export class SchedulesController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  /** A task may be scheduled by whoever may run it: READ on the task and RUN on its Actor. */
  private async requireRunnableTask(user: UserPrincipal, ref: string, field: string): Promise<string> {
    const taskId = await requireAccess(this.access, user, 'ACTOR_TASK', ref, 'READ', field);
    await requireActorRunOf(this.access, this.rpc, user, taskId, `the task (${field})`);
    return taskId;
  }

  /**
   * Resolves each action's Actor or task to its id. Scheduling an Actor needs RUN on it, a task
   * READ on the task and RUN on its Actor, as running them would.
   */
  private async resolveActions(user: UserPrincipal, actions: ActionsInput | undefined) {
    if (!actions) return undefined;
    return Promise.all(
      actions.map(async (action, i) =>
        action.type === 'RUN_ACTOR'
          ? {
              ...action,
              actorId: await requireAccess(
                this.access,
                user,
                'ACTOR',
                action.actorId,
                'RUN',
                `body.actions.${i}.actorId`,
              ),
            }
          : {
              ...action,
              actorTaskId: await this.requireRunnableTask(
                user,
                action.actorTaskId,
                `body.actions.${i}.actorTaskId`,
              ),
            },
      ),
    );
  }

  @Get()
  @InAccount('SCHEDULE', 'READ')
  async list(@Lister() lister: ListingCaller, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const page = await listByOwnership(this.rpc, this.access, lister, 'SCHEDULE', q, (req) =>
      this.rpc.call(SchedulesRpc.listSchedules, req),
    );
    return { data: { ...page, items: page.items.map((s) => s.view) } };
  }

  @Post()
  @InAccount('SCHEDULE', 'CREATE')
  @HttpCode(201)
  async create(@CurrentUser() user: UserPrincipal, @CurrentAccount() account: string, @Body() body: unknown) {
    const input = parseBody(createScheduleBody, body ?? {});
    const schedule = await this.rpc.call(SchedulesRpc.createSchedule, {
      ownerId: account,
      createdBy: user.userId,
      schedule: { ...input, actions: await this.resolveActions(user, input.actions) },
    });
    return { data: schedule };
  }

  @Get(':scheduleId')
  @Authorize('SCHEDULE', 'READ', 'scheduleId')
  async get(@CurrentResource() resource: AuthorizedResource) {
    return { data: await this.rpc.call(SchedulesRpc.getSchedule, { id: resource.id }) };
  }

  @Put(':scheduleId')
  @ChangesAccess('resource')
  @Authorize('SCHEDULE', 'WRITE', 'scheduleId')
  async update(
    @CurrentResource() resource: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @Body() body: unknown,
  ) {
    const input = parseBody(updateScheduleBody, body ?? {});
    const schedule = await this.rpc.call(SchedulesRpc.updateSchedule, {
      id: resource.id,
      changes: { ...input, actions: await this.resolveActions(user, input.actions) },
    });
    return { data: schedule };
  }

  @Delete(':scheduleId')
  @ChangesAccess('resource')
  @Authorize('SCHEDULE', 'WRITE', 'scheduleId')
  @HttpCode(204)
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(SchedulesRpc.deleteSchedule, { id: resource.id });
  }

  /** What the schedule has run: nothing, as Atrium does not fire schedules yet. */
  @Get(':scheduleId/log')
  @Authorize('SCHEDULE', 'READ', 'scheduleId')
  log() {
    return { data: [] };
  }
}
