/**
 * Local distributed mode: migrates once, then runs every service as its own process (N replicas
 * each, competing consumers on the service's queue) and the gateway, against DATABASE_URL and
 * AMQP_URL. SIGTERM or SIGINT is passed to every child; it exits once they all have.
 *   npm run start:services [-- --replicas 2]      (or REPLICAS=2)
 */
import { SERVICES } from '@atrium/contracts';
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..');
const REGISTER = join(ROOT, 'tools', 'register.js');

function replicasWanted(argv: string[]): number {
  const i = argv.findIndex((a) => a === '--replicas' || a.startsWith('--replicas='));
  const raw = i < 0 ? process.env.REPLICAS : argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  const n = Number(raw ?? 1);
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    console.error(`--replicas (or REPLICAS) must be an integer from 1 to 16, got ${raw}`);
    process.exit(1);
  }
  return n;
}

function runTool(label: string, script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['-r', REGISTER, join(ROOT, script), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => console.log(`[${label}] ${line}`));
  }
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => child.once('exit', (code) => done(code)));
}

async function main(): Promise<void> {
  const replicas = replicasWanted(process.argv.slice(2));
  for (const name of ['DATABASE_URL', 'AMQP_URL', 'JWT_SECRET']) {
    if (!process.env[name]) {
      console.error(`${name} is required (see README, "Running the services separately")`);
      process.exit(1);
    }
  }

  const migrate = runTool('migrate', 'tools/migrate.ts', [], process.env);
  const migrated = await exited(migrate);
  if (migrated !== 0) {
    console.error(`migrations failed (exit ${migrated}); nothing started`);
    process.exit(1);
  }

  // Migrations ran once above; replicas must not race for the advisory lock on every start.
  const env = { ...process.env, RUN_MIGRATIONS: 'false' };
  const children: { label: string; child: ChildProcess }[] = [];
  let stopping = false;
  const start = (name: string, label: string) => {
    const child = runTool(label, 'tools/start-service.ts', [name], env);
    console.log(`started ${label} (pid ${child.pid})`);
    children.push({ label, child });
    void exited(child).then((code) => {
      const how = child.signalCode ? `signal ${child.signalCode}` : `code ${code}`;
      // A replica that dies is not restarted: the others keep consuming its queue.
      console.log(`${label} (pid ${child.pid}) exited with ${how}${stopping ? '' : ' (not restarted)'}`);
    });
  };
  for (const service of SERVICES) {
    for (let i = 1; i <= replicas; i++) start(service, `${service}#${i}`);
  }
  start('gateway', 'gateway');

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, stopping ${children.length} processes`);
    for (const { child } of children)
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const codes = await Promise.all(children.map(({ child }) => exited(child)));
  process.exit(stopping && codes.every((c) => c === 0) ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
