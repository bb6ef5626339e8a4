import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import {
  CheckResult,
  cronTimes,
  latestCronTime,
  nextCronTime,
  PermissionsRpc,
  RpcPayload,
  RpcRequest,
  RunsRpc,
  ScheduleActionView,
  SCHEDULE_LOG_MAX_ENTRIES,
  ScheduleLogEntryView,
  TERMINAL_RUN_STATUSES,
} from '@atrium/contracts';
import { PollingWorker, RpcClient, ServiceOutboxRelay } from '@atrium/messaging';
import { returnedRows } from '@atrium/persistence';
import { DataSource, EntityManager } from 'typeorm';
import { ResourceEntity } from '../catalogue/resource.entity';
import { RunEntity } from '../runs/run.entity';
import { RunsService } from '../runs/runs.service';
import { ScheduleLogEntryEntity } from './schedule-log-entry.entity';
import { ScheduleEntity } from './schedule.entity';
import { SchedulerClock } from './scheduler-clock';

const POLL_INTERVAL_MS = 1000;
/** While the permissions service does not answer, no schedule fires; the due ticks wait this long. */
const UNDECIDED_RETRY_MS = 3000;
/**
 * How long a replica's claim on a due schedule lasts (real time): another replica takes the
 * schedule over after it, should this one die while firing.
 */
const CLAIM_MS = 60_000;
/**
 * Missed ticks counted after downtime, at most (an every-second schedule down for a day has
 * 86,400; counting costs about 50 µs a tick).
 */
const MAX_COUNTED_TICKS = 1000;

type Check = Omit<RpcRequest<typeof PermissionsRpc.checkMany>['checks'][number], 'principal'>;
type Claim = { id: string; until: Date };
type LogEntry = Omit<ScheduleLogEntryView, 'createdAt'>;

/** One action of a firing: the run to start, or why it is not started. */
type Plan =
  | { action: ScheduleActionView; start: RpcPayload<typeof RunsRpc.start>; what: string }
  | { action: ScheduleActionView; refusal: string };
/** A plan and the checks it needs: each refused with its own message. */
type Planned = { plan: Plan; needs: { check: Check; refusal: string }[] };

/**
 * The due ticks of a schedule at `now`, from its `nextRunAt` on: how many (counted up to
 * MAX_COUNTED_TICKS), and the latest, which the firing is for.
 */
