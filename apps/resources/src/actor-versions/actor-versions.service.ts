import { Injectable } from '@nestjs/common';
import {
  ActorVersionsRpc,
  ActorVersionView,
  AppError,
  CreateVersionBody,
  EnvVarEntry,
  EnvVarView,
  MAX_ENV_VARS_PER_VERSION,
  MAX_VERSIONS_PER_ACTOR,
  RpcPayload,
  ShortList,
  SOURCE_FIELD,
} from '@atrium/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { CatalogueService } from '../catalogue/catalogue.service';
import { ResourceEntity } from '../catalogue/resource.entity';
import { ActorEnvVarEntity } from './actor-env-var.entity';
import { ActorVersionEntity } from './actor-version.entity';

/** A variable with its value, whatever its kind: only write paths hold these. */
type StoredEnvVar = { name: string; isSecret: boolean; value: string };

const SOURCE_FIELDS = Object.values(SOURCE_FIELD);

/** "0.10" sorts after "0.9". */
export function compareVersionNumbers(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

function invalid(field: string, message: string): AppError {
  return new AppError('invalid-input', `Field "${field}" is invalid: ${message}`);
}

const versionNotFound = () => AppError.notFound('The Actor version');
const envVarNotFound = () => AppError.notFound('The environment variable');

/** A secret's value only when the caller may write the Actor; a plain value always. */
function toEnvVarView(row: ActorEnvVarEntity, reveal: boolean): EnvVarView {
  if (!row.isSecret) return { name: row.name, value: row.value ?? '', isSecret: false };
  return reveal && typeof row.secretValue === 'string'
    ? { name: row.name, value: row.secretValue, isSecret: true }
    : { name: row.name, isSecret: true };
}

function toVersionView(
  version: ActorVersionEntity,
  envVars: ActorEnvVarEntity[],
  reveal: boolean,
): ActorVersionView {
  const field = SOURCE_FIELD[version.sourceType];
  const source = version[field];
  return {
    versionNumber: version.versionNumber,
    sourceType: version.sourceType,
    envVars: envVars.map((e) => toEnvVarView(e, reveal)),
    applyEnvVarsToBuild: version.applyEnvVarsToBuild,
    buildTag: version.buildTag,
    ...(source !== null && source !== undefined ? { [field]: source } : {}),
  };
}

/**
 * The variables a list asks for, with values: one left out is kept only where the same name is
 * already secret in that version (a reader of the version never had the value to send back).
 */
function resolveEnvVars(
  entries: EnvVarEntry[] | null | undefined,
  existing: Map<string, StoredEnvVar>,
  field: string,
): StoredEnvVar[] {
  return (entries ?? []).map((entry, i) => {
    const isSecret = entry.isSecret ?? false;
    if (entry.value !== undefined) return { name: entry.name, isSecret, value: entry.value };
    const kept = existing.get(entry.name);
    if (isSecret && kept?.isSecret) return { name: entry.name, isSecret, value: kept.value };
    throw invalid(`${field}.${i}.value`, 'is required (only a variable already secret may keep its value)');
  });
}

/**
 * Versions of Actors and their environment variables. Secret values are read from the database
 * only on write paths and when the gateway says the caller may write the Actor (`reveal`).
 */
@Injectable()
export class ActorVersionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
  ) {}

  private envVarQuery(manager: EntityManager, actorId: string, reveal: boolean) {
    const query = manager
      .getRepository(ActorEnvVarEntity)
      .createQueryBuilder('e')
      .where('e.actor_id = :actorId', { actorId })
      .orderBy('e.position', 'ASC')
      .addOrderBy('e.name', 'ASC');
    if (reveal) query.addSelect('e.secretValue');
    return query;
  }

  /** Every version of an Actor, in version order. */
  async versionsOf(manager: EntityManager, actorId: string, reveal: boolean): Promise<ActorVersionView[]> {
    const versions = await manager.find(ActorVersionEntity, { where: { actorId } });
    const envVars = await this.envVarQuery(manager, actorId, reveal).getMany();
    return versions
      .sort((a, b) => compareVersionNumbers(a.versionNumber, b.versionNumber))
      .map((v) =>
        toVersionView(
          v,
          envVars.filter((e) => e.versionNumber === v.versionNumber),
          reveal,
        ),
      );
  }

  private async findVersion(
    manager: EntityManager,
    actorId: string,
    versionNumber: string,
    lock = false,
  ): Promise<ActorVersionEntity> {
    const version = await manager.findOne(ActorVersionEntity, {
      where: { actorId, versionNumber },
      lock: lock ? { mode: 'pessimistic_write' } : undefined,
    });
    if (!version) throw versionNotFound();
    return version;
  }

  /** A version's variables with their values (write paths only), by name. */
  private async storedEnvVars(
    manager: EntityManager,
    actorId: string,
    versionNumber?: string,
  ): Promise<Map<string, StoredEnvVar & { versionNumber: string; position: number }>> {
    const query = this.envVarQuery(manager, actorId, true);
    if (versionNumber !== undefined) query.andWhere('e.version_number = :versionNumber', { versionNumber });
    const rows = await query.getMany();
    return new Map(
      rows.map((e) => [
        versionNumber === undefined ? `${e.versionNumber}\u0000${e.name}` : e.name,
        {
          name: e.name,
          isSecret: e.isSecret,
          value: (e.isSecret ? e.secretValue : e.value) ?? '',
          versionNumber: e.versionNumber,
          position: e.position,
        },
      ]),
    );
  }

  private async insertVersion(
    manager: EntityManager,
    actorId: string,
    body: CreateVersionBody,
    envVars: StoredEnvVar[],
  ): Promise<void> {
    const field = SOURCE_FIELD[body.sourceType];
    await manager.insert(ActorVersionEntity, {
      actorId,
      versionNumber: body.versionNumber,
      sourceType: body.sourceType,
      applyEnvVarsToBuild: body.applyEnvVarsToBuild ?? false,
      // Apify tags a version's builds `latest` unless told otherwise; null means no tag.
      buildTag: body.buildTag === undefined ? 'latest' : body.buildTag,
      sourceFiles: field === 'sourceFiles' ? (body.sourceFiles ?? null) : null,
      gitRepoUrl: field === 'gitRepoUrl' ? (body.gitRepoUrl ?? null) : null,
      tarballUrl: field === 'tarballUrl' ? (body.tarballUrl ?? null) : null,
      gitHubGistUrl: field === 'gitHubGistUrl' ? (body.gitHubGistUrl ?? null) : null,
    });
    await this.insertEnvVars(manager, actorId, body.versionNumber, envVars, 0);
  }

  private async insertEnvVars(
    manager: EntityManager,
    actorId: string,
    versionNumber: string,
    envVars: StoredEnvVar[],
    firstPosition: number,
  ): Promise<void> {
    if (!envVars.length) return;
    await manager.insert(
      ActorEnvVarEntity,
      envVars.map((e, i) => ({
        actorId,
        versionNumber,
        name: e.name,
        position: firstPosition + i,
        isSecret: e.isSecret,
        value: e.isSecret ? null : e.value,
        secretValue: e.isSecret ? e.value : null,
      })),
    );
  }

  private async deleteVersionRows(manager: EntityManager, actorId: string, versionNumber?: string) {
    const where = versionNumber === undefined ? { actorId } : { actorId, versionNumber };
    await manager.delete(ActorEnvVarEntity, where);
    await manager.delete(ActorVersionEntity, where);
  }

  /** The Actor's catalogue row, locked: every change of its versions is serialized on it. */
  private async lockActor(manager: EntityManager, actorId: string): Promise<ResourceEntity> {
    return this.catalogue.load(manager, 'ACTOR', actorId, true);
  }

  private async touch(manager: EntityManager, actor: ResourceEntity): Promise<void> {
    await manager.update(ResourceEntity, { id: actor.id }, { modifiedAt: new Date() });
  }

  /**
   * Replaces all of an Actor's versions (its create and `PUT` with `versions`), in the caller's
   * transaction with the Actor locked; a secret sent without a value keeps the one it had.
   */
  async replaceAll(manager: EntityManager, actorId: string, versions: CreateVersionBody[]): Promise<void> {
    const existing = await this.storedEnvVars(manager, actorId);
    await this.deleteVersionRows(manager, actorId);
    for (const [i, version] of versions.entries()) {
      const inVersion = new Map(
        [...existing.values()]
          .filter((e) => e.versionNumber === version.versionNumber)
          .map((e) => [e.name, e]),
      );
      const envVars = resolveEnvVars(version.envVars, inVersion, `body.versions.${i}.envVars`);
      await this.insertVersion(manager, actorId, version, envVars);
    }
  }

  async list(req: RpcPayload<typeof ActorVersionsRpc.listVersions>): Promise<ShortList<ActorVersionView>> {
    const manager = this.dataSource.manager;
    await this.catalogue.load(manager, 'ACTOR', req.actorId);
    const items = await this.versionsOf(manager, req.actorId, req.revealSecrets);
    return { total: items.length, items };
  }

  async get(req: RpcPayload<typeof ActorVersionsRpc.getVersion>): Promise<ActorVersionView> {
    return this.view(this.dataSource.manager, req.actorId, req.versionNumber, req.revealSecrets);
  }

  private async view(
    manager: EntityManager,
    actorId: string,
    versionNumber: string,
    reveal: boolean,
  ): Promise<ActorVersionView> {
    await this.catalogue.load(manager, 'ACTOR', actorId);
    const version = await this.findVersion(manager, actorId, versionNumber);
    const envVars = await this.envVarQuery(manager, actorId, reveal)
      .andWhere('e.version_number = :versionNumber', { versionNumber })
      .getMany();
    return toVersionView(version, envVars, reveal);
  }

  async create(req: RpcPayload<typeof ActorVersionsRpc.createVersion>): Promise<ActorVersionView> {
    const { actorId, version } = req;
    return this.dataSource.transaction(async (manager) => {
      const actor = await this.lockActor(manager, actorId);
      const count = await manager.count(ActorVersionEntity, { where: { actorId } });
      if (await manager.existsBy(ActorVersionEntity, { actorId, versionNumber: version.versionNumber }))
        throw new AppError('conflict', `The Actor already has a version "${version.versionNumber}"`);
      if (count >= MAX_VERSIONS_PER_ACTOR)
        throw invalid('body.versionNumber', `an Actor has at most ${MAX_VERSIONS_PER_ACTOR} versions`);
      await this.insertVersion(
        manager,
        actorId,
        version,
        resolveEnvVars(version.envVars, new Map(), 'body.envVars'),
      );
      await this.touch(manager, actor);
      return this.view(manager, actorId, version.versionNumber, true);
    });
  }

  /** What is given replaces what was; a new `versionNumber` renames the version with its variables. */
  async update(req: RpcPayload<typeof ActorVersionsRpc.updateVersion>): Promise<ActorVersionView> {
    const { actorId, versionNumber, changes } = req;
    return this.dataSource.transaction(async (manager) => {
      const actor = await this.lockActor(manager, actorId);
      const current = await this.findVersion(manager, actorId, versionNumber, true);
      const stored = await this.storedEnvVars(manager, actorId, versionNumber);
      const target = changes.versionNumber ?? versionNumber;
      if (
        target !== versionNumber &&
        (await manager.existsBy(ActorVersionEntity, { actorId, versionNumber: target }))
      )
        throw new AppError('conflict', `The Actor already has a version "${target}"`);
      const sourceType = changes.sourceType ?? current.sourceType;
      const field = SOURCE_FIELD[sourceType];
      // The source of another type is dropped with a change of type.
      const source = changes[field] !== undefined ? changes[field] : current[field];
      if (source === null || source === undefined)
        throw invalid(`body.${field}`, `is required for sourceType ${sourceType}`);
      for (const other of SOURCE_FIELDS)
        if (other !== field && changes[other] !== undefined && changes[other] !== null)
          throw invalid(`body.${other}`, `does not apply to sourceType ${sourceType}`);
      const envVars =
        changes.envVars === undefined
          ? [...stored.values()].sort((a, b) => a.position - b.position)
          : resolveEnvVars(changes.envVars, stored, 'body.envVars');
      await this.deleteVersionRows(manager, actorId, versionNumber);
      await this.insertVersion(
        manager,
        actorId,
        {
          versionNumber: target,
          sourceType,
          applyEnvVarsToBuild:
            changes.applyEnvVarsToBuild === undefined
              ? current.applyEnvVarsToBuild
              : changes.applyEnvVarsToBuild,
          buildTag: changes.buildTag === undefined ? current.buildTag : changes.buildTag,
          [field]: source,
        },
        envVars,
      );
      await this.touch(manager, actor);
      return this.view(manager, actorId, target, true);
    });
  }

  async delete(req: RpcPayload<typeof ActorVersionsRpc.deleteVersion>): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const actor = await this.lockActor(manager, req.actorId);
      await this.findVersion(manager, req.actorId, req.versionNumber, true);
      await this.deleteVersionRows(manager, req.actorId, req.versionNumber);
      await this.touch(manager, actor);
    });
    return { ok: true };
  }

  async listEnvVars(req: RpcPayload<typeof ActorVersionsRpc.listEnvVars>): Promise<ShortList<EnvVarView>> {
    const { envVars } = await this.view(
      this.dataSource.manager,
      req.actorId,
      req.versionNumber,
      req.revealSecrets,
    );
    return { total: envVars.length, items: envVars };
  }

  async getEnvVar(req: RpcPayload<typeof ActorVersionsRpc.getEnvVar>): Promise<EnvVarView> {
    const { envVars } = await this.view(
      this.dataSource.manager,
      req.actorId,
      req.versionNumber,
      req.revealSecrets,
    );
    const found = envVars.find((e) => e.name === req.name);
    if (!found) throw envVarNotFound();
    return found;
  }

  async createEnvVar(req: RpcPayload<typeof ActorVersionsRpc.createEnvVar>): Promise<EnvVarView> {
    const { actorId, versionNumber, envVar } = req;
    return this.dataSource.transaction(async (manager) => {
      const actor = await this.lockActor(manager, actorId);
      await this.findVersion(manager, actorId, versionNumber, true);
      const stored = await this.storedEnvVars(manager, actorId, versionNumber);
      if (stored.has(envVar.name))
        throw invalid('body.name', `the version already has a variable "${envVar.name}"`);
      if (stored.size >= MAX_ENV_VARS_PER_VERSION)
        throw invalid('body.name', `a version has at most ${MAX_ENV_VARS_PER_VERSION} environment variables`);
      const last = Math.max(-1, ...[...stored.values()].map((e) => e.position));
      const created = { name: envVar.name, isSecret: envVar.isSecret ?? false, value: envVar.value };
      await this.insertEnvVars(manager, actorId, versionNumber, [created], last + 1);
      await this.touch(manager, actor);
      return { name: created.name, value: created.value, isSecret: created.isSecret };
    });
  }

  /** A secret becomes plain only with a new `value`, so its old value is never shown to readers. */
  async updateEnvVar(req: RpcPayload<typeof ActorVersionsRpc.updateEnvVar>): Promise<EnvVarView> {
    const { actorId, versionNumber, name, changes } = req;
    return this.dataSource.transaction(async (manager) => {
      const actor = await this.lockActor(manager, actorId);
      await this.findVersion(manager, actorId, versionNumber, true);
      const stored = await this.storedEnvVars(manager, actorId, versionNumber);
      const current = stored.get(name);
      if (!current) throw envVarNotFound();
      const newName = changes.name ?? name;
      if (newName !== name && stored.has(newName))
        throw invalid('body.name', `the version already has a variable "${newName}"`);
      const isSecret = changes.isSecret ?? current.isSecret;
      if (current.isSecret && !isSecret && changes.value === undefined)
        throw invalid('body.value', 'is required to make a secret variable non-secret');
      const updated = { name: newName, isSecret, value: changes.value ?? current.value };
      await manager.delete(ActorEnvVarEntity, { actorId, versionNumber, name });
      await this.insertEnvVars(manager, actorId, versionNumber, [updated], current.position);
      await this.touch(manager, actor);
      return { name: updated.name, value: updated.value, isSecret: updated.isSecret };
    });
  }

  async deleteEnvVar(req: RpcPayload<typeof ActorVersionsRpc.deleteEnvVar>): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const actor = await this.lockActor(manager, req.actorId);
      await this.findVersion(manager, req.actorId, req.versionNumber, true);
      const { affected } = await manager.delete(ActorEnvVarEntity, {
        actorId: req.actorId,
        versionNumber: req.versionNumber,
        name: req.name,
      });
      if (!affected) throw envVarNotFound();
      await this.touch(manager, actor);
    });
    return { ok: true };
  }
}
