import { Injectable } from '@nestjs/common';
import {
  ActorsRpc,
  ActorVersionView,
  ActorView,
  AppError,
  DEFAULT_RUN_OPTIONS,
  ListPage,
  RpcPayload,
} from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, In } from 'typeorm';
import { CatalogueService, isUniqueViolation } from '../catalogue/catalogue.service';
import { listCatalogued } from '../catalogue/catalogued-list.query';
import { ResourceEntity } from '../catalogue/resource.entity';
import { BuildEntity } from '../builds/build.entity';
import { ActorEntity } from './actor.entity';
import { ActorVersionEntity } from '../actor-versions/actor-version.entity';
import { ActorEnvVarEntity } from '../actor-versions/actor-env-var.entity';
import { ActorVersionsService } from '../actor-versions/actor-versions.service';

export type ActorRow = { resource: ResourceEntity; actor: ActorEntity };

/** `versions` as the caller may see them; list items leave them out, as Apify's do. */
export function toActorView({ resource, actor }: ActorRow, versions?: ActorVersionView[]): ActorView {
  return {
    id: resource.id,
    userId: resource.ownerId,
    name: resource.name ?? resource.id,
    title: actor.title,
    description: actor.description,
    isPublic: resource.isPublic,
    isDeprecated: actor.isDeprecated,
    seoTitle: actor.seoTitle,
    seoDescription: actor.seoDescription,
    categories: actor.categories,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt: resource.modifiedAt.toISOString(),
    defaultRunOptions: { ...DEFAULT_RUN_OPTIONS, ...actor.defaultRunOptions },
    exampleRunInput: actor.exampleRunInput,
    ...(versions ? { versions } : {}),
    taggedBuilds: actor.taggedBuilds,
    stats: { totalBuilds: actor.buildCount },
  };
}

function conflict(name: string | undefined): AppError {
  return new AppError('conflict', `An Actor named "${name}" already exists in this account`);
}

@Injectable()
export class ActorsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly outbox: ServiceOutboxRelay,
    private readonly versions: ActorVersionsService,
  ) {}

  /** The Actor with its versions; secret values only for a caller who may write it (`reveal`). */
  private async view(manager: EntityManager, row: ActorRow, reveal: boolean): Promise<ActorView> {
    return toActorView(row, await this.versions.versionsOf(manager, row.resource.id, reveal));
  }

  /** The Actor's catalogue row and state, locked for update when asked; 404 if there is none. */
  async load(id: string, manager: EntityManager = this.dataSource.manager, lock = false): Promise<ActorRow> {
    const resource = await this.catalogue.load(manager, 'ACTOR', id, lock);
    const actor = await manager.findOneByOrFail(ActorEntity, { id });
    return { resource, actor };
  }

  async create(req: RpcPayload<typeof ActorsRpc.createActor>): Promise<ActorView> {
    const { name, isPublic, versions, ...fields } = req.actor;
    try {
      const row = await this.dataSource.transaction(async (manager) => {
        const resource = await this.catalogue.create(manager, {
          type: 'ACTOR',
          ownerId: req.ownerId,
          createdBy: req.createdBy,
          name,
          isPublic: isPublic ?? false,
          // Actors are shared explicitly, never by link.
          generalAccess: 'RESTRICTED',
        });
        await manager.save(
          Object.assign(new ActorEntity(), {
            id: resource.id,
            title: fields.title ?? null,
            description: fields.description ?? null,
            isDeprecated: fields.isDeprecated ?? false,
            seoTitle: fields.seoTitle ?? null,
            seoDescription: fields.seoDescription ?? null,
            categories: fields.categories ?? [],
            defaultRunOptions: fields.defaultRunOptions ?? {},
            exampleRunInput: fields.exampleRunInput ?? null,
            taggedBuilds: {},
            buildCount: 0,
          }),
        );
        if (versions) await this.versions.replaceAll(manager, resource.id, versions);
        // Only writers create: they see the secrets they set.
        return this.view(manager, await this.load(resource.id, manager), true);
      });
      this.outbox.kick();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(name);
      throw err;
    }
  }

  async get(id: string, reveal = false): Promise<ActorView> {
    const manager = this.dataSource.manager;
    return this.view(manager, await this.load(id, manager), reveal);
  }

  async update(req: RpcPayload<typeof ActorsRpc.updateActor>): Promise<ActorView> {
    const { name, isPublic, defaultRunOptions, versions, ...fields } = req.changes;
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      if (name !== undefined || isPublic !== undefined) {
        // A name or visibility change is what the permissions service must learn about.
        await this.catalogue.update(manager, current.resource, { name, isPublic }, req.changedBy);
      } else {
        current.resource.modifiedAt = new Date();
        await manager.save(current.resource);
      }
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) Object.assign(current.actor, { [key]: value });
      }
      if (defaultRunOptions)
        current.actor.defaultRunOptions = { ...current.actor.defaultRunOptions, ...defaultRunOptions };
      await manager.save(current.actor);
      if (versions) await this.versions.replaceAll(manager, req.id, versions);
      return this.view(manager, current, true);
    });
    this.outbox.kick();
    return row;
  }

  /** Deletes the Actor with its builds; tasks of it stay (they may belong to other accounts). */
  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const { resource } = await this.load(id, manager, true);
      const builds = await manager.find(ResourceEntity, { where: { type: 'ACTOR_BUILD', actorId: id } });
      if (builds.length) await manager.delete(BuildEntity, { id: In(builds.map((b) => b.id)) });
      for (const build of builds) await this.catalogue.remove(manager, build);
      await manager.delete(ActorEnvVarEntity, { actorId: id });
      await manager.delete(ActorVersionEntity, { actorId: id });
      await manager.delete(ActorEntity, { id });
      await this.catalogue.remove(manager, resource);
    });
    this.outbox.kick();
    return { ok: true };
  }

  async list(req: RpcPayload<typeof ActorsRpc.listActors>): Promise<ListPage<ActorView>> {
    const { total, rows } = await listCatalogued(this.dataSource, 'ACTOR', ActorEntity, {
      ...req,
      unnamed: true,
    });
    const items = rows.map(({ resource, state }) => toActorView({ resource, actor: state }));
    return { total, ...req.page, count: items.length, items };
  }
}
