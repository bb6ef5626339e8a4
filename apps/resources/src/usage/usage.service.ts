import { Inject, Injectable } from '@nestjs/common';
import {
  AppError,
  RESOURCE_TYPES,
  ResourceType,
  UsageFigures,
  UsageLimits,
  UsageLimitsChange,
  UsageMetric,
  UsageView,
} from '@atrium/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { ResourceEntity } from '../catalogue/resource.entity';
import { AccountUsageEntity, OwnLimits } from './account-usage.entity';
import { DEPLOYMENT_LIMITS, DeploymentLimits } from './deployment-limits';
import { ResourceUsageEntity } from './resource-usage.entity';
import { UsageLedgerEntryEntity } from './usage-ledger-entry.entity';

/** The resource a usage change concerns: whose account it counts against, and who created it. */
export interface UsageSubject {
  id: string;
  type: ResourceType;
  ownerId: string;
  createdBy: string;
}

const typeLabel = (type: ResourceType) => type.toLowerCase().replace(/_/g, ' ');

function perType(value: (type: ResourceType) => number): Record<ResourceType, number> {
  return Object.fromEntries(RESOURCE_TYPES.map((t) => [t, value(t)])) as Record<ResourceType, number>;
}

const emptyFigures = (): UsageFigures => ({ resources: perType(() => 0), storageBytes: 0, runTimeSecs: 0 });

/**
 * Usage of every account, recorded against the account that owns what is used, with who caused
 * it: a ledger entry per change and counters per account, both written in the transaction that
 * makes the change. Limits are checked under a lock on the account's counter row, so a refused
 * change (402 `quota-exceeded`) rolls back with everything else and concurrent ones never overshoot.
 */
