import { mkdtempSync, readFileSync, rmSync } from 'fs';
import * as os from 'os';
import { join } from 'path';
import { sleep } from './log';
import { freePort, ProcessGroup } from './processes';

export interface EmbeddedStart {
  /** ms from spawn until `/health/ready` answered 200; null when it never did. */
  readyMs: number | null;
  /** VmRSS (MB) right after ready, and 2 s later. */
  rssAtReadyMB: number | null;
  rssSettledMB: number | null;
  error: string | null;
}

/** VmRSS of a process (MB = 10⁶ bytes), from /proc/<pid>/status; null if unavailable. */
export function rssMB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? (Number(match[1]) * 1024) / 1e6 : null; // kB there are KiB
  } catch {
    return null;
  }
}

/**
 * `npm start` as a fresh install runs it: `node -r ./tools/register.js apps/atrium/src/main.ts`
 * with a new, empty ATRIUM_DATA_DIR and no DATABASE_URL, AMQP_URL or JWT_SECRET (so embedded
 * PGlite, the in-process bus and a generated secret). Time until `/health/ready` is 200, polled
 * every 50 ms, and the process's resident memory; then it is stopped and its directory removed.
 */
export async function embeddedStart(group: ProcessGroup, timeoutMs: number): Promise<EmbeddedStart> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'atrium-bench-embedded-'));
  const port = await freePort();
  const result: EmbeddedStart = { readyMs: null, rssAtReadyMB: null, rssSettledMB: null, error: null };
  const started = performance.now();
  const child = group.start(
    'embedded',
    'apps/atrium/src/main.ts',
    { ATRIUM_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    ['DATABASE_URL', 'AMQP_URL', 'JWT_SECRET', 'DB_POOL_SIZE', 'RUN_MIGRATIONS'],
  );
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  try {
    while (result.readyMs === null) {
      if (exited !== undefined) {
        result.error = `exited (code ${exited}) before it was ready:\n${group.tail('embedded', 15)}`;
        break;
      }
      if (performance.now() - started > timeoutMs) {
        result.error = `not ready within ${timeoutMs} ms`;
        break;
      }
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`, {
          signal: AbortSignal.timeout(2000),
        });
        await res.arrayBuffer();
        if (res.status === 200) result.readyMs = performance.now() - started;
      } catch {
        // not listening yet
      }
      if (result.readyMs === null) await sleep(50);
    }
    if (result.readyMs !== null && child.pid) {
      result.rssAtReadyMB = rssMB(child.pid);
      await sleep(2000);
      result.rssSettledMB = rssMB(child.pid);
    }
  } finally {
    await group.stop('embedded');
    rmSync(dataDir, { recursive: true, force: true });
  }
  return result;
}