function dueTicks(schedule: ScheduleEntity, due: Date, now: Date): { latest: Date; count: number } {
  let count = 1;
  for (const next of cronTimes(schedule.cronExpression, schedule.timezone, due)) {
    if (next > now || count >= MAX_COUNTED_TICKS) break;
    count += 1;
  }
  const latest = latestCronTime(schedule.cronExpression, schedule.timezone, now);
  return { latest: latest && latest > due ? latest : due, count };
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The fields that are set (a run's options given as undefined would hide the Actor's defaults). */
const defined = <T extends object>(fields: T): Partial<T> =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Fires schedules: every second, each replica claims one due schedule at a time (`FOR UPDATE
 * SKIP LOCKED` and a lease, so a tick fires once across replicas), asks the permissions service
 * whether the owner may still run each action, then in one transaction starts the runs as the
 * owner, writes the schedule's log and moves `nextRunAt` to the first tick after now: ticks missed
 * while no replica ran fire once, not in a burst. When the permissions service does not answer
 * nothing fires (fail closed) and the due ticks are tried again a few seconds later.
 */
@Injectable()
export class ScheduleFirer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ScheduleFirer.name);
  private readonly worker = new PollingWorker(
    () => this.drain(),
    POLL_INTERVAL_MS,
    this.logger,
    'Scheduler will retry',
  );
  /** Real time (not the scheduler's clock) before which nothing is tried after the permissions service failed to answer. */
  private undecidedUntil = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly rpc: RpcClient,
    private readonly runs: RunsService,
    private readonly clock: SchedulerClock,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }

  /** Fires what is due now, without waiting for the next round. */
  kick(): void {
    this.worker.kick();
  }

  private async drain(): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    // A schedule whose firing failed unexpectedly waits for the next round instead of blocking the others.
    const failed: string[] = [];
    while (!this.worker.isStopped && Date.now() >= this.undecidedUntil) {
      const now = this.clock.now();
      const claim = await this.claim(now, failed);
      if (!claim) return;
      const outcome = await this.fire(claim, now).catch(async (err: unknown) => {
        this.logger.warn(`Schedule ${claim.id} did not fire; retrying: ${(err as Error).message}`);
        failed.push(claim.id);
        await this.release(claim);
        return 'failed' as const;
      });
      if (outcome === 'fired') this.outbox.kick();
      if (outcome === 'undecided') this.undecidedUntil = Date.now() + UNDECIDED_RETRY_MS;
    }
  }

  /**
   * Claims the earliest due schedule no other replica holds (`FOR UPDATE SKIP LOCKED`, then a
   * lease in `claimedUntil`). The claim commits at once: no transaction stays open while the
   * permissions service is asked (the embedded database runs one transaction at a time, so one
   * held across the call would keep the permissions service from answering).
   */
  private async claim(now: Date, skip: string[]): Promise<Claim | null> {
    const until = new Date(Date.now() + CLAIM_MS);
    const [row] = returnedRows<{ id: string }>(
      await this.dataSource.query(
        `UPDATE resources.schedule SET claimed_until = $3
          WHERE id = (
            SELECT id FROM resources.schedule
             WHERE is_enabled AND next_run_at <= $1 AND id <> ALL($2)
               AND (claimed_until IS NULL OR claimed_until < $4)
             ORDER BY next_run_at, id LIMIT 1
             FOR UPDATE SKIP LOCKED)
          RETURNING id`,
        [now, skip, until, new Date()],
      ),
    );
    return row ? { id: row.id, until } : null;
  }

  private async release({ id, until }: Claim): Promise<void> {
    await this.dataSource.query(
      `UPDATE resources.schedule SET claimed_until = NULL WHERE id = $1 AND claimed_until = $2`,
      [id, until],
    );
  }

  /**
   * Fires a claimed schedule: asks whether its owner may still run each action, then in one
   * transaction (the schedule locked, still claimed by us and unchanged) starts the runs, writes
   * the log and moves `nextRunAt` to the first tick after now.
   */
  private async fire(claim: Claim, now: Date): Promise<'fired' | 'undecided' | 'changed'> {
    const read = await this.dataSource.manager.findOneBy(ScheduleEntity, { id: claim.id });
    const resource = await this.dataSource.manager.findOneBy(ResourceEntity, { id: claim.id });
    if (!read || !resource) return 'changed'; // deleted meanwhile
    const plans = await this.plan(this.dataSource.manager, read, resource.ownerId);
    if (!plans) {
      await this.release(claim);
      return 'undecided';
    }
    return this.dataSource.transaction(async (manager) => {
      const schedule = await manager.findOne(ScheduleEntity, {
        where: { id: claim.id },
        lock: { mode: 'pessimistic_write' },
      });
      if (schedule?.claimedUntil?.getTime() !== claim.until.getTime()) return 'changed'; // deleted, or taken over
      const due = schedule.isEnabled && schedule.nextRunAt && schedule.nextRunAt <= now;
      if (!due || JSON.stringify(schedule.actions) !== JSON.stringify(read.actions)) {
        // Changed while its owner's access was checked: claimed again (with new checks) if still due.
        await manager.update(ScheduleEntity, schedule.id, { claimedUntil: null });
        return 'changed';
      }

      const { latest, count } = dueTicks(schedule, schedule.nextRunAt as Date, now);
      const log: LogEntry[] = [];
      if (count > 1) {
        const missed = count - 1;
        const more = count >= MAX_COUNTED_TICKS ? 'at least ' : '';
        log.push({
          level: 'INFO',
          message: `Missed ${more}${missed} tick${missed === 1 ? '' : 's'} since ${schedule.nextRunAt?.toISOString()} while the scheduler was not running; fired once for the tick at ${latest.toISOString()}`,
        });
        this.logger.warn(`Schedule ${schedule.id} missed ${more}${missed} ticks; firing once`);
      }
      log.push({ level: 'INFO', message: 'Schedule invoked' });
      const meta = {
        origin: 'SCHEDULER' as const,
        scheduleId: schedule.id,
        scheduledAt: latest.toISOString(),
      };
      const lastRunIds = { ...schedule.lastRunIds };
      for (const plan of plans) {
        if ('refusal' in plan) {
          log.push({ level: 'ERROR', message: plan.refusal });
          continue;
        }
        const previous = schedule.isExclusive && (await this.unfinished(manager, lastRunIds[plan.action.id]));
        if (previous) {
          log.push({
            level: 'INFO',
            message: `Not started: the previous run ${previous.id} of ${plan.what} from this schedule is still ${previous.status} (the schedule is exclusive)`,
          });
          continue;
        }
        try {
          // A savepoint: an action that cannot start leaves the others of the tick alone.
          const run = await manager.transaction((inner) => this.runs.startIn(inner, plan.start, meta));
          lastRunIds[plan.action.id] = run.id;
          log.push({ level: 'INFO', message: `Started run ${run.id} of ${plan.what}` });
        } catch (err) {
          log.push({ level: 'ERROR', message: `Cannot start ${plan.what}: ${(err as Error).message}` });
        }
      }

      await manager.update(ScheduleEntity, schedule.id, {
        lastRunAt: now,
        nextRunAt: nextCronTime(schedule.cronExpression, schedule.timezone, now),
        lastRunIds,
        claimedUntil: null,
      });
      await this.appendLog(manager, schedule.id, now, log);
      return 'fired';
    });
  }

  /**
   * Each action's run, or why the owner may not start it now: the Actor (or the task) is gone,
   * or the owner may no longer RUN the Actor (for a task: READ the task and RUN its Actor).
   * Undefined when the permissions service did not answer.
   */
  private async plan(
    manager: EntityManager,
    schedule: ScheduleEntity,
    ownerId: string,
  ): Promise<Plan[] | undefined> {
    const planned: Planned[] = [];
    for (const action of schedule.actions) planned.push(await this.planAction(manager, action, ownerId));
    const needs = planned.flatMap((p) => p.needs);
    if (!needs.length) return planned.map((p) => p.plan);
    let results: CheckResult[];
    try {
      results = await this.rpc.call(PermissionsRpc.checkMany, {
        checks: needs.map(({ check }) => ({ principal: { userId: ownerId }, ...check })),
      });
    } catch (err) {
      this.logger.warn(
        `Schedule ${schedule.id} waits for the permissions service: ${(err as Error).message}`,
      );
      return undefined;
    }
    const allowed = new Map(needs.map((need, i) => [need, results[i]?.allowed === true]));
    return planned.map(({ plan, needs: its }) => {
      const denied = its.find((need) => !allowed.get(need));
      return denied ? { action: plan.action, refusal: denied.refusal } : plan;
    });
  }

  /** One action's run as the owner would start it, and the permissions that needs. */
  private async planAction(
    manager: EntityManager,
    action: ScheduleActionView,
    userId: string,
  ): Promise<Planned> {
    const refused = (refusal: string): Planned => ({ plan: { action, refusal }, needs: [] });
    if (action.type === 'RUN_ACTOR') {
      const actor = await manager.findOneBy(ResourceEntity, { id: action.actorId, type: 'ACTOR' });
      if (!actor) return refused(`Not started: Actor ${action.actorId} no longer exists`);
      const { build, timeoutSecs, memoryMbytes } = action.runOptions ?? {};
      const input = action.runInput && {
        contentType: action.runInput.contentType,
        base64: Buffer.from(action.runInput.body).toString('base64'),
      };
      return {
        plan: {
          action,
          what: `Actor ${actor.id}`,
          start: {
            actorId: actor.id,
            taskId: null,
            userId,
            input: input ?? null,
            options: defined({ build, timeoutSecs, memoryMbytes }),
          },
        },
        needs: [
          {
            check: { resourceType: 'ACTOR', resourceRef: actor.id, permission: 'RUN' },
            refusal: `Not started: the owner may no longer RUN Actor ${actor.id}`,
          },
        ],
      };
    }
    const task = await manager.findOneBy(ResourceEntity, { id: action.actorTaskId, type: 'ACTOR_TASK' });
    if (!task?.actorId) return refused(`Not started: task ${action.actorTaskId} no longer exists`);
    const input =
      typeof action.input === 'string' ? action.input : action.input && JSON.stringify(action.input);
    return {
      plan: {
        action,
        what: `task ${task.id}`,
        start: {
          actorId: task.actorId,
          taskId: task.id,
          userId,
          input:
            input === undefined
              ? null
              : { contentType: JSON_CONTENT_TYPE, base64: Buffer.from(input).toString('base64') },
          options: {},
        },
      },
      needs: [
        {
          check: { resourceType: 'ACTOR_TASK', resourceRef: task.id, permission: 'READ' },
          refusal: `Not started: the owner may no longer READ task ${task.id}`,
        },
        {
          check: { resourceType: 'ACTOR', resourceRef: task.actorId, permission: 'RUN' },
          refusal: `Not started: the owner may no longer RUN Actor ${task.actorId} of task ${task.id}`,
        },
      ],
    };
  }

  /** The run, when it has not finished. */
  private async unfinished(manager: EntityManager, runId: string | undefined): Promise<RunEntity | null> {
    const run = runId ? await manager.findOneBy(RunEntity, { id: runId }) : null;
    return run && !TERMINAL_RUN_STATUSES.includes(run.status) ? run : null;
  }

  /** Appends the firing's entries, keeping the schedule's last SCHEDULE_LOG_MAX_ENTRIES. */
  private async appendLog(
    manager: EntityManager,
    scheduleId: string,
    at: Date,
    entries: LogEntry[],
  ): Promise<void> {
    await manager.insert(
      ScheduleLogEntryEntity,
      entries.map((entry) => ({ ...entry, scheduleId, createdAt: at })),
    );
    await manager.query(
      `DELETE FROM resources.schedule_log_entry
        WHERE schedule_id = $1
          AND id < (SELECT min(id) FROM (
                SELECT id FROM resources.schedule_log_entry WHERE schedule_id = $1
                 ORDER BY id DESC LIMIT ${SCHEDULE_LOG_MAX_ENTRIES}) kept)`,
      [scheduleId],
    );
  }
}
