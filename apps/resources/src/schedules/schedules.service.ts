import { Injectable } from '@nestjs/common';
import {
  nextCronTime,
  RpcPayload,
  ScheduleActionView,
  SCHEDULE_LOG_MAX_ENTRIES,
  ScheduleLogEntryView,
  SCHEDULES,
  SchedulesRpc,
  ScheduleView,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { CatalogueService, CataloguedRow } from '../catalogue/catalogue.service';
import { CataloguedTypeStore } from '../catalogue/catalogued-store';
import { ScheduleLogEntryEntity } from './schedule-log-entry.entity';
import { ScheduleEntity } from './schedule.entity';
import { SchedulerClock } from './scheduler-clock';

type Payload<K extends keyof typeof SchedulesRpc> = RpcPayload<(typeof SchedulesRpc)[K]>;
type ActionInput = NonNullable<Payload<'create'>['schedule']['actions']>[number];
type Timing = Pick<ScheduleEntity, 'cronExpression' | 'timezone' | 'isEnabled'>;

export function toScheduleView({ resource, state: schedule }: CataloguedRow<ScheduleEntity>): ScheduleView {
  return {
    id: resource.id,
    userId: resource.ownerId,
    name: resource.name ?? resource.id,
    title: schedule.title,
    cronExpression: schedule.cronExpression,
    timezone: schedule.timezone,
    isEnabled: schedule.isEnabled,
    isExclusive: schedule.isExclusive,
    description: schedule.description,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt: resource.modifiedAt.toISOString(),
    nextRunAt: schedule.nextRunAt?.toISOString() ?? null,
    lastRunAt: schedule.lastRunAt?.toISOString() ?? null,
    notifications: schedule.notifications,
    actions: schedule.actions,
  };
}

/** When an enabled schedule fires next after `after`; null while it is disabled. */
export function nextRunOf(timing: Timing, after: Date): Date | null {
  return timing.isEnabled ? nextCronTime(timing.cronExpression, timing.timezone, after) : null;
}

/** Gives each action an id: the one it was sent with when that names an existing action, else a new one. */
function withIds(actions: ActionInput[], existing: ScheduleActionView[] = []): ScheduleActionView[] {
  const known = new Set(existing.map((a) => a.id));
  return actions.map(
    (action) =>
      ({ ...action, id: action.id && known.has(action.id) ? action.id : newId() }) as ScheduleActionView,
  );
}

/**
 * Schedules: when to run which Actors and tasks. Each keeps the tick it fires for next
 * (`nextRunAt`), computed when it is created, when its timing changes and after each firing
 * (ScheduleFirer), and a log of what its firings did.
 */
@Injectable()
export class SchedulesService extends CataloguedTypeStore<ScheduleEntity, ScheduleView> {
  constructor(
    dataSource: DataSource,
    catalogue: CatalogueService,
    outbox: ServiceOutboxRelay,
    private readonly clock: SchedulerClock,
  ) {
    super(dataSource, catalogue, outbox, {
      descriptor: SCHEDULES,
      state: ScheduleEntity,
      toView: toScheduleView,
      content: { entity: ScheduleLogEntryEntity, by: 'scheduleId' },
      // An update replaces the schedule's fields; an action keeps its id when it names a known one.
      // A change of when it fires (cron, time zone, enabled) counts its next run from now.
      ownFields: ({ actions, ...fields }: Omit<Payload<'update'>['changes'], 'name'>, schedule) => {
        const timing: Timing = {
          cronExpression: fields.cronExpression ?? schedule.cronExpression,
          timezone: fields.timezone ?? schedule.timezone,
          isEnabled: fields.isEnabled ?? schedule.isEnabled,
        };
        const retimed =
          timing.cronExpression !== schedule.cronExpression ||
          timing.timezone !== schedule.timezone ||
          timing.isEnabled !== schedule.isEnabled;
        return {
          ...fields,
          actions: actions && withIds(actions, schedule.actions),
          nextRunAt: retimed ? nextRunOf(timing, clock.now()) : undefined,
        };
      },
    });
  }

  /**
   * Locked, the schedule's own row is locked too: an update or delete then waits for a firing
   * that holds it, and never writes back the `nextRunAt` it read before that firing advanced it.
   */
  override async load(
    id: string,
    manager: EntityManager = this.dataSource.manager,
    lock = false,
  ): Promise<CataloguedRow<ScheduleEntity>> {
    if (!lock) return super.load(id, manager);
    const row = await super.load(id, manager, true);
    return { ...row, state: await this.lockState(manager, id) };
  }

  async create(req: Payload<'create'>): Promise<ScheduleView> {
    const { name, ...fields } = req.schedule;
    const timing: Timing = {
      cronExpression: fields.cronExpression,
      timezone: fields.timezone ?? 'UTC',
      isEnabled: fields.isEnabled ?? true,
    };
    return this.created(name, (manager) =>
      this.createIn(
        manager,
        { ownerId: req.ownerId, createdBy: req.createdBy, name, generalAccess: 'RESTRICTED' },
        {
          ...timing,
          title: fields.title ?? null,
          isExclusive: fields.isExclusive ?? true,
          description: fields.description ?? null,
          notifications: fields.notifications ?? { email: true },
          actions: withIds(fields.actions ?? []),
          nextRunAt: nextRunOf(timing, this.clock.now()),
          lastRunAt: null,
        },
      ),
    );
  }

  /** The schedule's log, oldest entry first (its firings trim it to the last SCHEDULE_LOG_MAX_ENTRIES). */
  async log(id: string): Promise<ScheduleLogEntryView[]> {
    await this.load(id);
    const entries = await this.dataSource.manager.find(ScheduleLogEntryEntity, {
      where: { scheduleId: id },
      order: { id: 'DESC' },
      take: SCHEDULE_LOG_MAX_ENTRIES,
    });
    return entries.reverse().map(({ message, level, createdAt }) => ({
      message,
      level,
      createdAt: createdAt.toISOString(),
    }));
  }
}
