import { Injectable } from '@nestjs/common';
import {
  AppError,
  DEFAULT_REGION,
  EnvironmentLogLine,
  ENVIRONMENTS,
  EnvironmentsRpc,
  EnvironmentView,
  ListPage,
  RpcPayload,
  SshSessionView,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { CatalogueService, CataloguedRow } from '../catalogue/catalogue.service';
import { CataloguedTypeStore } from '../catalogue/catalogued-store';
import { ResourceEntity } from '../catalogue/resource.entity';
import { EnvironmentGroupsService, ownedView } from './environment-groups.service';
import { EnvironmentEntity } from './environment.entity';

const MAX_LOG_LINES = 500;
const MAX_DEPLOYMENTS = 100;
const SSH_SESSION_TTL_MS = 15 * 60_000;

type Payload<K extends keyof typeof EnvironmentsRpc> = RpcPayload<(typeof EnvironmentsRpc)[K]>;
type Row = CataloguedRow<EnvironmentEntity>;

function toView({ resource, state }: Row): EnvironmentView {
  const { status, region, config, deployments } = state;
  return ownedView(resource, { groupId: resource.groupId, status, region, config, deployments });
}

function appendLog(environment: EnvironmentEntity, message: string): void {
  environment.log = [...environment.log, { at: new Date().toISOString(), message }].slice(-MAX_LOG_LINES);
}

/** A clone's default name: the original's with a `-copy` suffix, within the name length limit. */
function cloneName(name: string): string {
  return `${name.slice(0, 58)}-copy`;
}

/** Environments: their catalogue rows (owner, name, group) and their state, changed by actions. */
@Injectable()
export class EnvironmentsService extends CataloguedTypeStore<EnvironmentEntity, EnvironmentView> {
  constructor(
    dataSource: DataSource,
    catalogue: CatalogueService,
    private readonly groups: EnvironmentGroupsService,
    outbox: ServiceOutboxRelay,
  ) {
    super(dataSource, catalogue, outbox, { descriptor: ENVIRONMENTS, state: EnvironmentEntity, toView });
  }

  async create(req: Payload<'create'>): Promise<EnvironmentView> {
    return this.created(req.name, async (manager) => {
      if (req.groupId)
        await this.groups.requireOwnersGroup(manager, req.ownerId, req.groupId, 'body.groupId');
      return this.createIn(
        manager,
        { ownerId: req.ownerId, createdBy: req.createdBy, name: req.name, groupId: req.groupId ?? null },
        {
          status: 'CREATED',
          region: req.region ?? DEFAULT_REGION,
          config: req.config ?? {},
          deployments: [],
          log: [{ at: new Date().toISOString(), message: `Environment created by ${req.createdBy}` }],
        },
      );
    });
  }

  /** Renames, or moves to another of the owner's groups (null: out of any group). */
  protected async change(
    manager: EntityManager,
    row: Row,
    changes: Payload<'update'>['changes'],
  ): Promise<void> {
    if (changes.groupId)
      await this.groups.requireOwnersGroup(manager, row.resource.ownerId, changes.groupId, 'body.groupId');
    await this.catalogue.update(manager, row.resource, { name: changes.name, groupId: changes.groupId });
  }

  /** Applies one action to the environment's state, with a log line; a conflict when its status forbids it. */
  async runAction({
    id,
    actorId,
    action,
  }: Payload<'runEnvironmentAction'>): Promise<{ environment: EnvironmentView; session?: SshSessionView }> {
    return this.dataSource.transaction(async (manager) => {
      const row = await this.load(id, manager, true);
      const env = await this.lockState(manager, id);
      row.state = env;
      const requireStatus = (allowed: string[], what: string) => {
        if (!allowed.includes(env.status))
          throw new AppError('conflict', `A ${env.status} environment cannot be ${what}`);
      };
      let session: SshSessionView | undefined;
      switch (action.action) {
        case 'start':
          requireStatus(['CREATED', 'STOPPED'], 'started');
          env.status = 'RUNNING';
          appendLog(env, `Started by ${actorId}`);
          break;
        case 'stop':
          requireStatus(['RUNNING'], 'stopped');
          env.status = 'STOPPED';
          appendLog(env, `Stopped by ${actorId}`);
          break;
        case 'restart':
          requireStatus(['RUNNING'], 'restarted');
          appendLog(env, `Restarted by ${actorId}`);
          break;
        case 'deploy': {
          const deployment = {
            id: newId(),
            artifact: action.artifact,
            deployedBy: actorId,
            deployedAt: new Date().toISOString(),
          };
          env.deployments = [...env.deployments, deployment].slice(-MAX_DEPLOYMENTS);
          appendLog(env, `Deployed ${action.artifact} (deployment ${deployment.id}) by ${actorId}`);
          break;
        }
        case 'configure':
          env.config = action.config;
          appendLog(env, `Configuration replaced by ${actorId}`);
          break;
        case 'ssh':
          requireStatus(['RUNNING'], 'reached over SSH');
          session = {
            sessionId: newId(),
            host: `ssh.${env.region}.atrium.internal`,
            port: 22,
            user: `${id}-${actorId}`,
            expiresAt: new Date(Date.now() + SSH_SESSION_TTL_MS).toISOString(),
          };
          appendLog(env, `SSH session ${session.sessionId} opened by ${actorId}`);
          break;
        case 'migrate':
          if (action.region === env.region)
            throw new AppError('conflict', `The environment is already in region "${env.region}"`);
          appendLog(env, `Migrated from ${env.region} to ${action.region} by ${actorId}`);
          env.region = action.region;
          break;
      }
      await manager.save(env);
      row.resource.modifiedAt = new Date();
      await manager.save(row.resource);
      return { environment: toView(row), ...(session ? { session } : {}) };
    });
  }

  /** A copy on the same owner and group (settings, region, deployments), not running, created by the actor. */
  async clone({ id, actorId, name }: Payload<'cloneEnvironment'>): Promise<EnvironmentView> {
    let target = name;
    const row = await this.dataSource
      .transaction(async (manager) => {
        const source = await this.load(id, manager, true);
        target = name ?? cloneName(source.resource.name as string);
        const environment = await this.lockState(manager, id);
        appendLog(environment, `Cloned as "${target}" by ${actorId}`);
        await manager.save(environment);
        return this.createIn(
          manager,
          {
            ownerId: source.resource.ownerId,
            createdBy: actorId,
            name: target,
            groupId: source.resource.groupId,
          },
          {
            status: 'CREATED',
            region: environment.region,
            config: environment.config,
            deployments: environment.deployments,
            log: [{ at: new Date().toISOString(), message: `Cloned from ${id} by ${actorId}` }],
          },
        );
      })
      .catch((err: unknown) => this.taken(err, target));
    this.outbox.kick();
    return toView(row);
  }

  async log({ id, page }: Payload<'getEnvironmentLog'>): Promise<ListPage<EnvironmentLogLine>> {
    const { state: environment } = await this.load(id);
    const lines = page.desc ? [...environment.log].reverse() : environment.log;
    const items = lines.slice(page.offset, page.offset + page.limit);
    return { total: lines.length, ...page, count: items.length, items };
  }

  /** Each item must be an environment (or group) of the owner; invalid-input naming the first that is not. */
  async verifyOwned({ ownerId, items }: Payload<'verifyOwnedItems'>): Promise<{ ok: true }> {
    for (const item of items) {
      const resource = await this.dataSource.manager.findOneBy(ResourceEntity, {
        id: item.id,
        type: item.type,
      });
      if (!resource || resource.ownerId !== ownerId)
        throw new AppError(
          'invalid-input',
          `Field "${item.field}" is invalid: "${item.id}" is not ${item.type === 'ENVIRONMENT' ? 'an environment' : 'an environment group'} of yours`,
        );
    }
    return { ok: true };
  }
}
