import { z } from 'zod';
import { RESOURCE_TYPES, ResourceType } from './access.enums';
import { AppError } from './app-error';
import { rpc } from './rpc-route';
import { idSchema } from './validation';

/**
 * What usage is measured in: resources per type, stored bytes, run time, and run time weighted by
 * each run's memory (megabyte-seconds: Apify's compute units are GB-hours of allocated memory).
 */
export const USAGE_METRICS = [
  'RESOURCE_COUNT',
  'STORAGE_BYTES',
  'RUN_TIME_SECS',
  'COMPUTE_MBYTE_SECS',
] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

export interface UsageLimits {
  /** Resources of each type the account may own. */
  resources: Record<ResourceType, number>;
  storageBytes: number;
  runTimeSecs: number;
}

export interface UsageFigures {
  /** Resources of each type. */
  resources: Record<ResourceType, number>;
  /** Dataset items (as JSON), key-value records and request-queue requests. */
  storageBytes: number;
  /** Seconds from start to finish, summed over finished runs. */
  runTimeSecs: number;
}

/**
 * An account's usage, its limits (the lower of the deployment's and the account's own), and who
 * holds it: each resource and the bytes stored in it count for the user who created it, run time
 * for the user who started the run.
 */
export interface UsageView extends UsageFigures {
  accountId: string;
  limits: UsageLimits;
  byUser: (UsageFigures & { userId: string })[];
}

const limitValue = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * Limits an account sets for itself, each at most the deployment's; a given field replaces the
 * account's own limit, `null` removes it (the deployment's applies again), an absent one is kept.
 */
export const usageLimitsBody = z
  .object({
    resources: z
      .object(
        Object.fromEntries(RESOURCE_TYPES.map((t) => [t, limitValue.nullable().optional()])) as Record<
          ResourceType,
          z.ZodOptional<z.ZodNullable<typeof limitValue>>
        >,
      )
      .strict()
      .optional(),
    storageBytes: limitValue.nullable().optional(),
    runTimeSecs: limitValue.nullable().optional(),
  })
  .strict();
export type UsageLimitsChange = z.infer<typeof usageLimitsBody>;

/** A field of Apify's limits update that Atrium has no meter for: refused, naming it and why. */
export const UNSUPPORTED_LIMITS: Record<string, string> = {
  maxMonthlyUsageUsd: 'Atrium bills nothing in USD',
  dataRetentionDays: 'Atrium keeps data until it is deleted (no retention period)',
};

/**
 * `PUT /v2/users/me/limits`: Atrium's own limits (`usageLimitsBody`), or the Apify names of those
 * Atrium has (`maxActorCount`, `maxActorTaskCount`, `maxScheduleCount` → `resources.*`).
 */
export const updateLimitsBody = usageLimitsBody
  .extend({
    maxActorCount: limitValue.nullable().optional(),
    maxActorTaskCount: limitValue.nullable().optional(),
    maxScheduleCount: limitValue.nullable().optional(),
  })
  .strict();

const APIFY_COUNT_LIMITS = {
  maxActorCount: 'ACTOR',
  maxActorTaskCount: 'ACTOR_TASK',
  maxScheduleCount: 'SCHEDULE',
} as const;

/** The change an update body asks for, in Atrium's terms; one limit named twice is invalid-input. */
export function toUsageLimitsChange(body: z.infer<typeof updateLimitsBody>): UsageLimitsChange {
  const { maxActorCount, maxActorTaskCount, maxScheduleCount, ...own } = body;
  const apify = { maxActorCount, maxActorTaskCount, maxScheduleCount };
  const resources: NonNullable<UsageLimitsChange['resources']> = { ...own.resources };
  for (const [field, type] of Object.entries(APIFY_COUNT_LIMITS) as [keyof typeof apify, ResourceType][]) {
    if (apify[field] === undefined) continue;
    if (resources[type] !== undefined)
      throw new AppError(
        'invalid-input',
        `Field "body.${field}" is invalid: it sets the same limit as "body.resources.${type}"`,
      );
    resources[type] = apify[field];
  }
  return Object.keys(resources).length ? { ...own, resources } : own;
}

