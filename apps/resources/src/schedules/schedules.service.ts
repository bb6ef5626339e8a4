import { Injectable } from '@nestjs/common';
import { RpcPayload, ScheduleActionView, SCHEDULES, SchedulesRpc, ScheduleView } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { CatalogueService, CataloguedRow } from '../catalogue/catalogue.service';
import { CataloguedTypeStore } from '../catalogue/catalogued-store';
import { ScheduleEntity } from './schedule.entity';

type Payload<K extends keyof typeof SchedulesRpc> = RpcPayload<(typeof SchedulesRpc)[K]>;
type ActionInput = NonNullable<Payload<'create'>['schedule']['actions']>[number];

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
    nextRunAt: null,
    lastRunAt: null,
    notifications: schedule.notifications,
    actions: schedule.actions,
  };
}

/** Gives each action an id: the one it was sent with when that names an existing action, else a new one. */
function withIds(actions: ActionInput[], existing: ScheduleActionView[] = []): ScheduleActionView[] {
  const known = new Set(existing.map((a) => a.id));
  return actions.map(
    (action) =>
      ({ ...action, id: action.id && known.has(action.id) ? action.id : newId() }) as ScheduleActionView,
  );
}

/** Schedules: when to run which Actors and tasks. Atrium stores them; it does not fire them yet. */
@Injectable()
export class SchedulesService extends CataloguedTypeStore<ScheduleEntity, ScheduleView> {
  constructor(dataSource: DataSource, catalogue: CatalogueService, outbox: ServiceOutboxRelay) {
    super(dataSource, catalogue, outbox, {
      descriptor: SCHEDULES,
      state: ScheduleEntity,
      toView: toScheduleView,
      // An update replaces the schedule's fields; an action keeps its id when it names a known one.
      ownFields: ({ actions, ...fields }: Omit<Payload<'update'>['changes'], 'name'>, schedule) => ({
        ...fields,
        actions: actions && withIds(actions, schedule.actions),
      }),
    });
  }

  async create(req: Payload<'create'>): Promise<ScheduleView> {
    const { name, ...fields } = req.schedule;
    return this.created(name, (manager) =>
      this.createIn(
        manager,
        { ownerId: req.ownerId, createdBy: req.createdBy, name, generalAccess: 'RESTRICTED' },
        {
          title: fields.title ?? null,
          cronExpression: fields.cronExpression,
          timezone: fields.timezone ?? 'UTC',
          isEnabled: fields.isEnabled ?? true,
          isExclusive: fields.isExclusive ?? true,
          description: fields.description ?? null,
          notifications: fields.notifications ?? { email: true },
          actions: withIds(fields.actions ?? []),
        },
      ),
    );
  }
}