@Injectable()
export class UsageService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(DEPLOYMENT_LIMITS) private readonly deployment: DeploymentLimits,
  ) {}

  /** The lower of the deployment's limits and the account's own. */
  effectiveLimits(own: OwnLimits): UsageLimits {
    const lower = (deployment: number, mine: number | undefined) => Math.min(deployment, mine ?? deployment);
    return {
      resources: perType((t) => lower(this.deployment.resourcesPerType, own.resources?.[t])),
      storageBytes: lower(this.deployment.storageBytes, own.storageBytes),
      runTimeSecs: lower(this.deployment.runTimeSecs, own.runTimeSecs),
    };
  }

  /** Counts a new resource against its owner; at the owner's limit for the type, 402. */
  async resourceCreated(manager: EntityManager, resource: UsageSubject): Promise<void> {
    const account = await this.lockAccount(manager, resource.ownerId);
    const limits = this.effectiveLimits(account.ownLimits);
    const count = account.resourceCounts[resource.type] ?? 0;
    const limit = limits.resources[resource.type];
    if (count >= limit) {
      throw new AppError(
        'quota-exceeded',
        `The account has reached its limit of ${limit} ${typeLabel(resource.type)}s`,
      );
    }
    // A run starts only while the account has run time left.
    if (resource.type === 'ACTOR_RUN' && account.runTimeSecs >= limits.runTimeSecs) {
      throw new AppError(
        'quota-exceeded',
        `The account has used up its run time (${account.runTimeSecs} of ${limits.runTimeSecs} seconds)`,
      );
    }
    await manager.update(
      AccountUsageEntity,
      { accountId: account.accountId },
      { resourceCounts: { ...account.resourceCounts, [resource.type]: count + 1 } },
    );
    await manager.insert(ResourceUsageEntity, {
      resourceId: resource.id,
      accountId: resource.ownerId,
      type: resource.type,
      createdBy: resource.createdBy,
      storageBytes: 0,
    });
    await this.record(manager, resource, 'RESOURCE_COUNT', 1, resource.createdBy);
  }

  /** Releases what a removed resource held: its count and the bytes stored in it. */
  async resourceRemoved(manager: EntityManager, resource: UsageSubject, causedBy?: string): Promise<void> {
    const account = await this.lockAccount(manager, resource.ownerId);
    const held = await manager.findOneBy(ResourceUsageEntity, { resourceId: resource.id });
    const count = account.resourceCounts[resource.type] ?? 0;
    const bytes = held?.storageBytes ?? 0;
    await manager.update(
      AccountUsageEntity,
      { accountId: account.accountId },
      {
        resourceCounts: { ...account.resourceCounts, [resource.type]: Math.max(0, count - 1) },
        storageBytes: account.storageBytes - bytes,
      },
    );
    if (held) await manager.delete(ResourceUsageEntity, { resourceId: resource.id });
    const cause = causedBy ?? resource.ownerId;
    await this.record(manager, resource, 'RESOURCE_COUNT', -1, cause);
    if (bytes !== 0) await this.record(manager, resource, 'STORAGE_BYTES', -bytes, cause);
  }

  /**
   * Counts bytes stored in (positive) or removed from (negative) a resource, before the content is
   * written; storing beyond the owner's limit is 402. Without a known caller, the owner is the cause.
   */
  async storageChanged(
    manager: EntityManager,
    resourceId: string,
    delta: number,
    causedBy?: string,
  ): Promise<void> {
    if (delta === 0) return;
    const held = await this.heldBy(manager, resourceId);
    const account = await this.lockAccount(manager, held.accountId);
    if (delta > 0) {
      const limit = this.effectiveLimits(account.ownLimits).storageBytes;
      if (account.storageBytes + delta > limit) {
        throw new AppError(
          'quota-exceeded',
          `Storing ${delta} more bytes would exceed the account's storage limit ` +
            `(${account.storageBytes} of ${limit} bytes used)`,
        );
      }
    }
    await manager.update(
      AccountUsageEntity,
      { accountId: account.accountId },
      { storageBytes: account.storageBytes + delta },
    );
    await manager.increment(ResourceUsageEntity, { resourceId }, 'storageBytes', delta);
    const subject = { id: resourceId, type: held.type, ownerId: held.accountId, createdBy: held.createdBy };
    await this.record(manager, subject, 'STORAGE_BYTES', delta, causedBy ?? held.accountId);
  }

  /** Counts a finished run's time (whole seconds, any started second counts) for the user who started it. */
  async runFinished(
    manager: EntityManager,
    run: UsageSubject,
    startedAt: Date,
    finishedAt: Date,
  ): Promise<void> {
    const secs = Math.max(0, Math.ceil((finishedAt.getTime() - startedAt.getTime()) / 1000));
    if (secs === 0) return;
    const account = await this.lockAccount(manager, run.ownerId);
    await manager.update(
      AccountUsageEntity,
      { accountId: account.accountId },
      { runTimeSecs: account.runTimeSecs + secs },
    );
    await this.record(manager, run, 'RUN_TIME_SECS', secs, run.createdBy);
  }

  /** The account's figures, effective limits and who holds what, from one snapshot. */
  async usage(accountId: string): Promise<UsageView> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const account = await manager.findOneBy(AccountUsageEntity, { accountId });
      const held = await manager
        .createQueryBuilder(ResourceUsageEntity, 'u')
        .select('u.created_by', 'userId')
        .addSelect('u.type', 'type')
        .addSelect('COUNT(*)', 'count')
        .addSelect('COALESCE(SUM(u.storage_bytes), 0)', 'bytes')
        .where('u.account_id = :accountId', { accountId })
        .groupBy('u.created_by')
        .addGroupBy('u.type')
        .getRawMany<{ userId: string; type: ResourceType; count: string; bytes: string }>();
      const runTime = await manager
        .createQueryBuilder(UsageLedgerEntryEntity, 'l')
        .select('l.caused_by', 'userId')
        .addSelect('SUM(l.delta)', 'secs')
        .where('l.account_id = :accountId AND l.metric = :metric', { accountId, metric: 'RUN_TIME_SECS' })
        .groupBy('l.caused_by')
        .getRawMany<{ userId: string; secs: string }>();

      const byUser = new Map<string, UsageFigures>();
      const figuresOf = (userId: string) => {
        let figures = byUser.get(userId);
        if (!figures) byUser.set(userId, (figures = emptyFigures()));
        return figures;
      };
      for (const row of held) {
        const figures = figuresOf(row.userId);
        figures.resources[row.type] = Number(row.count);
        figures.storageBytes += Number(row.bytes);
      }
      for (const row of runTime) figuresOf(row.userId).runTimeSecs = Number(row.secs);

      return {
        accountId,
        resources: perType((t) => account?.resourceCounts[t] ?? 0),
        storageBytes: account?.storageBytes ?? 0,
        runTimeSecs: account?.runTimeSecs ?? 0,
        limits: this.effectiveLimits(account?.ownLimits ?? {}),
        byUser: [...byUser.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([userId, figures]) => ({ userId, ...figures })),
      };
    });
  }

  /** Sets (or with null removes) limits the account imposes on itself, each at most the deployment's. */
  async setLimits(accountId: string, change: UsageLimitsChange): Promise<UsageView> {
    const above = (field: string, value: number | null | undefined, max: number) => {
      if (value !== null && value !== undefined && value > max) {
        throw new AppError(
          'invalid-input',
          `Field "${field}" is invalid: must be at most ${max}, the deployment's limit`,
        );
      }
    };
    for (const [type, value] of Object.entries(change.resources ?? {})) {
      above(`resources.${type}`, value, this.deployment.resourcesPerType);
    }
    above('storageBytes', change.storageBytes, this.deployment.storageBytes);
    above('runTimeSecs', change.runTimeSecs, this.deployment.runTimeSecs);

    await this.dataSource.transaction(async (manager) => {
      const account = await this.lockAccount(manager, accountId);
      const own: OwnLimits = { ...account.ownLimits, resources: { ...account.ownLimits.resources } };
      for (const [type, value] of Object.entries(change.resources ?? {}) as [ResourceType, number | null][]) {
        if (value === null) delete own.resources![type];
        else if (value !== undefined) own.resources![type] = value;
      }
      if (!Object.keys(own.resources!).length) delete own.resources;
      for (const field of ['storageBytes', 'runTimeSecs'] as const) {
        const value = change[field];
        if (value === null) delete own[field];
        else if (value !== undefined) own[field] = value;
      }
      await manager.update(AccountUsageEntity, { accountId }, { ownLimits: own });
    });
    return this.usage(accountId);
  }

  /** The account's counter row, created when missing, locked until the transaction ends. */
  private async lockAccount(manager: EntityManager, accountId: string): Promise<AccountUsageEntity> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(AccountUsageEntity)
      .values({ accountId })
      .orIgnore()
      .execute();
    return manager.findOneOrFail(AccountUsageEntity, {
      where: { accountId },
      lock: { mode: 'pessimistic_write' },
    });
  }

  /** The usage row of a resource; one created before usage was recorded gets one now. */
  private async heldBy(manager: EntityManager, resourceId: string): Promise<ResourceUsageEntity> {
    const held = await manager.findOneBy(ResourceUsageEntity, { resourceId });
    if (held) return held;
    const resource = await manager.findOneBy(ResourceEntity, { id: resourceId });
    if (!resource) throw AppError.notFound('The resource');
    await manager
      .createQueryBuilder()
      .insert()
      .into(ResourceUsageEntity)
      .values({
        resourceId,
        accountId: resource.ownerId,
        type: resource.type,
        createdBy: resource.createdBy,
        storageBytes: 0,
      })
      .orIgnore()
      .execute();
    return manager.findOneByOrFail(ResourceUsageEntity, { resourceId });
  }

  private async record(
    manager: EntityManager,
    subject: UsageSubject,
    metric: UsageMetric,
    delta: number,
    causedBy: string,
  ): Promise<void> {
    await manager.insert(UsageLedgerEntryEntity, {
      accountId: subject.ownerId,
      metric,
      resourceType: subject.type,
      delta,
      causedBy,
      resourceId: subject.id,
    });
  }
}
