import { setTimeout as sleep } from 'timers/promises';
import { queryInt } from './api-query';

/** apify-client's `waitForFinish()` sends up to 999999; the API waits 60 s at most, as Apify's. */
export const waitForFinishParam = queryInt(0, 999_999).optional();
const MAX_WAIT_MS = 60_000;
const POLL_MS = 250;

/**
 * A run or build once it has finished, or as it is after `seconds` (60 at most): Atrium's jobs
 * are finished by whoever executes them, so this polls the record — while someone waits for the
 * answer: once `signal` aborts (the client went), it polls no more.
 */
export async function waitForFinish<T extends { status: string }>(
  read: () => Promise<T>,
  terminal: readonly string[],
  seconds: number | undefined,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + Math.min((seconds ?? 0) * 1000, MAX_WAIT_MS);
  for (;;) {
    const job = await read();
    if (terminal.includes(job.status) || Date.now() >= deadline || signal?.aborted) return job;
    // Cut short when the client goes; then the job as last read, no further read.
    const gone = await sleep(Math.min(POLL_MS, deadline - Date.now()), false, { signal }).catch(() => true);
    if (gone) return job;
  }
}
