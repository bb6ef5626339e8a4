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
    await pause(Math.min(POLL_MS, deadline - Date.now()), signal);
  }
}

/** `ms`, or less if `signal` aborts first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
