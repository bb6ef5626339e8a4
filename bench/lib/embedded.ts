import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import * as os from 'os';
import { join } from 'path';
import { Api } from './api';
import { cpuSnapshot } from './cpu';
import { LoadResult, runLoad } from './load';
import { sleep } from './log';
import { freePort, ProcessGroup, REPO_ROOT } from './processes';
import { buildFixture } from './setup';

export interface EmbeddedStart {
  /** ms from spawn until `/health/ready` answered 200; null when it never did. */
  readyMs: number | null;
  /** VmRSS (MB) right after ready, and 2 s later. */
  rssAtReadyMB: number | null;
  rssSettledMB: number | null;
  /** The same for a second start on the data directory the first one made (warm start). */
  warm: { readyMs: number | null; rssAtReadyMB: number | null; rssSettledMB: number | null } | null;
  /** Authorized reads on the warm process (GET /v2/datasets/:id by a READ grantee); null if not run. */
  read: LoadResult | null;
  /** Its resident memory after the reads, and its CPU (user + system) per read. */
  rssAfterReadMB: number | null;
  cpuMsPerRead: number | null;
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

/** The node flags of `npm start` (package.json's start script): what users run is what is measured. */
export const START_NODE_FLAGS = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .filter((token) => token.startsWith('--'));

/** One `npm start` on `dataDir` until `/health/ready` is 200 (polled every 50 ms), and its VmRSS then and 2 s later. */
async function launch(
  group: ProcessGroup,
  dataDir: string,
  port: number,
  timeoutMs: number,
): Promise<{
  readyMs: number | null;
  rssAtReadyMB: number | null;
  rssSettledMB: number | null;
  error: string | null;
}> {
  const result = {
    readyMs: null as number | null,
    rssAtReadyMB: null as number | null,
    rssSettledMB: null as number | null,
    error: null as string | null,
  };
  const started = performance.now();
  const child = group.start(
    'embedded',
    'apps/atrium/src/main.ts',
    { ATRIUM_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    ['DATABASE_URL', 'AMQP_URL', 'JWT_SECRET', 'DB_POOL_SIZE', 'RUN_MIGRATIONS'],
    START_NODE_FLAGS,
  );
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  while (result.readyMs === null) {
    if (exited !== undefined) {
      result.error = `exited (code ${exited}) before it was ready:\n${group.tail('embedded', 15)}`;
      return result;
    }
    if (performance.now() - started > timeoutMs) {
      result.error = `not ready within ${timeoutMs} ms`;
      return result;
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) result.readyMs = performance.now() - started;
    } catch {
      // not listening yet
    }
    if (result.readyMs === null) await sleep(50);
  }
  if (child.pid) {
    result.rssAtReadyMB = rssMB(child.pid);
    await sleep(2000);
    result.rssSettledMB = rssMB(child.pid);
  }
  return result;
}

/**
 * The embedded authorized read: an owner's dataset, a grantee with a READ grant and an API token
 * (set up through the API), then GET /v2/datasets/:id as fast as `connections` go, after a warm-up.
 */
export async function embeddedRead(
  port: number,
  options: { connections: number; durationS: number; warmupS: number; measuring?: () => void },
): Promise<LoadResult> {
  const api = new Api(port);
  const fixture = await buildFixture(api, { pairs: 1, listShares: 0, runId: `e${Date.now().toString(36)}` });
  const [{ grantee, datasetId }] = fixture.pairs;
  const load = (durationS: number) =>
    runLoad({
      targets: [api.base],
      connections: options.connections,
      durationS,
      next: () => ({
        path: `/v2/datasets/${datasetId}`,
        headers: { authorization: `Bearer ${grantee.apiToken}` },
      }),
    });
  if (options.warmupS > 0) await load(options.warmupS);
  options.measuring?.();
  return load(options.durationS);
}

/**
 * `npm start` as a fresh install runs it: `node <START_NODE_FLAGS> -r ./tools/register.js apps/atrium/src/main.ts`
 * with a new, empty ATRIUM_DATA_DIR and no DATABASE_URL, AMQP_URL or JWT_SECRET (so embedded
 * PGlite, the in-process bus and a generated secret). Time until `/health/ready` is 200 and the
 * process's resident memory; stopped, then started again on the same directory (warm start),
 * and, when `read` is given, its authorized-read throughput. Then its directory is removed.
 */
export async function embeddedStart(
  group: ProcessGroup,
  timeoutMs: number,
  read?: { connections: number; durationS: number; warmupS: number },
): Promise<EmbeddedStart> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'atrium-bench-embedded-'));
  const port = await freePort();
  const result: EmbeddedStart = {
    readyMs: null,
    rssAtReadyMB: null,
    rssSettledMB: null,
    warm: null,
    read: null,
    rssAfterReadMB: null,
    cpuMsPerRead: null,
    error: null,
  };
  try {
    // As `npm ci` leaves it (postinstall): every server source compiled. A source edited since
    // would otherwise load the compiler into the first start (some 70 MB and 0.4 s it never has
    // after an install).
    execFileSync(process.execPath, [join(REPO_ROOT, 'tools', 'register.js'), '--build'], { stdio: 'ignore' });
    const first = await launch(group, dataDir, port, timeoutMs);
    Object.assign(result, first);
    await group.stop('embedded');
    if (first.error) return result;
    const { error, ...warm } = await launch(group, dataDir, port, timeoutMs);
    result.warm = warm;
    result.error = error;
    if (error || !read) return result;
    const running = group.running().filter((c) => c.name === 'embedded');
    const cpu = () => cpuSnapshot(running).get('embedded') ?? NaN;
    let cpuBefore = NaN;
    result.read = await embeddedRead(port, { ...read, measuring: () => (cpuBefore = cpu()) });
    result.cpuMsPerRead = ((cpu() - cpuBefore) * 1000) / result.read.responses || null;
    result.rssAfterReadMB = running[0]?.pid ? rssMB(running[0].pid) : null;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    await group.stop('embedded');
    rmSync(dataDir, { recursive: true, force: true });
  }
  return result;
}
