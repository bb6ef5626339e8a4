import { ChildProcess, spawn } from 'child_process';
import { createWriteStream, readFileSync, WriteStream } from 'fs';
import { createServer } from 'net';
import { join } from 'path';
import { progress, sleep } from './log';

export const REPO_ROOT = join(__dirname, '..', '..');

interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
  log: WriteStream;
  exited: boolean;
}

/**
 * The benchmark's child processes. Each is killed by its own pid on cleanup (SIGTERM, then
 * SIGKILL after a grace period), and synchronously with SIGKILL if the harness exits first.
 */
export class ProcessGroup {
  private readonly children: Child[] = [];

  constructor(private readonly logDir: string) {
    process.on('exit', () => {
      for (const child of this.children) {
        if (!child.exited && child.process.pid) {
          try {
            process.kill(child.process.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    });
  }

  /**
   * Starts `node <nodeFlags> -r ./tools/register.js <script>` in the repository root, with the
   * harness's environment plus `env`, less the variables named in `unset`.
   */
  start(
    name: string,
    script: string,
    env: Record<string, string>,
    unset: string[] = [],
    nodeFlags: string[] = [],
  ): ChildProcess {
    const logFile = join(this.logDir, `${name}.log`);
    const log = createWriteStream(logFile);
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const key of unset) delete childEnv[key];
    // BENCH_PROFILE=gateway-1,resources: those children write a V8 CPU profile to the log directory.
    const profiled = (process.env.BENCH_PROFILE ?? '').split(',').includes(name);
    const profile = profiled
      ? ['--cpu-prof', `--cpu-prof-dir=${this.logDir}`, `--cpu-prof-name=${name}.cpuprofile`]
      : [];
    const child = spawn(process.execPath, [...nodeFlags, ...profile, '-r', './tools/register.js', script], {
      cwd: REPO_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry: Child = { name, process: child, logFile, log, exited: false };
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.on('exit', (code, signal) => {
      entry.exited = true;
      log.end(`\n[exited code=${code} signal=${signal}]\n`);
    });
    this.children.push(entry);
    return child;
  }

  /** The children still running, with their pids (for CPU accounting). */
  running(): { name: string; pid: number | undefined }[] {
    return this.children.filter((c) => !c.exited).map((c) => ({ name: c.name, pid: c.process.pid }));
  }

  /** Runs a script to completion (bounded); rejects with its output on failure. */
  async run(name: string, script: string, env: Record<string, string>, timeoutMs: number): Promise<void> {
    const child = this.start(name, script, env);
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (code !== 0) throw new Error(`${name} failed (exit ${code}):\n${this.tail(name)}`);
  }

  /** Rejects as soon as any long-running child dies. */
  watch(onDeath: (name: string, code: number | null) => void): void {
    for (const child of this.children) {
      child.process.once('exit', (code) => onDeath(child.name, code));
    }
  }

  /** Stops one child: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(name: string, graceMs = 5000): Promise<void> {
    const child = this.children.find((c) => c.name === name && !c.exited);
    if (!child) return;
    child.process.kill('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && !child.exited) await sleep(50);
    if (!child.exited) child.process.kill('SIGKILL');
    const killDeadline = Date.now() + 2000;
    while (Date.now() < killDeadline && !child.exited) await sleep(50);
  }

  tail(name: string, lines = 30): string {
    const child = this.children.find((c) => c.name === name);
    if (!child) return '';
    try {
      return readFileSync(child.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Stops every child still running: SIGTERM, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 3000): Promise<void> {
    const running = this.children.filter((c) => !c.exited);
    if (!running.length) return;
    progress(`stopping ${running.length} process(es)`);
    for (const child of running) child.process.kill('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && running.some((c) => !c.exited)) await sleep(50);
    for (const child of running) if (!child.exited) child.process.kill('SIGKILL');
    const killDeadline = Date.now() + 2000;
    while (Date.now() < killDeadline && running.some((c) => !c.exited)) await sleep(50);
  }
}

/** A free loopback port (asked of the OS, then released for the child to bind). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
