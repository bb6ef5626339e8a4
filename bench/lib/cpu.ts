import { readdirSync, readFileSync } from 'fs';

/** CPU seconds used so far (user + system) by each process of interest, by label. */
export type CpuSnapshot = Map<string, number>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function processCpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command (which may hold spaces), from `) `: state is field 3; utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined; // gone, or not Linux
  }
}

function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * CPU used by the benchmark's children (by name), the harness itself (the load generator), and
 * the machine's RabbitMQ (`beam.smp`) and PostgreSQL (every `postgres` process) — so that a run's
 * CPU per request can be split over what serves it. Linux only; elsewhere the map is empty.
 */
export function cpuSnapshot(children: { name: string; pid: number | undefined }[]): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  const add = (label: string, seconds: number | undefined) => {
    if (seconds !== undefined) snapshot.set(label, (snapshot.get(label) ?? 0) + seconds);
  };
  for (const child of children) if (child.pid) add(child.name, processCpuSeconds(child.pid));
  add('harness (load generator)', processCpuSeconds(process.pid));
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return snapshot;
  }
  for (const entry of pids) {
    const pid = Number(entry);
    const name = commandName(pid);
    if (name === 'beam.smp') add('rabbitmq', processCpuSeconds(pid));
    else if (name === 'postgres') add('postgresql', processCpuSeconds(pid));
  }
  return snapshot;
}

/** CPU milliseconds per request of each process between two snapshots. */
export function cpuMsPerRequest(
  before: CpuSnapshot,
  after: CpuSnapshot,
  requests: number,
): Map<string, number> {
  const used = new Map<string, number>();
  if (!requests) return used;
  for (const [label, seconds] of after)
    used.set(label, ((seconds - (before.get(label) ?? 0)) * 1000) / requests);
  return used;
}

/**
 * CPU milliseconds per request by process, largest first, as `1.42 ms (gateway-1 0.41, rabbitmq
 * 0.38, …)` with the total; processes that used (almost) nothing are left out.
 */
export function formatCpu(used: ReadonlyMap<string, number>): string {
  if (used.size === 0) return 'n/a';
  const shown = [...used].filter(([, ms]) => ms >= 0.005).sort((a, b) => b[1] - a[1]);
  const total = shown.reduce((sum, [, ms]) => sum + ms, 0);
  return `${total.toFixed(2)} ms (${shown.map(([label, ms]) => `${label} ${ms.toFixed(2)}`).join(', ')})`;
}
