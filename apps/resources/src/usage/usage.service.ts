import { Inject, Injectable } from '@nestjs/common';
import {
  AccountLimitsView,
  AppError,
  DailyServiceUsage,
  MonthlyUsageView,
  RESOURCE_TYPES,
  ServiceUsageItem,
  StorageType,
  TERMINAL_RUN_STATUSES,
  ResourceType,
  UsageFigures,
  UsageLimits,
  UsageLimitsChange,
  UsageMetric,
  UsageView,
} from '@atrium/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { ResourceEntity } from '../catalogue/resource.entity';
import { RunEntity } from '../runs/run.entity';
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

/** The storage types whose bytes Apify meters as TIMED_STORAGE_GBYTE_HOURS. */
const STORAGE_METERS: readonly StorageType[] = ['DATASET', 'KEY_VALUE_STORE', 'REQUEST_QUEUE'];
/** The items of Apify's monthly usage that Atrium meters. */
const METERS = ['ACTOR_COMPUTE_UNITS', ...STORAGE_METERS.map((t) => `${t}_TIMED_STORAGE_GBYTE_HOURS`)];
const DAY_MS = 24 * 3600 * 1000;

/** The usage cycle holding `at`: its calendar month in UTC. */
export function usageCycle(at: Date): { start: Date; end: Date } {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1) - 1);
  return { start, end };
}

/** Calls `each` with every UTC day (`YYYY-MM-DD`) the span [from, to) covers and the milliseconds of it there. */
export function forEachDay(from: Date, to: Date, each: (day: string, ms: number) => void): void {
  for (let t = from.getTime(); t < to.getTime();) {
    const dayEnd = Math.min((Math.floor(t / DAY_MS) + 1) * DAY_MS, to.getTime());
    each(new Date(t).toISOString().slice(0, 10), dayEnd - t);
    t = dayEnd;
  }
}

