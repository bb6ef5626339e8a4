import { mkdtempSync } from 'fs';
import * as os from 'os';
import { join } from 'path';
import { config, READY_TIMEOUT_MS } from './config';
import { cpuMsPerRequest, cpuSnapshot, formatCpu } from './lib/cpu';
import { LoadOptions, LoadResult, runLoad, stopLoad } from './lib/load';
import { progress, sleep, within } from './lib/log';
import { spreadOf } from './lib/repeat';
import { ProcessGroup } from './lib/processes';

/* The benchmark's processes, their logs and its measuring, shared by every scenario. */

export const logDir = mkdtempSync(join(os.tmpdir(), 'atrium-bench-'));
export const group = new ProcessGroup(logDir);
let dropDatabase: (() => Promise<void>) | undefined;
/** What `cleanup` drops at the end. */
export function dropAtCleanup(drop: () => Promise<void>): void {
  dropDatabase = drop;
}
let stopping = false;
let deadChild: string | undefined;

let cleanupPromise: Promise<void> | undefined;
export function cleanup(): Promise<void> {
  cleanupPromise ??= (async () => {
    stopping = true;
    try {
      stopLoad();
    } catch {
      // nothing running
    }
    await group.stopAll();
    if (dropDatabase) {
      try {
        await within(dropDatabase(), 15_000, 'DROP DATABASE');
        progress('dropped the benchmark database');
      } catch (err) {
        progress(`could not drop the benchmark database: ${(err as Error).message}`);
      }
    }
  })();
  return cleanupPromise;
}

function onSignal(signal: NodeJS.Signals): void {
  progress(`${signal}: stopping`);
  void cleanup().finally(() => process.exit(130));
}
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

export function checkAlive(): void {
  if (deadChild) throw new Error(`${deadChild} exited during the run:\n${group.tail(deadChild)}`);
}

export async function waitReady(name: string, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    checkAlive();
    try {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${name} not ready within ${READY_TIMEOUT_MS} ms:\n${group.tail(name)}`);
    await sleep(250);
  }
}

/** CPU per request by process, per measured shape (label): one map per repetition. */
const cpuUse = new Map<string, Map<string, number>[]>();

/** CPU per request by process for each measured shape: the median over its repetitions, by process. */
export function cpuLines(): string[] {
  return [...cpuUse].map(([label, runs]) => {
    const processes = new Set(runs.flatMap((run) => [...run.keys()]));
    const median = new Map(
      [...processes].map((p) => [p, spreadOf(runs.map((run) => run.get(p) ?? 0)).median] as const),
    );
    return `${label} (${runs.length} run${runs.length > 1 ? 's' : ''}): ${formatCpu(median)}`;
  });
}

/**
 * A warm-up (discarded), then the measured run with the same shape. `label` names the shape (its
 * CPU per request is reported per shape, over the repetitions); `repetition`, which one this is.
 */
export async function measure(
  label: string,
  options: LoadOptions,
  runner: (options: LoadOptions) => Promise<LoadResult> = runLoad,
  repetition?: number,
): Promise<LoadResult> {
  checkAlive();
  if (config.warmupS > 0 && options.durationS) {
    await runner({ ...options, durationS: config.warmupS });
  }
  const cpuBefore = cpuSnapshot(group.running());
  const result = await runner(options);
  const cpu = cpuMsPerRequest(cpuBefore, cpuSnapshot(group.running()), result.responses);
  cpuUse.set(label, [...(cpuUse.get(label) ?? []), cpu]);
  progress(
    `${label}${repetition === undefined ? '' : ` #${repetition + 1}`}: ${Math.round(result.rps)} req/s, ` +
      `p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ` +
      `errors ${result.errors} ${JSON.stringify(result.statusCounts)}; CPU ${formatCpu(cpu)}`,
  );
  checkAlive();
  return result;
}

/** From now on, a child that exits (not while stopping) fails the run at the next check. */
export function watchChildren(): void {
  group.watch((name, code) => {
    if (!stopping && !deadChild) {
      deadChild = name;
      progress(`${name} exited (code ${code})`);
    }
  });
}

export const fmt = (n: number): string => n.toLocaleString('en-US');
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
