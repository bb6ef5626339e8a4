import { Injectable } from '@nestjs/common';
import {
  ACTOR_JOB_TERMINAL_STATUSES,
  ActorJobStatus,
  ActorsRpc,
  AppError,
  BuildView,
  ListPage,
  Events,
  RpcPayload,
  WebhookEventType,
} from '@atrium/contracts';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { ActorEntity } from '../actors/actor.entity';
import { ActorVersionEntity } from '../actor-versions/actor-version.entity';
import { compareVersionNumbers } from '../actor-versions/actor-versions.service';
import { definitionFromSource } from './actor-definition';
import { CatalogueService } from '../catalogue/catalogue.service';
import { listCatalogued } from '../catalogue/catalogued-list.query';
import { ResourceEntity } from '../catalogue/resource.entity';
import { BuildEntity } from './build.entity';
import { withLogLine } from '../runs/log-line';

export type BuildRow = { resource: ResourceEntity; build: BuildEntity };

export function toBuildView({ resource, build }: BuildRow): BuildView {
  return {
    id: resource.id,
    actId: resource.actorId ?? '',
    userId: resource.ownerId,
    buildNumber: build.buildNumber,
    status: build.status,
    startedAt: build.startedAt.toISOString(),
    finishedAt: build.finishedAt?.toISOString() ?? null,
    meta: build.meta,
    options: build.options,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt: resource.modifiedAt.toISOString(),
    generalAccess: resource.generalAccess as BuildView['generalAccess'],
    inputSchema: build.inputSchema,
    actorDefinition: build.actorDefinition,
  };
}

/** The webhook event of each terminal status. */
const BUILD_FINISHED_EVENTS = {
  SUCCEEDED: 'ACTOR.BUILD.SUCCEEDED',
  FAILED: 'ACTOR.BUILD.FAILED',
  'TIMED-OUT': 'ACTOR.BUILD.TIMED_OUT',
  ABORTED: 'ACTOR.BUILD.ABORTED',
} as const;

/** Declares a build's webhook event in the transaction that changed the build. */
function declareBuildEvent(
  manager: EntityManager,
  eventType: WebhookEventType,
  actorId: string,
  buildId: string,
): Promise<void> {
  return addToOutbox(manager, Events.actorJobEventOccurred, {
    eventType,
    actorId,
    actorTaskId: null,
    actorBuildId: buildId,
  });
}

/** Forward only: READY → RUNNING → a terminal status, and a finished build stays finished. */
function checkTransition(from: ActorJobStatus, to: ActorJobStatus): void {
  if (from === to) return;
  if (ACTOR_JOB_TERMINAL_STATUSES.includes(from))
    throw new AppError('conflict', `The build has already finished (${from})`);
  if (to === 'READY') throw new AppError('conflict', `A ${from} build cannot become READY again`);
}

/**
 * Build records of Actors. Atrium does not run builders: a build is created READY and moves
 * on only through `updateStatus` (or `abort`).
 */
