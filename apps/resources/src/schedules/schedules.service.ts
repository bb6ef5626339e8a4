import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import {
  AppError,
  ListPage,
  RpcPayload,
  ScheduleActionView,
  SchedulesRpc,
  ScheduleView,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { CatalogueService } from '../catalogue/catalogue.service';
import { listCatalogued } from '../catalogue/catalogued-list.query';
import { ResourceEntity } from '../catalogue/resource.entity';
import { ScheduleEntity } from './schedule.entity';

export type ScheduleRow = { resource: ResourceEntity; schedule: ScheduleEntity };
type ActionInput = NonNullable<RpcPayload<typeof SchedulesRpc.createSchedule>['schedule']['actions']>[number];

export function toScheduleView({ resource, schedule }: ScheduleRow): ScheduleView {
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

function conflict(name: string | undefined): AppError {
  return new AppError('conflict', `A schedule named "${name}" already exists in this account`);
}

/** Schedules: when to run which Actors and tasks. Atrium stores them; it does not fire them yet. */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  async load(
    id: string,
    manager: EntityManager = this.dataSource.manager,
    lock = false,
  ): Promise<ScheduleRow> {
    const resource = await this.catalogue.load(manager, 'SCHEDULE', id, lock);
    const schedule = await manager.findOneByOrFail(ScheduleEntity, { id });
    return { resource, schedule };
  }

  async create(req: RpcPayload<typeof SchedulesRpc.createSchedule>): Promise<ScheduleView> {
    const { name, ...fields } = req.schedule;
    try {
      const row = await this.dataSource.transaction(async (manager) => {
        const resource = await this.catalogue.create(manager, {
          type: 'SCHEDULE',
          ownerId: req.ownerId,
          createdBy: req.createdBy,
          name,
          generalAccess: 'RESTRICTED',
        });
        await manager.save(
          Object.assign(new ScheduleEntity(), {
            id: resource.id,
            title: fields.title ?? null,
            cronExpression: fields.cronExpression,
            timezone: fields.timezone ?? 'UTC',
            isEnabled: fields.isEnabled ?? true,
            isExclusive: fields.isExclusive ?? true,
            description: fields.description ?? null,
            notifications: fields.notifications ?? { email: true },
            actions: withIds(fields.actions ?? []),
          }),
        );
        return this.load(resource.id, manager);
      });
      this.outbox.kick();
      return toScheduleView(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(name);
      throw err;
    }
  }

  async get(id: string): Promise<ScheduleView> {
    return toScheduleView(await this.load(id));
  }

  async update(req: RpcPayload<typeof SchedulesRpc.updateSchedule>): Promise<ScheduleView> {
    const { name, actions, ...fields } = req.changes;
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      if (name !== undefined) {
        await this.catalogue.update(manager, current.resource, { name });
      } else {
        current.resource.modifiedAt = new Date();
        await manager.save(current.resource);
      }
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) Object.assign(current.schedule, { [key]: value });
      }
      if (actions) current.schedule.actions = withIds(actions, current.schedule.actions);
      await manager.save(current.schedule);
      return current;
    });
    this.outbox.kick();
    return toScheduleView(row);
  }

  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const { resource } = await this.load(id, manager, true);
      await manager.delete(ScheduleEntity, { id });
      await this.catalogue.remove(manager, resource);
    });
    this.outbox.kick();
    return { ok: true };
  }

  async list(req: RpcPayload<typeof SchedulesRpc.listSchedules>): Promise<ListPage<ScheduleView>> {
    const { total, rows } = await listCatalogued(this.dataSource, 'SCHEDULE', ScheduleEntity, {
      ...req,
      unnamed: true,
    });
    const items = rows.map(({ resource, state }) => toScheduleView({ resource, schedule: state }));
    return { total, ...req.page, count: items.length, items };
  }
}
