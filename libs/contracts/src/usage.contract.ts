import { z } from 'zod';
import { RESOURCE_TYPES, ResourceType } from './access.enums';
import { rpc } from './rpc-route';
import { idSchema } from './validation';

/** What usage is measured in: resources per type, stored bytes, run time. */
export const USAGE_METRICS = ['RESOURCE_COUNT', 'STORAGE_BYTES', 'RUN_TIME_SECS'] as const;
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

export const UsageRpc = {
  /** The account's usage figures, effective limits and per-user breakdown. */
  get: rpc<UsageView>()('resources', 'resources.usage.get', z.object({ accountId: idSchema }).strict()),
  /** Changes the limits the account sets for itself; above the deployment's is invalid-input. */
  setLimits: rpc<UsageView>()(
    'resources',
    'resources.usage.set-limits',
    z.object({ accountId: idSchema, limits: usageLimitsBody }).strict(),
  ),
} as const;
