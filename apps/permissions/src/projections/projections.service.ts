import { Injectable } from '@nestjs/common';
import {
  AccountFacts,
  AppError,
  IdentityRpc,
  ResourceFacts,
  ResourcesRpc,
  ResourceType,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { AuditLogService } from '../audit/audit-log.service';
import { AccountProjectionEntity } from './account-projection.entity';
import { ResourceProjectionEntity } from './resource-projection.entity';

const toResourceFacts = (row: ResourceProjectionEntity): ResourceFacts => ({
  id: row.id,
  type: row.type,
  ownerId: row.ownerId,
  name: row.name,
  generalAccess: row.generalAccess,
  isPublic: row.isPublic,
  actorId: row.actorId,
  taskId: row.taskId,
  runId: row.runId,
  groupId: row.groupId,
  version: row.version,
});
/** Environment groups nest at most this deep (a cycle could not loop anyway). */
const MAX_GROUP_DEPTH = 20;

const toAccountFacts = (row: AccountProjectionEntity): AccountFacts => ({
  id: row.id,
  username: row.username,
  generalResourceAccess: row.generalResourceAccess,
  shareRunsWithPublicActorCreators: row.shareRunsWithPublicActorCreators,
  version: row.version,
});

/**
 * Projections of accounts and resources, fed by events and read through on a miss, so that a
 * resource can be used as soon as its create call returns. Writes are versioned: an older
 * state never overwrites a newer one, whatever order events arrive in.
 */
@Injectable()
export class ProjectionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly rpc: RpcClient,
    private readonly audit: AuditLogService,
  ) {}

  async account(id: string, manager: EntityManager = this.dataSource.manager): Promise<AccountFacts | null> {
    const row = await manager.findOneBy(AccountProjectionEntity, { id });
    if (row) return toAccountFacts(row);
    return this.fetchAccount({ id }, manager);
  }

  async accountByUsername(username: string): Promise<AccountFacts | null> {
    const row = await this.dataSource.manager.findOneBy(AccountProjectionEntity, {
      usernameLower: username.toLowerCase(),
    });
    if (row) return toAccountFacts(row);
    return this.fetchAccount({ username });
  }

  /**
   * A resource's facts. Inside a transaction, pass its manager: a second connection waited on
   * while the transaction holds one can exhaust the pool (and deadlocks PGlite's single session).
   */
  async resource(
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ResourceFacts | null> {
    const row = await manager.findOneBy(ResourceProjectionEntity, { id });
    if (row) return row.deleted ? null : toResourceFacts(row);
    return this.fetchResource(id, manager);
  }

  async resourceByName(type: ResourceType, ownerId: string, name: string): Promise<ResourceFacts | null> {
    const row = await this.dataSource.manager.findOneBy(ResourceProjectionEntity, {
      type,
      ownerId,
      name,
      deleted: false,
    });
    if (row) return toResourceFacts(row);
    const facts = await this.rpc.call(ResourcesRpc.findResourceFactsByName, { type, ownerId, name });
    if (facts) await this.upsertResource(facts);
    return facts;
  }

  /** A resource's group and that group's parents, nearest first (environments and groups). */
  async groupChain(
    resource: ResourceFacts,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<string[]> {
    const chain: string[] = [];
    let groupId = resource.groupId;
    while (groupId && !chain.includes(groupId) && chain.length < MAX_GROUP_DEPTH) {
      chain.push(groupId);
      groupId = (await this.resource(groupId, manager))?.groupId ?? null;
    }
    return chain;
  }

  /**
   * Re-reads from the owning service now (read-your-writes after a change through the gateway);
   * `changedBy`, the gateway's caller, is who the audit log names if this applies the change first.
   */
  async refresh(kind: 'account' | 'resource', id: string, changedBy: string | null = null): Promise<void> {
    if (kind === 'account') {
      await this.fetchAccount({ id });
      return;
    }
    const facts = await this.rpc.call(ResourcesRpc.getResourceFacts, { id });
    if (facts) await this.upsertResource(facts, this.dataSource.manager, changedBy);
    else await this.markDeleted(id);
  }

  private async fetchAccount(
    by: { id: string } | { username: string },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<AccountFacts | null> {
    try {
      const facts = await this.rpc.call(IdentityRpc.getAccountFacts, by);
      await this.upsertAccount(facts, manager);
      return facts;
    } catch (err) {
      if (err instanceof AppError && err.type === 'record-not-found') return null;
      throw err;
    }
  }

  private async fetchResource(
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<ResourceFacts | null> {
    const facts = await this.rpc.call(ResourcesRpc.getResourceFacts, { id });
    if (facts) await this.upsertResource(facts, manager);
    return facts;
  }

  async upsertAccount(facts: AccountFacts, manager: EntityManager = this.dataSource.manager): Promise<void> {
    if (!manager.queryRunner?.isTransactionActive)
      return this.dataSource.transaction((inTransaction) => this.upsertAccount(facts, inTransaction));
    // Locked: the event and a refresh applying the same change meet here, and only one audits it.
    const before = await manager.findOne(AccountProjectionEntity, {
      where: { id: facts.id },
      lock: { mode: 'pessimistic_write' },
    });
    if (
      before &&
      before.version < facts.version &&
      (before.generalResourceAccess !== facts.generalResourceAccess ||
        before.shareRunsWithPublicActorCreators !== facts.shareRunsWithPublicActorCreators)
    ) {
      // Whichever path applies a newer state first (event or read-through) records the change, once.
      await this.audit.record(manager, {
        action: 'account-settings.changed',
        actorId: facts.id,
        subjectId: facts.id,
        resourceId: null,
        resourceType: null,
        accountId: facts.id,
        before: {
          generalResourceAccess: before.generalResourceAccess,
          shareRunsWithPublicActorCreators: before.shareRunsWithPublicActorCreators,
        },
        after: {
          generalResourceAccess: facts.generalResourceAccess,
          shareRunsWithPublicActorCreators: facts.shareRunsWithPublicActorCreators,
        },
      });
    }
    const table = manager.getRepository(AccountProjectionEntity).metadata.tablePath;
    await manager.query(
      `INSERT INTO ${table} (id, username, username_lower, general_resource_access, share_runs_with_public_actor_creators, version)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, username_lower = EXCLUDED.username_lower,
         general_resource_access = EXCLUDED.general_resource_access,
         share_runs_with_public_actor_creators = EXCLUDED.share_runs_with_public_actor_creators, version = EXCLUDED.version
       WHERE ${table}.version < EXCLUDED.version`,
      [
        facts.id,
        facts.username,
        facts.username.toLowerCase(),
        facts.generalResourceAccess,
        facts.shareRunsWithPublicActorCreators,
        facts.version,
      ],
    );
  }

  /** Applies a newer state; a change of general access is audited as `changedBy`'s. */
  async upsertResource(
    facts: ResourceFacts,
    manager: EntityManager = this.dataSource.manager,
    changedBy: string | null = null,
  ): Promise<void> {
    if (!manager.queryRunner?.isTransactionActive)
      return this.dataSource.transaction((inTransaction) =>
        this.upsertResource(facts, inTransaction, changedBy),
      );
    // Locked: the event and a refresh applying the same change meet here, and only one audits it.
    const before = await manager.findOne(ResourceProjectionEntity, {
      where: { id: facts.id },
      lock: { mode: 'pessimistic_write' },
    });
    if (
      before &&
      !before.deleted &&
      before.version < facts.version &&
      (before.generalAccess !== facts.generalAccess || before.isPublic !== facts.isPublic)
    ) {
      await this.audit.record(manager, {
        action: 'general-access.changed',
        actorId: changedBy,
        subjectId: null,
        resourceId: facts.id,
        resourceType: facts.type,
        accountId: facts.ownerId,
        before: { generalAccess: before.generalAccess, isPublic: before.isPublic },
        after: { generalAccess: facts.generalAccess, isPublic: facts.isPublic },
      });
    }
    const table = manager.getRepository(ResourceProjectionEntity).metadata.tablePath;
    await manager.query(
      `INSERT INTO ${table} (id, type, owner_id, name, general_access, is_public, actor_id, task_id, run_id, group_id, version, deleted)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, false)
       ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, owner_id = EXCLUDED.owner_id, name = EXCLUDED.name,
         general_access = EXCLUDED.general_access, is_public = EXCLUDED.is_public, actor_id = EXCLUDED.actor_id,
         task_id = EXCLUDED.task_id, run_id = EXCLUDED.run_id, group_id = EXCLUDED.group_id, version = EXCLUDED.version
       WHERE ${table}.version < EXCLUDED.version AND NOT ${table}.deleted`,
      [
        facts.id,
        facts.type,
        facts.ownerId,
        facts.name,
        facts.generalAccess,
        facts.isPublic,
        facts.actorId,
        facts.taskId,
        facts.runId,
        facts.groupId,
        facts.version,
      ],
    );
  }

  async markDeleted(id: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.update(ResourceProjectionEntity, { id }, { deleted: true, name: null });
  }

  async recordDeleted(
    facts: { id: string; type: ResourceType; ownerId: string; version: number },
    manager: EntityManager,
  ): Promise<void> {
    const table = manager.getRepository(ResourceProjectionEntity).metadata.tablePath;
    await manager.query(
      `INSERT INTO ${table} (id, type, owner_id, name, general_access, version, deleted)
       VALUES ($1, $2, $3, NULL, 'RESTRICTED', $4, true)
       ON CONFLICT (id) DO UPDATE SET deleted = true, name = NULL, version = GREATEST(${table}.version, EXCLUDED.version)`,
      [facts.id, facts.type, facts.ownerId, facts.version],
    );
  }
}
