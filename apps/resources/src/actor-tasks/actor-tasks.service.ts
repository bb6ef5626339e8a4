import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import { ActorTasksRpc, ActorTaskView, AppError, ListPage, RpcPayload } from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { CatalogueService } from '../catalogue/catalogue.service';
import { listCatalogued } from '../catalogue/catalogued-list.query';
import { ResourceEntity } from '../catalogue/resource.entity';
import { ActorTaskEntity } from './actor-task.entity';

export type ActorTaskRow = { resource: ResourceEntity; task: ActorTaskEntity };

export function toActorTaskView({ resource, task }: ActorTaskRow): ActorTaskView {
  return {
    id: resource.id,
    userId: resource.ownerId,
    actId: resource.actorId ?? '',
    name: resource.name ?? resource.id,
    title: task.title,
    description: task.description,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt: resource.modifiedAt.toISOString(),
    options: task.options,
    input: task.input,
  };
}

function conflict(name: string | undefined): AppError {
  return new AppError('conflict', `A task named "${name}" already exists in this account`);
}

/** Actor tasks: a saved input and run options for one Actor, owned by whoever created it. */
@Injectable()
export class ActorTasksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  async load(
    id: string,
    manager: EntityManager = this.dataSource.manager,
    lock = false,
  ): Promise<ActorTaskRow> {
    const resource = await this.catalogue.load(manager, 'ACTOR_TASK', id, lock);
    const task = await manager.findOneByOrFail(ActorTaskEntity, { id });
    return { resource, task };
  }

  async create(req: RpcPayload<typeof ActorTasksRpc.createTask>): Promise<ActorTaskView> {
    const { name, ...fields } = req.task;
    try {
      const row = await this.dataSource.transaction(async (manager) => {
        // The Actor must exist now; access to it was checked by the caller.
        await this.catalogue.load(manager, 'ACTOR', req.actorId);
        const resource = await this.catalogue.create(manager, {
          type: 'ACTOR_TASK',
          ownerId: req.ownerId,
          createdBy: req.createdBy,
          name,
          actorId: req.actorId,
          generalAccess: 'RESTRICTED',
        });
        await manager.save(
          Object.assign(new ActorTaskEntity(), {
            id: resource.id,
            title: fields.title ?? null,
            description: fields.description ?? null,
            options: fields.options ?? {},
            input: fields.input ?? null,
          }),
        );
        return this.load(resource.id, manager);
      });
      this.outbox.kick();
      return toActorTaskView(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(name);
      throw err;
    }
  }

  async get(id: string): Promise<ActorTaskView> {
    return toActorTaskView(await this.load(id));
  }

  async update(req: RpcPayload<typeof ActorTasksRpc.updateTask>): Promise<ActorTaskView> {
    const { name, options, ...fields } = req.changes;
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      if (name !== undefined) {
        await this.catalogue.update(manager, current.resource, { name });
      } else {
        current.resource.modifiedAt = new Date();
        await manager.save(current.resource);
      }
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) Object.assign(current.task, { [key]: value });
      }
      if (options) current.task.options = { ...current.task.options, ...options };
      await manager.save(current.task);
      return current;
    });
    this.outbox.kick();
    return toActorTaskView(row);
  }

  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const { resource } = await this.load(id, manager, true);
      await manager.delete(ActorTaskEntity, { id });
      await this.catalogue.remove(manager, resource);
    });
    this.outbox.kick();
    return { ok: true };
  }

  async list(req: RpcPayload<typeof ActorTasksRpc.listTasks>): Promise<ListPage<ActorTaskView>> {
    const { total, rows } = await listCatalogued(this.dataSource, 'ACTOR_TASK', ActorTaskEntity, {
      ...req,
      unnamed: true,
    });
    const items = rows.map(({ resource, state }) => toActorTaskView({ resource, task: state }));
    return { total, ...req.page, count: items.length, items };
  }
}
