import { Injectable } from '@nestjs/common';
import {
  AppError,
  ENVIRONMENT_GROUPS,
  EnvironmentGroupsRpc,
  EnvironmentGroupView,
  RpcPayload,
} from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, In } from 'typeorm';
import { CatalogueService, CataloguedRow } from '../catalogue/catalogue.service';
import { CataloguedTypeStore } from '../catalogue/catalogued-store';
import { ResourceEntity } from '../catalogue/resource.entity';
import { EnvironmentGroupEntity } from './environment-group.entity';

/** Groups nest at most this deep, so that resolving a member's nearest group stays cheap. */
export const MAX_GROUP_DEPTH = 10;

type Payload<K extends keyof typeof EnvironmentGroupsRpc> = RpcPayload<(typeof EnvironmentGroupsRpc)[K]>;

/** An environment's or group's view: its catalogue row around what is its own (`own`). */
export function ownedView<T extends object>(resource: ResourceEntity, own: T) {
  return {
    id: resource.id,
    name: resource.name as string,
    ownerId: resource.ownerId,
    createdBy: resource.createdBy,
    ...own,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt: resource.modifiedAt.toISOString(),
  };
}

function groupView({ resource }: CataloguedRow<EnvironmentGroupEntity>): EnvironmentGroupView {
  return ownedView(resource, { parentId: resource.groupId });
}

/** Environment groups: catalogue rows of type ENVIRONMENT_GROUP whose `groupId` is the parent. */
@Injectable()
export class EnvironmentGroupsService extends CataloguedTypeStore<
  EnvironmentGroupEntity,
  EnvironmentGroupView
> {
  constructor(dataSource: DataSource, catalogue: CatalogueService, outbox: ServiceOutboxRelay) {
    super(dataSource, catalogue, outbox, {
      descriptor: ENVIRONMENT_GROUPS,
      state: EnvironmentGroupEntity,
      toView: groupView,
    });
  }

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

  async create(req: Payload<'create'>): Promise<EnvironmentGroupView> {
    return this.created(req.name, async (manager) => {
      if (req.parentId) {
        const parent = await this.requireOwnersGroup(manager, req.ownerId, req.parentId, 'body.parentId');
        if ((await this.ancestry(manager, parent)).length >= MAX_GROUP_DEPTH)
          throw new AppError(
            'invalid-input',
            `Field "body.parentId" is invalid: groups nest at most ${MAX_GROUP_DEPTH} levels deep`,
          );
      }
      const group = {
        ownerId: req.ownerId,
        createdBy: req.createdBy,
        name: req.name,
        groupId: req.parentId ?? null,
      };
      return this.createIn(manager, group);
    });
  }

  /** A new parent must be the owner's, and neither the group itself nor one of its descendants. */
  protected async change(
    manager: EntityManager,
    { resource: group }: CataloguedRow<EnvironmentGroupEntity>,
    changes: Payload<'update'>['changes'],
  ): Promise<void> {
    if (changes.parentId) {
      const parent = await this.requireOwnersGroup(manager, group.ownerId, changes.parentId, 'body.parentId');
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
    await this.catalogue.update(manager, group, { name: changes.name, groupId: changes.parentId });
  }

  /** Only an empty group goes: its environments and subgroups would otherwise lose their place. */
  async deleteIn(manager: EntityManager, id: string): Promise<void> {
    await this.load(id, manager, true);
    const contents = await manager.countBy(ResourceEntity, {
      groupId: id,
      type: In(['ENVIRONMENT', 'ENVIRONMENT_GROUP']),
    });
    if (contents)
      throw new AppError(
        'conflict',
        `The group holds ${contents} environment(s) or subgroup(s): move or delete them first`,
      );
    await super.deleteIn(manager, id);
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
