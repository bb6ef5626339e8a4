import { Controller, Get } from '@nestjs/common';
import { createScheduleBody, SCHEDULES, SchedulesRpc, updateScheduleBody } from '@atrium/contracts';
import { Returns } from '../http/validated';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { requireUser, UserPrincipal } from '../auth/principal';
import { requireAccess, requireActorRunOf } from '../authorization/access-check';
import { AccessDecisions } from '../authorization/access-decisions';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { catalogueController } from '../http/catalogue-controller';
import { scheduleLogEntryView, scheduleView } from '../http/views';

type ActionsInput = NonNullable<z.output<typeof createScheduleBody>['actions']>;
/** What decides when a schedule fires. */
const TIMING_FIELDS = ['isEnabled', 'cronExpression', 'timezone', 'isExclusive'] as const;

/** A task may be scheduled by whoever may run it: READ on the task and RUN on its Actor. */
async function requireRunnableTask(
  rpc: RpcClient,
  access: AccessDecisions,
  user: UserPrincipal,
  ref: string,
  field: string,
): Promise<string> {
  const taskId = await requireAccess(access, user, 'ACTOR_TASK', ref, 'READ', field);
  await requireActorRunOf(access, rpc, user, taskId, `the task (${field})`);
  return taskId;
}

/**
 * Resolves each action's Actor or task to its id. Scheduling an Actor needs RUN on it, a task
 * READ on the task and RUN on its Actor, as running them would.
 */
async function resolveActions(
  rpc: RpcClient,
  access: AccessDecisions,
  user: UserPrincipal,
  actions: ActionsInput | undefined,
  field = 'body.actions',
) {
  if (!actions) return undefined;
  return Promise.all(
    actions.map(async (action, i) =>
      action.type === 'RUN_ACTOR'
        ? {
            ...action,
            actorId: await requireAccess(
              access,
              user,
              'ACTOR',
              action.actorId,
              'RUN',
              `${field}.${i}.actorId`,
            ),
          }
        : {
            ...action,
            actorTaskId: await requireRunnableTask(
              rpc,
              access,
              user,
              action.actorTaskId,
              `${field}.${i}.actorTaskId`,
            ),
          },
    ),
  );
}

/** Schedules' list, create, get, update and delete (their actions resolved), made from `SCHEDULES`. */
export const SchedulesCatalogueController = catalogueController(SCHEDULES, {
  view: scheduleView,
  create: {
    body: createScheduleBody,
    request: async ({ rpc, access }, user, input: z.output<typeof createScheduleBody>) => ({
      schedule: { ...input, actions: await resolveActions(rpc, access, user, input.actions) },
    }),
  },
  update: {
    body: updateScheduleBody,
    changes: async ({ rpc, access }, principal, resource, input: z.output<typeof updateScheduleBody>) => {
      const user = requireUser(principal);
      // Who changes when a schedule fires starts its runs (as its owner): enabling it or changing its
      // timing needs what scheduling its actions needs (found by the outside attack pass: WRITE on a
      // schedule let a grantee fire, every second, an Actor they may not run).
      // Disabling it is always allowed.
      if (
        !input.actions &&
        input.isEnabled !== false &&
        TIMING_FIELDS.some((key) => input[key] !== undefined)
      ) {
        const { actions } = await rpc.call(SchedulesRpc.get, { id: resource.id });
        await resolveActions(rpc, access, user, actions as ActionsInput, "the schedule's actions");
      }
      return { ...input, actions: await resolveActions(rpc, access, user, input.actions) };
    },
  },
});

/** What is special about schedules, with Apify API v2's paths and shapes. */
@Controller('v2/schedules')
export class SchedulesController {
  constructor(private readonly rpc: RpcClient) {}

  /** What its firings did, oldest first: `{ message, level, createdAt }` each, the last 1000 kept. */
  @Get(':scheduleId/log')
  @Authorize('SCHEDULE', 'READ', 'scheduleId')
  @Returns(z.array(scheduleLogEntryView))
  async log(@CurrentResource() resource: AuthorizedResource) {
    return { data: await this.rpc.call(SchedulesRpc.getLog, { id: resource.id }) };
  }
}