/** A usage cycle: a calendar month in UTC (Atrium has no billing cycles). */
export interface UsageCycle {
  startAt: string;
  endAt: string;
}

/** One metered item of Apify's usage; Atrium prices nothing, so every amount is 0. */
export interface ServiceUsageItem {
  quantity: number;
  baseAmountUsd: number;
  baseUnitPriceUsd?: number;
  amountAfterVolumeDiscountUsd?: number;
  priceTiers?: unknown[];
}

export interface DailyServiceUsage {
  date: string;
  serviceUsage: Record<string, ServiceUsageItem>;
  totalUsageCreditsUsd: number;
}

/** Apify's monthly usage, from Atrium's usage ledger (the meters: UsageService.monthly). */
export interface MonthlyUsageView {
  usageCycle: UsageCycle;
  monthlyServiceUsage: Record<string, ServiceUsageItem>;
  dailyServiceUsages: DailyServiceUsage[];
  totalUsageCreditsUsdBeforeVolumeDiscount: number;
  totalUsageCreditsUsdAfterVolumeDiscount: number;
}

/**
 * Apify's account limits: every field Apify requires, 0 where Atrium has no such meter or limit,
 * plus Atrium's own (`maxStorageBytes`, `maxRunTimeSecs`; `storageBytes`, `runTimeSecs`).
 */
export interface AccountLimitsView {
  monthlyUsageCycle: UsageCycle;
  limits: {
    maxMonthlyUsageUsd: number;
    maxMonthlyActorComputeUnits: number;
    maxMonthlyExternalDataTransferGbytes: number;
    maxMonthlyProxySerps: number;
    maxMonthlyResidentialProxyGbytes: number;
    maxActorMemoryGbytes: number;
    maxActorCount: number;
    maxActorTaskCount: number;
    maxScheduleCount: number;
    maxConcurrentActorJobs: number;
    maxTeamAccountSeatCount: number;
    dataRetentionDays: number;
    maxStorageBytes: number;
    maxRunTimeSecs: number;
  };
  current: {
    monthlyUsageUsd: number;
    monthlyActorComputeUnits: number;
    monthlyExternalDataTransferGbytes: number;
    monthlyProxySerps: number;
    monthlyResidentialProxyGbytes: number;
    actorMemoryGbytes: number;
    actorCount: number;
    actorTaskCount: number;
    scheduleCount: number;
    activeActorJobCount: number;
    teamAccountSeatCount: number;
    storageBytes: number;
    runTimeSecs: number;
  };
}

/** `YYYY-MM-DD`, a real calendar date. */
export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine(
    (d) => {
      const day = new Date(`${d}T00:00:00Z`);
      return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(d);
    },
    {
      message: 'must be a real calendar date',
    },
  )
  // Usage is counted from 1970 on (an earlier date named a cycle the database could not represent).
  .refine((d) => d >= '1970-01-01', { message: 'must be on or after 1970-01-01' });

export const UsageRpc = {
  /** The account's usage figures, effective limits and per-user breakdown. */
  get: rpc<UsageView>()('resources', 'resources.usage.get', z.object({ accountId: idSchema }).strict()),
  /** Changes the limits the account sets for itself; above the deployment's is invalid-input. */
  setLimits: rpc<UsageView>()(
    'resources',
    'resources.usage.set-limits',
    z.object({ accountId: idSchema, limits: usageLimitsBody }).strict(),
  ),
  /** Apify's monthly usage of the cycle (calendar month, UTC) holding `date` (default: today). */
  monthly: rpc<MonthlyUsageView>()(
    'resources',
    'resources.usage.monthly',
    z.object({ accountId: idSchema, date: calendarDate.optional() }).strict(),
  ),
  /** Apify's limits view: the current cycle, effective limits and current usage. */
  limits: rpc<AccountLimitsView>()(
    'resources',
    'resources.usage.limits',
    z.object({ accountId: idSchema }).strict(),
  ),
} as const;