const gbyteHours = (bytes: number, ms: number) => (bytes / 2 ** 30) * (ms / 3_600_000);

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
    if (resource.type === 'ACTOR_RUN') this.requireRunTime(account, limits);
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

  /** A run (resurrected) may run again only while its owner has run time left; 402 otherwise. */
  async runStarting(manager: EntityManager, ownerId: string): Promise<void> {
    const account = await this.lockAccount(manager, ownerId);
    this.requireRunTime(account, this.effectiveLimits(account.ownLimits));
  }

  private requireRunTime(account: AccountUsageEntity, limits: UsageLimits): void {
    if (account.runTimeSecs >= limits.runTimeSecs) {
      throw new AppError(
        'quota-exceeded',
        `The account has used up its run time (${account.runTimeSecs} of ${limits.runTimeSecs} seconds)`,
      );
    }
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

  /**
   * Counts a finished run's time (whole seconds, any started second counts) for the user who
   * started it, and that time weighted by the run's memory (for compute units).
   */
  async runFinished(
    manager: EntityManager,
    run: UsageSubject,
    startedAt: Date,
    finishedAt: Date,
    memoryMbytes: number,
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
    await this.record(manager, run, 'COMPUTE_MBYTE_SECS', secs * memoryMbytes, run.createdBy);
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

  /**
   * Apify's monthly usage of the cycle holding `date` (a calendar month, UTC), from the ledger:
   * ACTOR_COMPUTE_UNITS (GB-hours of run memory: megabyte-seconds ÷ 1024 ÷ 3600, counted on the day
   * a run finished) and each storage type's TIMED_STORAGE_GBYTE_HOURS (the bytes it held, integrated
   * over time up to now; GB = 2^30 bytes). Atrium meters nothing else and prices nothing (USD 0).
   */
  async monthly(accountId: string, date?: string): Promise<MonthlyUsageView> {
    const cycle = usageCycle(date ? new Date(`${date}T00:00:00Z`) : new Date());
    const stop = new Date(Math.min(cycle.end.getTime(), Date.now()));
    const days = new Map<string, Record<string, number>>();
    const add = (day: string, item: string, quantity: number) => {
      const items = days.get(day) ?? {};
      items[item] = (items[item] ?? 0) + quantity;
      days.set(day, items);
    };
    await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const ledger = manager.getRepository(UsageLedgerEntryEntity);
      const compute = await ledger
        .createQueryBuilder('l')
        .select(`to_char(l.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, 'day')
        .addSelect('SUM(l.delta)', 'mbSecs')
        .where('l.account_id = :accountId AND l.metric = :metric', {
          accountId,
          metric: 'COMPUTE_MBYTE_SECS',
        })
        .andWhere('l.at >= :start AND l.at <= :end', { start: cycle.start, end: cycle.end })
        .groupBy('day')
        .getRawMany<{ day: string; mbSecs: string }>();
      for (const row of compute) add(row.day, 'ACTOR_COMPUTE_UNITS', Number(row.mbSecs) / 1024 / 3600);

      const opening = await ledger
        .createQueryBuilder('l')
        .select('l.resource_type', 'type')
        .addSelect('SUM(l.delta)', 'bytes')
        .where('l.account_id = :accountId AND l.metric = :metric', { accountId, metric: 'STORAGE_BYTES' })
        .andWhere('l.at < :start', { start: cycle.start })
        .groupBy('l.resource_type')
        .getRawMany<{ type: StorageType; bytes: string }>();
      const inCycle = await ledger
        .createQueryBuilder('l')
        .where('l.account_id = :accountId AND l.metric = :metric', { accountId, metric: 'STORAGE_BYTES' })
        .andWhere('l.at >= :start AND l.at < :stop', { start: cycle.start, stop })
        .orderBy('l.at', 'ASC')
        .addOrderBy('l.id', 'ASC')
        .getMany();
      for (const type of STORAGE_METERS) {
        let bytes = Number(opening.find((o) => o.type === type)?.bytes ?? 0);
        let from = cycle.start;
        const item = `${type}_TIMED_STORAGE_GBYTE_HOURS`;
        for (const change of inCycle.filter((c) => c.resourceType === type)) {
          forEachDay(from, change.at, (day, ms) => add(day, item, gbyteHours(bytes, ms)));
          bytes += change.delta;
          if (change.at > from) from = change.at;
        }
        forEachDay(from, stop, (day, ms) => add(day, item, gbyteHours(bytes, ms)));
      }
    });
    const item = (quantity: number): ServiceUsageItem => ({
      quantity,
      baseAmountUsd: 0,
      baseUnitPriceUsd: 0,
      amountAfterVolumeDiscountUsd: 0,
      priceTiers: [],
    });
    const totals: Record<string, number> = Object.fromEntries(METERS.map((m) => [m, 0]));
    const dailyServiceUsages: DailyServiceUsage[] = [...days.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([day, items]) => {
        const used = Object.entries(items).filter(([, quantity]) => quantity > 0);
        for (const [name, quantity] of used) totals[name] += quantity;
        return {
          date: `${day}T00:00:00.000Z`,
          serviceUsage: Object.fromEntries(
            used.map(([name, quantity]) => [name, { quantity, baseAmountUsd: 0 }]),
          ),
          totalUsageCreditsUsd: 0,
        };
      })
      .filter((d) => Object.keys(d.serviceUsage).length > 0);
    return {
      usageCycle: { startAt: cycle.start.toISOString(), endAt: cycle.end.toISOString() },
      monthlyServiceUsage: Object.fromEntries(METERS.map((m) => [m, item(totals[m])])),
      dailyServiceUsages,
      totalUsageCreditsUsdBeforeVolumeDiscount: 0,
      totalUsageCreditsUsdAfterVolumeDiscount: 0,
    };
  }

  /**
   * Apify's limits view of the account: its effective limits under Apify's names (0 where Atrium
   * has no such limit), and what it uses now — resources, this cycle's compute units, and its runs
   * not finished yet (READY or RUNNING: Atrium cannot tell when a runner holds memory).
   */
  async limits(accountId: string): Promise<AccountLimitsView> {
    const [usage, monthly, active] = await Promise.all([
      this.usage(accountId),
      this.monthly(accountId),
      this.dataSource
        .getRepository(RunEntity)
        .createQueryBuilder('run')
        .innerJoin(ResourceEntity, 'r', 'r.id = run.id')
        .select('COUNT(*)', 'count')
        .addSelect(`COALESCE(SUM((run.options->>'memoryMbytes')::int), 0)`, 'memory')
        .where('r.owner_id = :accountId', { accountId })
        .andWhere('run.status NOT IN (:...terminal)', { terminal: TERMINAL_RUN_STATUSES })
        .getRawOne<{ count: string; memory: string }>(),
    ]);
    return {
      monthlyUsageCycle: monthly.usageCycle,
      limits: {
        maxMonthlyUsageUsd: 0,
        maxMonthlyActorComputeUnits: 0,
        maxMonthlyExternalDataTransferGbytes: 0,
        maxMonthlyProxySerps: 0,
        maxMonthlyResidentialProxyGbytes: 0,
        maxActorMemoryGbytes: 0,
        maxActorCount: usage.limits.resources.ACTOR,
        maxActorTaskCount: usage.limits.resources.ACTOR_TASK,
        maxScheduleCount: usage.limits.resources.SCHEDULE,
        maxConcurrentActorJobs: 0,
        maxTeamAccountSeatCount: 0,
        dataRetentionDays: 0,
        maxStorageBytes: usage.limits.storageBytes,
        maxRunTimeSecs: usage.limits.runTimeSecs,
      },
      current: {
        monthlyUsageUsd: 0,
        monthlyActorComputeUnits: monthly.monthlyServiceUsage.ACTOR_COMPUTE_UNITS.quantity,
        monthlyExternalDataTransferGbytes: 0,
        monthlyProxySerps: 0,
        monthlyResidentialProxyGbytes: 0,
        actorMemoryGbytes: Number(active?.memory ?? 0) / 1024,
        actorCount: usage.resources.ACTOR,
        actorTaskCount: usage.resources.ACTOR_TASK,
        scheduleCount: usage.resources.SCHEDULE,
        activeActorJobCount: Number(active?.count ?? 0),
        teamAccountSeatCount: 0,
        storageBytes: usage.storageBytes,
        runTimeSecs: usage.runTimeSecs,
      },
    };
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
