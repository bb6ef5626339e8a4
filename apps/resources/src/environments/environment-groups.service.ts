import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import {
  AppError,
  EnvironmentGroupView,
  EnvironmentsRpc,
  ListPage,
  ResourceType,
  RpcPayload,
} from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, In } from 'typeorm';
import { listCatalogued } from '../catalogue/catalogued-list.query';
import { CatalogueService } from '../catalogue/catalogue.service';
import { ResourceEntity } from '../catalogue/resource.entity';
import { EnvironmentGroupEntity } from './environment-group.entity';

/** Groups nest at most this deep, so that resolving a member's nearest group stays cheap. */
export const MAX_GROUP_DEPTH = 10;

type Payload<K extends keyof typeof EnvironmentsRpc> = RpcPayload<(typeof EnvironmentsRpc)[K]>;

export function groupView(resource: ResourceEntity): EnvironmentGroupView {
  return {
    id: resource.id,
    name: resource.name as string,
    ownerId: resource.ownerId,
    createdBy: resource.createdBy,
    parentId: resource.groupId,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt: resource.modifiedAt.toISOString(),
  };
}

export function takenName(err: unknown, type: ResourceType, name: string | null | undefined): never {
  if (isUniqueViolation(err))
    throw new AppError(
      'conflict',
      `An ${type === 'ENVIRONMENT' ? 'environment' : 'environment group'} named "${name}" already exists in this account`,
    );
  throw err;
}

/** Environment groups: catalogue rows of type ENVIRONMENT_GROUP whose `groupId` is the parent. */
@Injectable()
export class EnvironmentGroupsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  /** A group of the owner, to create or move into; invalid-input naming `field` otherwise. */
  async requireOwnersGroup(
    manager: EntityManager,
    ownerId: string,
    groupId: string,
    field: string,
  ): Promise<ResourceEntity> {
    const group = await manager.findOneBy(ResourceEntity, { id: groupId, type: 'ENVIRONMENT_GROUP' });
    if (!group || group.ownerId !== ownerId)
      throw new AppError(
        'invalid-input',
        `Field "${field}" is invalid: "${groupId}" is not an environment group of the owner account`,
      );
    return group;
  }

  /** The ids from the group up to its root (the group first). */
  async ancestry(manager: EntityManager, group: ResourceEntity): Promise<string[]> {
    const chain = [group.id];
    let parentId = group.groupId;
    while (parentId && chain.length <= MAX_GROUP_DEPTH + 1) {
      chain.push(parentId);
      const parent = await manager.findOneBy(ResourceEntity, { id: parentId, type: 'ENVIRONMENT_GROUP' });
      parentId = parent?.groupId ?? null;
    }
    return chain;
  }

  async create(req: Payload<'createGroup'>): Promise<EnvironmentGroupView> {
    const group = await this.dataSource
      .transaction(async (manager) => {
        if (req.parentId) {
          const parent = await this.requireOwnersGroup(manager, req.ownerId, req.parentId, 'body.parentId');
          if ((await this.ancestry(manager, parent)).length >= MAX_GROUP_DEPTH)
            throw new AppError(
              'invalid-input',
              `Field "body.parentId" is invalid: groups nest at most ${MAX_GROUP_DEPTH} levels deep`,
            );
        }
        const resource = await this.catalogue.create(manager, {
          type: 'ENVIRONMENT_GROUP',
          ownerId: req.ownerId,
          createdBy: req.createdBy,
          name: req.name,
          groupId: req.parentId ?? null,
        });
        await manager.insert(EnvironmentGroupEntity, { id: resource.id });
        return resource;
      })
      .catch((err: unknown) => takenName(err, 'ENVIRONMENT_GROUP', req.name));
    this.outbox.kick();
    return groupView(group);
  }

  async get(id: string): Promise<EnvironmentGroupView> {
    return groupView(await this.catalogue.load(this.dataSource.manager, 'ENVIRONMENT_GROUP', id));
  }

  /** A new parent must be the owner's, and neither the group itself nor one of its descendants. */
  async update({ id, changes }: Payload<'updateGroup'>): Promise<EnvironmentGroupView> {
    const group = await this.dataSource
      .transaction(async (manager) => {
        const group = await this.catalogue.load(manager, 'ENVIRONMENT_GROUP', id, true);
        if (changes.parentId) {
          const parent = await this.requireOwnersGroup(
            manager,
            group.ownerId,
            changes.parentId,
            'body.parentId',
          );
          const chain = await this.ancestry(manager, parent);
          if (chain.includes(group.id))
            throw new AppError(
              'invalid-input',
              'Field "body.parentId" is invalid: a group cannot be moved into itself or one of its subgroups',
            );
          if (chain.length + (await this.subtreeHeight(manager, group.id)) > MAX_GROUP_DEPTH)
            throw new AppError(
              'invalid-input',
              `Field "body.parentId" is invalid: groups nest at most ${MAX_GROUP_DEPTH} levels deep`,
            );
        }
        return this.catalogue.update(manager, group, { name: changes.name, groupId: changes.parentId });
      })
      .catch((err: unknown) => takenName(err, 'ENVIRONMENT_GROUP', changes.name));
    this.outbox.kick();
    return groupView(group);
  }

  /** Only an empty group goes: its environments and subgroups would otherwise lose their place. */
  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const group = await this.catalogue.load(manager, 'ENVIRONMENT_GROUP', id, true);
      const contents = await manager.countBy(ResourceEntity, {
        groupId: id,
        type: In(['ENVIRONMENT', 'ENVIRONMENT_GROUP']),
      });
      if (contents)
        throw new AppError(
          'conflict',
          `The group holds ${contents} environment(s) or subgroup(s): move or delete them first`,
        );
      await manager.delete(EnvironmentGroupEntity, { id });
      await this.catalogue.remove(manager, group);
    });
    this.outbox.kick();
    return { ok: true };
  }

  async list(req: Payload<'listGroups'>): Promise<ListPage<EnvironmentGroupView>> {
    const { total, rows } = await listCatalogued(
      this.dataSource,
      'ENVIRONMENT_GROUP',
      EnvironmentGroupEntity,
      {
        ...req,
        unnamed: true,
      },
    );
    const items = rows.map(({ resource }) => groupView(resource));
    return { total, ...req.page, count: items.length, items };
  }

  /** How many levels of subgroups hang below the group (0: none). */
  private async subtreeHeight(manager: EntityManager, groupId: string): Promise<number> {
    let level = [groupId];
    let height = 0;
    while (height <= MAX_GROUP_DEPTH) {
      const children = await manager.findBy(ResourceEntity, {
        type: 'ENVIRONMENT_GROUP',
        groupId: In(level),
      });
      if (!children.length) return height;
      level = children.map((c) => c.id);
      height += 1;
    }
    return height;
  }
}
