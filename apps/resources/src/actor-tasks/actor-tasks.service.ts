import { Injectable } from '@nestjs/common';
import { ACTOR_TASKS, ActorTasksRpc, ActorTaskView, RpcPayload } from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { CatalogueService, CataloguedRow } from '../catalogue/catalogue.service';
import { CataloguedTypeStore } from '../catalogue/catalogued-store';
import { ActorTaskEntity } from './actor-task.entity';

type Payload<K extends keyof typeof ActorTasksRpc> = RpcPayload<(typeof ActorTasksRpc)[K]>;

export function toActorTaskView({ resource, state: task }: CataloguedRow<ActorTaskEntity>): ActorTaskView {
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

/** Actor tasks: a saved input and run options for one Actor, owned by whoever created it. */
@Injectable()
export class ActorTasksService extends CataloguedTypeStore<ActorTaskEntity, ActorTaskView> {
  constructor(dataSource: DataSource, catalogue: CatalogueService, outbox: ServiceOutboxRelay) {
    super(dataSource, catalogue, outbox, {
      descriptor: ACTOR_TASKS,
      state: ActorTaskEntity,
      toView: toActorTaskView,
      noun: 'task',
      // An update replaces the task's fields, but `options` merge.
      ownFields: ({ options, ...fields }: Omit<Payload<'update'>['changes'], 'name'>, task) => ({
        ...fields,
        options: options && { ...task.options, ...options },
      }),
    });
  }

  async create(req: Payload<'create'>): Promise<ActorTaskView> {
    const { name, ...fields } = req.task;
    return this.created(name, async (manager) => {
      // The Actor must exist now; access to it was checked by the caller.
      await this.catalogue.load(manager, 'ACTOR', req.actorId);
      return this.createIn(
        manager,
        {
          ownerId: req.ownerId,
          createdBy: req.createdBy,
          name,
          actorId: req.actorId,
          generalAccess: 'RESTRICTED',
        },
        {
          title: fields.title ?? null,
          description: fields.description ?? null,
          options: fields.options ?? {},
          input: fields.input ?? null,
        },
      );
    });
  }
}
