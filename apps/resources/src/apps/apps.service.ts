import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import {
  AppCollaboratorRecord,
  AppError,
  AppsRpc,
  AppView,
  ListPage,
  RpcPayload,
  RpcResponse,
} from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { CatalogueService } from '../catalogue/catalogue.service';
import { listCatalogued } from '../catalogue/catalogued-list.query';
import { ResourceEntity } from '../catalogue/resource.entity';
import { AppAnnotationEntity } from './app-annotation.entity';
import { AppCollaboratorEntity } from './app-collaborator.entity';
import { AppComponentEntity } from './app-component.entity';
import { AppConceptEntity } from './app-concept.entity';
import { AppInputEntity } from './app-input.entity';
import { AppModelVersionEntity } from './app-model-version.entity';
import { AppModelEntity } from './app-model.entity';
import { AppEntity } from './app.entity';

/** Every table holding an app's contents, keyed by `appId`. */
const CONTENT_ENTITIES = [
  AppAnnotationEntity,
  AppInputEntity,
  AppConceptEntity,
  AppModelVersionEntity,
  AppModelEntity,
  AppComponentEntity,
  AppCollaboratorEntity,
] as const;

export function toAppView(resource: ResourceEntity, app: AppEntity): AppView {
  return {
    id: resource.id,
    name: resource.name ?? resource.id,
    userId: resource.ownerId,
    description: app.description,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt: resource.modifiedAt.toISOString(),
  };
}

function toCollaboratorRecord(row: AppCollaboratorEntity): AppCollaboratorRecord {
  return {
    appId: row.appId,
    userId: row.userId,
    tokenId: row.tokenId,
    addedBy: row.addedBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Apps (Clarifai) as resources: the catalogue row, a description, and the collaborators' tokens. */
@Injectable()
export class AppsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  private async load(id: string, manager: EntityManager = this.dataSource.manager, lock = false) {
    const { resource, state } = await this.catalogue.loadRow(manager, 'APP', AppEntity, id, lock);
    return { resource, app: state };
  }

  async create(req: RpcPayload<typeof AppsRpc.createApp>): Promise<AppView> {
    try {
      const { resource, app } = await this.dataSource.transaction(async (manager) => {
        const created = await this.catalogue.create(manager, {
          type: 'APP',
          ownerId: req.ownerId,
          createdBy: req.createdBy,
          name: req.app.name,
          generalAccess: 'RESTRICTED',
        });
        await manager.insert(AppEntity, { id: created.id, description: req.app.description ?? null });
        return this.load(created.id, manager);
      });
      this.outbox.kick();
      return toAppView(resource, app);
    } catch (err) {
      if (isUniqueViolation(err)) throw this.nameTaken(req.app.name);
      throw err;
    }
  }

  private nameTaken(name: string) {
    return new AppError('conflict', `An app named "${name}" already exists in this account`);
  }

  async get(id: string): Promise<AppView> {
    const { resource, app } = await this.load(id);
    return toAppView(resource, app);
  }

  async update(req: RpcPayload<typeof AppsRpc.updateApp>): Promise<AppView> {
    const { resource, app } = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      if (req.changes.name !== undefined && req.changes.name !== current.resource.name) {
        await this.catalogue.update(manager, current.resource, { name: req.changes.name });
      } else {
        current.resource.modifiedAt = new Date();
        await manager.save(current.resource);
      }
      if (req.changes.description !== undefined) {
        current.app.description = req.changes.description;
        await manager.save(current.app);
      }
      return current;
    });
    this.outbox.kick();
    return toAppView(resource, app);
  }

  /** Removes the app and all it holds at once; answers the tokens its collaborators were given. */
  async delete(id: string): Promise<RpcResponse<typeof AppsRpc.deleteApp>> {
    const collaborators = await this.dataSource.transaction(async (manager) => {
      const { resource } = await this.load(id, manager, true);
      const rows = await manager.findBy(AppCollaboratorEntity, { appId: id });
      for (const entity of CONTENT_ENTITIES) await manager.delete(entity, { appId: id });
      await manager.delete(AppEntity, { id });
      await this.catalogue.remove(manager, resource);
      return rows;
    });
    this.outbox.kick();
    return {
      ok: true,
      collaboratorTokens: collaborators.map(({ userId, tokenId }) => ({ userId, tokenId })),
    };
  }

  async list(req: RpcPayload<typeof AppsRpc.listApps>): Promise<ListPage<AppView>> {
    const { total, rows } = await listCatalogued(this.dataSource, 'APP', AppEntity, {
      ...req,
      unnamed: false,
    });
    const items = rows.map(({ resource, state }) => toAppView(resource, state));
    return { total, ...req.page, count: items.length, items };
  }

  async recordCollaborator(
    req: RpcPayload<typeof AppsRpc.recordCollaborator>,
  ): Promise<{ previousTokenId: string | null }> {
    return this.dataSource.transaction(async (manager) => {
      await this.lockApp(manager, req.appId);
      const previous = await manager.findOne(AppCollaboratorEntity, {
        where: { appId: req.appId, userId: req.userId },
        lock: { mode: 'pessimistic_write' },
      });
      if (previous) await manager.delete(AppCollaboratorEntity, { appId: req.appId, userId: req.userId });
      await manager.insert(AppCollaboratorEntity, {
        appId: req.appId,
        userId: req.userId,
        tokenId: req.tokenId,
        addedBy: req.addedBy,
      });
      return { previousTokenId: previous && previous.tokenId !== req.tokenId ? previous.tokenId : null };
    });
  }

  async listCollaborators(
    req: RpcPayload<typeof AppsRpc.listCollaborators>,
  ): Promise<AppCollaboratorRecord[]> {
    await this.load(req.appId);
    const rows = await this.dataSource.manager.find(AppCollaboratorEntity, {
      where: { appId: req.appId, ...(req.userId !== undefined ? { userId: req.userId } : {}) },
      order: { createdAt: 'ASC', userId: 'ASC' },
    });
    return rows.map(toCollaboratorRecord);
  }

  async forgetCollaborator(req: RpcPayload<typeof AppsRpc.forgetCollaborator>): Promise<{ ok: true }> {
    await this.dataSource.manager.delete(AppCollaboratorEntity, { appId: req.appId, userId: req.userId });
    return { ok: true };
  }

  /** Holds the app against a concurrent delete while something is added to it (404 if it is gone). */
  async lockApp(manager: EntityManager, appId: string): Promise<void> {
    const found = await manager.findOne(ResourceEntity, {
      where: { id: appId, type: 'APP' },
      lock: { mode: 'pessimistic_read' },
    });
    if (!found) throw AppError.notFound('The app');
  }
}
