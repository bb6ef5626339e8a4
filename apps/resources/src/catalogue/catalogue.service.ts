import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import { AppError, Events, GeneralAccess, ResourceFacts, ResourceType } from '@atrium/contracts';
import { newId, randomBase62 } from '@atrium/auth';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, FindOptionsWhere, ObjectLiteral, ObjectType } from 'typeorm';
import { UsageService } from '../usage/usage.service';
import { ResourceEntity } from './resource.entity';

export function toResourceFacts(resource: ResourceEntity): ResourceFacts {
  return {
    id: resource.id,
    type: resource.type,
    ownerId: resource.ownerId,
    name: resource.name,
    generalAccess: resource.generalAccess,
    isPublic: resource.isPublic,
    actorId: resource.actorId,
    taskId: resource.taskId,
    runId: resource.runId,
    groupId: resource.groupId,
    version: resource.version,
  };
}

export interface NewResource {
  type: ResourceType;
  ownerId: string;
  createdBy: string;
  name?: string | null;
  generalAccess?: GeneralAccess;
  isPublic?: boolean;
  actorId?: string | null;
  taskId?: string | null;
  runId?: string | null;
  groupId?: string | null;
}

/** A resource: its catalogue row and the type's own row (`state`, keyed by the catalogue id). */
export interface CataloguedRow<S> {
  resource: ResourceEntity;
  state: S;
}

export type ResourceChanges = Partial<
  Pick<ResourceEntity, 'name' | 'generalAccess' | 'isPublic' | 'signingKey' | 'groupId'>
>;

/**
 * The catalogue row every resource type shares: one place creates, changes and removes it,
 * always with its event in the same transaction (the permissions service projects it).
 */
@Injectable()
export class CatalogueService {
  constructor(
    readonly dataSource: DataSource,
    readonly outbox: ServiceOutboxRelay,
    readonly usage: UsageService,
  ) {}

  async facts(id: string): Promise<ResourceFacts | null> {
    const resource = await this.dataSource.manager.findOneBy(ResourceEntity, { id });
    return resource ? toResourceFacts(resource) : null;
  }

  async factsByName(type: ResourceType, ownerId: string, name: string): Promise<ResourceFacts | null> {
    const resource = await this.dataSource.manager.findOneBy(ResourceEntity, { type, ownerId, name });
    return resource ? toResourceFacts(resource) : null;
  }

  async findByName(type: ResourceType, ownerId: string, name: string): Promise<ResourceEntity | null> {
    return this.dataSource.manager.findOneBy(ResourceEntity, { type, ownerId, name });
  }

  /** The row of a resource of the given type, locked for update when asked; 404 otherwise. */
  async load(manager: EntityManager, type: ResourceType, id: string, lock = false): Promise<ResourceEntity> {
    const resource = await manager.findOne(ResourceEntity, {
      where: { id, type },
      lock: lock ? { mode: 'pessimistic_write' } : undefined,
    });
    if (!resource) throw notFound(type);
    return resource;
  }

  /** The catalogue row (locked when asked, 404 if absent) with the type's own row keyed by its id. */
  async loadRow<S extends ObjectLiteral>(
    manager: EntityManager,
    type: ResourceType,
    state: ObjectType<S>,
    id: string,
    lock = false,
  ): Promise<CataloguedRow<S>> {
    const resource = await this.load(manager, type, id, lock);
    const row = await manager.findOneBy(state, { id } as unknown as FindOptionsWhere<S>);
    // Read outside a transaction, both rows can be gone by the second read: deleted meanwhile.
    if (!row) throw notFound(type);
    return { resource, state: row };
  }

  /**
   * Creates a resource in its own transaction (`createIn`), or with a name returns the owner's
   * existing one of that name — also when a concurrent request created it first.
   */
  async getOrCreate<R>(
    input: { type: ResourceType; ownerId: string; name?: string },
    createIn: (manager: EntityManager) => Promise<R>,
    load: (id: string) => Promise<R>,
  ): Promise<{ row: R; created: boolean }> {
    const existing = () =>
      input.name ? this.findByName(input.type, input.ownerId, input.name) : Promise.resolve(null);
    const found = await existing();
    if (found) return { row: await load(found.id), created: false };
    try {
      const row = await this.dataSource.transaction(createIn);
      this.outbox.kick();
      return { row, created: true };
    } catch (err) {
      const winner = isUniqueViolation(err) ? await existing() : null;
      if (winner) return { row: await load(winner.id), created: false };
      throw err;
    }
  }

  async create(manager: EntityManager, input: NewResource): Promise<ResourceEntity> {
    const id = newId();
    await manager.insert(ResourceEntity, {
      id,
      type: input.type,
      ownerId: input.ownerId,
      name: input.name ?? null,
      generalAccess: input.generalAccess ?? 'FOLLOW_USER_SETTING',
      isPublic: input.isPublic ?? false,
      actorId: input.actorId ?? null,
      taskId: input.taskId ?? null,
      runId: input.runId ?? null,
      groupId: input.groupId ?? null,
      signingKey: randomBase62(32),
      version: 1,
      createdBy: input.createdBy,
    });
    const created = await manager.findOneByOrFail(ResourceEntity, { id });
    // Counted against the owner (a member's creation on a primary counts for the primary); at its limit, 402.
    await this.usage.resourceCreated(manager, created);
    await addToOutbox(manager, Events.resourceCreated, toResourceFacts(created));
    return created;
  }

  /**
   * Applies changes with a version bump; a taken name is a 409 naming it. `changedBy`, the user
   * who made the change, rides on the event for the audit log.
   */
  async update(
    manager: EntityManager,
    resource: ResourceEntity,
    changes: ResourceChanges,
    changedBy?: string,
  ): Promise<ResourceEntity> {
    const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    Object.assign(resource, defined, { version: resource.version + 1, modifiedAt: new Date() });
    try {
      await manager.save(resource);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AppError(
          'conflict',
          `A ${resource.type.toLowerCase().replace(/_/g, ' ')} named "${changes.name}" already exists in this account`,
        );
      }
      throw err;
    }
    await addToOutbox(manager, Events.resourceUpdated, { ...toResourceFacts(resource), changedBy });
    return resource;
  }

  /** Removes the row and releases what the resource held of its owner's usage (`causedBy`: default the owner). */
  async remove(manager: EntityManager, resource: ResourceEntity, causedBy?: string): Promise<void> {
    await manager.delete(ResourceEntity, { id: resource.id });
    await this.usage.resourceRemoved(manager, resource, causedBy);
    await addToOutbox(manager, Events.resourceDeleted, {
      id: resource.id,
      type: resource.type,
      ownerId: resource.ownerId,
      version: resource.version + 1,
    });
  }
}

const notFound = (type: ResourceType) => AppError.notFound(`The ${type.toLowerCase().replace(/_/g, ' ')}`);