@Injectable()
export class BuildsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  async load(id: string, manager: EntityManager = this.dataSource.manager, lock = false): Promise<BuildRow> {
    const { resource, state } = await this.catalogue.loadRow(manager, 'ACTOR_BUILD', BuildEntity, id, lock);
    return { resource, build: state };
  }

  async create(req: RpcPayload<typeof ActorsRpc.createBuild>): Promise<BuildView> {
    const row = await this.dataSource.transaction(async (manager) => {
      // The Actor's row lock serializes build numbers.
      const actorResource = await this.catalogue.load(manager, 'ACTOR', req.actorId, true);
      const actor = await manager.findOneByOrFail(ActorEntity, { id: req.actorId });
      const versions = await manager.find(ActorVersionEntity, { where: { actorId: req.actorId } });
      const highest = versions
        .map((v) => v.versionNumber)
        .sort(compareVersionNumbers)
        .at(-1);
      const versionNumber = req.version ?? highest ?? '0.0';
      const version = versions.find((v) => v.versionNumber === versionNumber);
      if (versions.length && !version) {
        throw new AppError(
          'invalid-input',
          `Field "version" is invalid: the Actor has no version "${versionNumber}"`,
        );
      }
      actor.buildCount += 1;
      await manager.save(actor);
      const resource = await this.catalogue.create(manager, {
        type: 'ACTOR_BUILD',
        // A build belongs to its Actor's owner, whoever started it.
        ownerId: actorResource.ownerId,
        createdBy: req.createdBy,
        actorId: actor.id,
      });
      const buildNumber = `${versionNumber}.${actor.buildCount}`;
      const built = definitionFromSource(version?.sourceType === 'SOURCE_FILES' ? version.sourceFiles : null);
      await manager.save(
        Object.assign(new BuildEntity(), {
          id: resource.id,
          buildNumber,
          tag: req.tag ?? version?.buildTag ?? 'latest',
          inputSchema: built.inputSchema,
          actorDefinition: built.actorDefinition,
          log: withLogLine(
            '',
            `Build ${buildNumber} created (status READY)` +
              (built.inputSchema ? ', with the input schema of its source files' : ''),
          ),
          status: 'READY',
          startedAt: new Date(),
          finishedAt: null,
          meta: req.meta,
          options: req.options,
        }),
      );
      await declareBuildEvent(manager, 'ACTOR.BUILD.CREATED', actor.id, resource.id);
      return this.load(resource.id, manager);
    });
    this.outbox.kick();
    return toBuildView(row);
  }

  async get(id: string): Promise<BuildView> {
    return toBuildView(await this.load(id));
  }

  async list(req: RpcPayload<typeof ActorsRpc.listBuilds>): Promise<ListPage<BuildView>> {
    const { offset, limit, desc } = req.page;
    if (req.actorId !== undefined) {
      const [resources, total] = await this.dataSource
        .getRepository(ResourceEntity)
        .createQueryBuilder('r')
        .innerJoinAndMapOne('r.state', BuildEntity, 'b', 'b.id = r.id')
        .where('r.type = :type AND r.actor_id = :actorId', { type: 'ACTOR_BUILD', actorId: req.actorId })
        .orderBy('r.createdAt', desc ? 'DESC' : 'ASC')
        .addOrderBy('r.id', 'ASC')
        .skip(offset)
        .take(limit)
        .getManyAndCount();
      const items = resources.map((resource) =>
        toBuildView({ resource, build: (resource as ResourceEntity & { state: BuildEntity }).state }),
      );
      return { total, offset, limit, desc, count: items.length, items };
    }
    const { total, rows } = await listCatalogued(this.dataSource, 'ACTOR_BUILD', BuildEntity, {
      ownerId: req.ownerId,
      ids: req.ids,
      unnamed: true,
      page: req.page,
    });
    const items = rows.map(({ resource, state }) => toBuildView({ resource, build: state }));
    return { total, offset, limit, desc, count: items.length, items };
  }

  async updateStatus(id: string, status: ActorJobStatus): Promise<BuildView> {
    return this.dataSource.transaction(async (manager) => {
      const row = await this.load(id, manager, true);
      checkTransition(row.build.status, status);
      await this.moveTo(manager, row, status);
      return toBuildView(row);
    });
  }

  /** A build's general access lives in its catalogue row, as a run's (the permissions service follows it). */
  async update(req: RpcPayload<typeof ActorsRpc.updateBuild>): Promise<BuildView> {
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      const { generalAccess, status } = req.changes;
      if (status !== undefined) {
        checkTransition(current.build.status, status);
        await this.moveTo(manager, current, status);
      }
      if (generalAccess !== undefined)
        await this.catalogue.update(manager, current.resource, { generalAccess });
      return current;
    });
    this.outbox.kick();
    return toBuildView(row);
  }

  /** Aborts a READY or RUNNING build; a finished one is returned as it is, as Apify does. */
  async abort(id: string): Promise<BuildView> {
    return this.dataSource.transaction(async (manager) => {
      const row = await this.load(id, manager, true);
      if (!ACTOR_JOB_TERMINAL_STATUSES.includes(row.build.status)) await this.moveTo(manager, row, 'ABORTED');
      return toBuildView(row);
    });
  }

  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const { resource } = await this.load(id, manager, true);
      await manager.delete(BuildEntity, { id });
      await this.catalogue.remove(manager, resource);
    });
    this.outbox.kick();
    return { ok: true };
  }

  async log(id: string): Promise<{ log: string }> {
    const { build } = await this.load(id);
    return { log: build.log };
  }

  /**
   * The build a run of the Actor uses: `ref` is a build number (`0.0.3`) or a tag, by default the
   * Actor's `defaultRunOptions.build` (else `latest`); 404 when there is none (no build has
   * succeeded with that tag).
   */
  async resolve(actorId: string, ref?: string): Promise<BuildView> {
    const manager = this.dataSource.manager;
    const actor = await this.catalogue.load(manager, 'ACTOR', actorId);
    const state = await manager.findOneByOrFail(ActorEntity, { id: actor.id });
    const found = await this.resolveForRun(actorId, ref ?? state.defaultRunOptions.build ?? 'latest');
    if (!found) throw AppError.notFound(`The build "${ref ?? state.defaultRunOptions.build ?? 'latest'}"`);
    return found;
  }

  private async resolveForRun(actorId: string, ref: string): Promise<BuildView | null> {
    const manager = this.dataSource.manager;
    let buildId: string | undefined;
    if (/^\d+\.\d+\.\d+$/.test(ref)) {
      const found = await manager
        .getRepository(ResourceEntity)
        .createQueryBuilder('r')
        .innerJoin(BuildEntity, 'b', 'b.id = r.id')
        .where('r.type = :type AND r.actor_id = :actorId AND b.build_number = :ref', {
          type: 'ACTOR_BUILD',
          actorId,
          ref,
        })
        .getOne();
      buildId = found?.id;
    } else {
      const actor = await manager.findOneBy(ActorEntity, { id: actorId });
      buildId = actor?.taggedBuilds[ref]?.buildId;
    }
    if (!buildId) return null;
    const resource = await manager.findOneBy(ResourceEntity, { id: buildId, type: 'ACTOR_BUILD' });
    const build = await manager.findOneBy(BuildEntity, { id: buildId });
    return resource && build ? toBuildView({ resource, build }) : null;
  }

  private async moveTo(manager: EntityManager, row: BuildRow, status: ActorJobStatus): Promise<void> {
    if (row.build.status === status) return;
    row.build.log = withLogLine(row.build.log, `Status changed from ${row.build.status} to ${status}`);
    row.build.status = status;
    if (ACTOR_JOB_TERMINAL_STATUSES.includes(status)) {
      row.build.finishedAt = new Date();
      if (row.resource.actorId)
        await declareBuildEvent(
          manager,
          BUILD_FINISHED_EVENTS[status as keyof typeof BUILD_FINISHED_EVENTS],
          row.resource.actorId,
          row.build.id,
        );
    }
    await manager.save(row.build);
    row.resource.modifiedAt = new Date();
    await manager.save(row.resource);
    if (status === 'SUCCEEDED' && row.resource.actorId) {
      const actor = await manager.findOne(ActorEntity, {
        where: { id: row.resource.actorId },
        lock: { mode: 'pessimistic_write' },
      });
      if (actor) {
        actor.taggedBuilds = {
          ...actor.taggedBuilds,
          [row.build.tag]: {
            buildId: row.build.id,
            buildNumber: row.build.buildNumber,
            finishedAt: row.build.finishedAt?.toISOString() ?? null,
          },
        };
        await manager.save(actor);
      }
    }
  }
}
