import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import {
  ActorsRpc,
  ActorVersionView,
  ActorView,
  AppError,
  DEFAULT_RUN_OPTIONS,
  ListPage,
  RpcPayload,
  StoreActorRow,
} from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, In } from 'typeorm';
import { CatalogueService } from '../catalogue/catalogue.service';
import { listCatalogued } from '../catalogue/catalogued-list.query';
import { ResourceEntity } from '../catalogue/resource.entity';
import { BuildEntity } from '../builds/build.entity';
import { ActorEntity } from './actor.entity';
import { ActorVersionEntity } from '../actor-versions/actor-version.entity';
import { ActorEnvVarEntity } from '../actor-versions/actor-env-var.entity';
import { ActorVersionsService } from '../actor-versions/actor-versions.service';

export type ActorRow = { resource: ResourceEntity; actor: ActorEntity };

interface StoreRow {
  id: string;
  owner_id: string;
  name: string | null;
  title: string | null;
  description: string | null;
  categories: string[];
  build_count: number;
  total_runs: string | null;
  total_users: string | null;
  users_7: string | null;
  users_30: string | null;
  users_90: string | null;
  last_run: string | Date | null;
}

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
    const { resource, state } = await this.catalogue.loadRow(manager, 'ACTOR', ActorEntity, id, lock);
    return { resource, actor: state };
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

  /** Public Actors with their run statistics, filtered and sorted as Apify's store (see ActorsRpc.listStore). */
  async listStore(req: RpcPayload<typeof ActorsRpc.listStore>): Promise<ListPage<StoreActorRow>> {
    const resources = this.dataSource.getMetadata(ResourceEntity).tablePath;
    const actors = this.dataSource.getMetadata(ActorEntity).tablePath;
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const where = [`r.type = 'ACTOR'`, 'r.is_public'];
    let matchesName: string | null = null;
    if (req.search) {
      const like = param(`%${req.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const owner = req.searchOwnerId ? ` OR r.owner_id = ${param(req.searchOwnerId)}` : '';
      where.push(`(r.name ILIKE ${like} OR a.title ILIKE ${like} OR a.description ILIKE ${like}${owner})`);
      matchesName = `(r.name ILIKE ${like} OR a.title ILIKE ${like})`;
    }
    if (req.ownerId) where.push(`r.owner_id = ${param(req.ownerId)}`);
    if (req.category) where.push(`a.categories ? ${param(req.category)}`);
    const popularity = 'COALESCE(s.total_users, 0) DESC, COALESCE(s.total_runs, 0) DESC';
    const order = {
      relevance: matchesName ? `${matchesName} DESC, ${popularity}` : popularity,
      popularity,
      newest: 'r.created_at DESC',
      lastUpdate: 'r.modified_at DESC',
    }[req.sortBy];
    const from = `
      FROM ${resources} r
      JOIN ${actors} a ON a.id = r.id
      LEFT JOIN (
        SELECT actor_id,
               COUNT(*) AS total_runs,
               COUNT(DISTINCT owner_id) AS total_users,
               COUNT(DISTINCT owner_id) FILTER (WHERE created_at > now() - interval '7 days') AS users_7,
               COUNT(DISTINCT owner_id) FILTER (WHERE created_at > now() - interval '30 days') AS users_30,
               COUNT(DISTINCT owner_id) FILTER (WHERE created_at > now() - interval '90 days') AS users_90,
               MAX(created_at) AS last_run
          FROM ${resources} WHERE type = 'ACTOR_RUN' GROUP BY actor_id
      ) s ON s.actor_id = r.id
      WHERE ${where.join(' AND ')}`;
    const { offset, limit, desc } = req.page;
    const [{ total }] = await this.dataSource.query<{ total: string }[]>(
      `SELECT COUNT(*) AS total ${from}`,
      params,
    );
    const rows = await this.dataSource.query<StoreRow[]>(
      `SELECT r.id, r.owner_id, r.name, a.title, a.description, a.categories, a.build_count,
              s.total_runs, s.total_users, s.users_7, s.users_30, s.users_90, s.last_run
       ${from} ORDER BY ${order}, r.id ASC OFFSET ${param(offset)} LIMIT ${param(limit)}`,
      params,
    );
    const items = rows.map((row): StoreActorRow => ({
      id: row.id,
      userId: row.owner_id,
      title: row.title ?? row.name ?? row.id,
      name: row.name ?? row.id,
      description: row.description,
      categories: row.categories,
      stats: {
        totalBuilds: row.build_count,
        totalRuns: Number(row.total_runs ?? 0),
        totalUsers: Number(row.total_users ?? 0),
        totalUsers7Days: Number(row.users_7 ?? 0),
        totalUsers30Days: Number(row.users_30 ?? 0),
        totalUsers90Days: Number(row.users_90 ?? 0),
        totalMetamorphs: 0,
        lastRunStartedAt: row.last_run ? new Date(row.last_run).toISOString() : null,
      },
      currentPricingInfo: { pricingModel: 'FREE' },
    }));
    return { total: Number(total), offset, limit, desc, count: items.length, items };
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
