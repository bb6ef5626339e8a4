import { z } from 'zod';
import { rpc } from './rpc-route';
import { RunView } from './runs.contract';
import { idSchema } from './validation';

/**
 * Runners (the `atrium` CLI on a user's machine) execute runs by leasing them: a claim moves a
 * READY run to RUNNING for `leaseSecs`, renewed while its process works; a lease not renewed
 * in time gives the run back to READY once, and the second time fails it (its worker was lost
 * twice). Every lease has its own run token, which stops working when the lease is lost.
 */
export const RUN_MAX_ATTEMPTS = 2;
export const LEASE_SECS = { min: 10, max: 600, default: 60 } as const;
/** One append to a run's log, and all of a run's log a runner may append. */
export const RUN_LOG_APPEND_MAX_BYTES = 1024 * 1024;
export const RUN_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const LEASE_FINISH_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED-OUT', 'ABORTED'] as const;

export const workerNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  // It is written into run logs: no control characters.
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\x00-\x1f\x7f-\x9f]+$/, 'must be printable (no control characters)');
export const leaseSecsSchema = z.number().int().min(LEASE_SECS.min).max(LEASE_SECS.max);

export interface RunLeaseView {
  id: string;
  expiresAt: string;
  attempt: number;
}

export interface ClaimedRunView {
  run: RunView;
  runToken: string;
  lease: RunLeaseView;
}

export const RunLeasesRpc = {
  /**
   * Claims the oldest READY run among those the gateway decided the caller may execute: any run
   * of `anyRunOf` Actors (the caller may change their code), the caller's own runs of
   * `ownRunsOf` Actors; or the one run `runId` (then `runId`'s Actor must be in one of the lists).
   * Null when there is none (another worker may have taken it).
   */
  claim: rpc<ClaimedRunView | null>()(
    'resources',
    'resources.runs.claim',
    z
      .object({
        userId: z.string().min(1),
        worker: workerNameSchema,
        leaseSecs: leaseSecsSchema,
        anyRunOf: z.array(idSchema).max(50),
        ownRunsOf: z.array(idSchema).max(50),
        runId: idSchema.optional(),
      })
      .strict(),
  ),
  renew: rpc<{ status: RunView['status']; expiresAt: string }>()(
    'resources',
    'resources.runs.renew-lease',
    z
      .object({
        runId: idSchema,
        userId: z.string().min(1),
        leaseId: z.string().uuid(),
        leaseSecs: leaseSecsSchema,
        /** Ends the lease now instead (its holder may no longer execute the run): READY again. */
        release: z.boolean().optional(),
      })
      .strict(),
  ),
  finish: rpc<RunView>()(
    'resources',
    'resources.runs.finish-leased',
    z
      .object({
        runId: idSchema,
        userId: z.string().min(1),
        leaseId: z.string().uuid(),
        status: z.enum(LEASE_FINISH_STATUSES),
        statusMessage: z.string().max(1000).optional(),
        exitCode: z.number().int().optional(),
      })
      .strict(),
  ),
  /** Appends to a running run's log (capped at RUN_LOG_MAX_BYTES, then one "[log truncated]" line). */
  appendLog: rpc<{ length: number; truncated: boolean }>()(
    'resources',
    'resources.runs.append-log',
    z.object({ runId: idSchema, text: z.string().max(RUN_LOG_APPEND_MAX_BYTES) }).strict(),
  ),
} as const;
