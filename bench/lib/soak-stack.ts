import { execFile, ChildProcess, spawn } from 'child_process';
import { createWriteStream, readFileSync } from 'fs';
import { join } from 'path';
import { createInterface } from 'readline';
import { promisify } from 'util';
import { SERVICES, ServiceName } from '@atrium/contracts';
import { FaultProxy, startFaultProxy, TEST_JWT_SECRET } from '@atrium/testing';
import { createBenchDatabase, randomSuffix } from './infra';
import { progress, sleep, within } from './log';
import { freePort, REPO_ROOT } from './processes';

/*
 * The soak's stack: the distributed mode with every service as two processes and two gateways,
 * on a fresh database and a RabbitMQ vhost of its own, each link to the broker and the database
 * through a fault proxy (or, with --real-restarts, straight to the servers, which are restarted).
 */

const run = promisify(execFile);
const START_TIMEOUT_MS = 120_000;

export const REPLICAS = 2;
export const GATEWAYS = 2;

export interface SoakProcess {
  label: string;
  app: ServiceName | 'gateway';
  child: ChildProcess;
  /** Times it was started again after a kill. */
  restarts: number;
  port?: number;
}

export interface SoakStack {
  logDir: string;
  databaseUrl: string;
  gatewayUrls: string[];
  processes: SoakProcess[];
  /** A broker outage of `outageMs`: proxied (cut + refuse), or rabbitmqctl stop_app / start_app. */
  restartBroker(outageMs: number): Promise<void>;
  /** A database outage of `outageMs`: proxied (cut + refuse), or pg_ctlcluster stop / start. */
  restartDatabase(outageMs: number): Promise<void>;
  /** SIGKILL of one process, started again after `downMs`, resolved once it consumes again. */
  killAndRestart(label: string, downMs: number): Promise<void>;
  /** VmRSS of every process now, in MB, by label. */
  rss(): Record<string, number>;
  /** Messages in the vhost's dead-letter queues, by queue (those holding any). */
  deadLetters(): Promise<Record<string, number>>;
  /** Lines at level error in each process's log. */
  errorLines(): Record<string, number>;
  close(): Promise<void>;
}

export interface SoakStackOptions {
  realRestarts: boolean;
  adminDatabaseUrl: string;
  amqpBaseUrl: string;
  logDir: string;
  /** Variables of every process's environment, over the defaults below (LOG_LEVEL stays `log` or
   * `debug`: a process is known ready by the line it logs at `log`). */
  env?: Record<string, string>;
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  await within(run('rabbitmqctl', args), 60_000, `rabbitmqctl ${args.join(' ')}`);
}

/** The first cluster pg_lsclusters lists, e.g. { version: '15', name: 'main' }. */
async function postgresCluster(): Promise<{ version: string; name: string }> {
  const { stdout } = await run('pg_lsclusters', ['-h']);
  const [version, name] = stdout.trim().split('\n')[0].split(/\s+/);
  if (!version || !name) throw new Error(`pg_lsclusters listed no cluster: ${stdout}`);
  return { version, name };
}

function waitForLine(child: ChildProcess, pattern: RegExp, label: string): Promise<void> {
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${label} not ready in ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        if (pattern.test(line)) {
          clearTimeout(timer);
          done();
        }
      });
    }
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`${label} exited (code ${code}, signal ${signal}) before it was ready`));
    });
  });
}

export async function startSoakStack(options: SoakStackOptions): Promise<SoakStack> {
  const { logDir } = options;
  const vhost = `soak-${randomSuffix(8)}`;
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  const amqpUrl = new URL(options.amqpBaseUrl);
  amqpUrl.pathname = `/${vhost}`;
  const db = await createBenchDatabase(options.adminDatabaseUrl, 'soak');
  progress(`database ${new URL(db.url).pathname.slice(1)}, vhost ${vhost}, logs in ${logDir}`);

  let amqpProxy: FaultProxy | undefined;
  let pgProxy: FaultProxy | undefined;
  let appAmqpUrl = amqpUrl.toString();
  let appDatabaseUrl = db.url;
  if (!options.realRestarts) {
    amqpProxy = await startFaultProxy({ port: Number(amqpUrl.port || 5672), host: amqpUrl.hostname });
    const pgUrl = new URL(db.url);
    pgProxy = await startFaultProxy({ port: Number(pgUrl.port || 5432), host: pgUrl.hostname });
    appAmqpUrl = amqpProxy.url(appAmqpUrl);
    appDatabaseUrl = pgProxy.url(appDatabaseUrl);
  }

  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    DATABASE_URL: appDatabaseUrl,
    AMQP_URL: appAmqpUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    DB_POOL_SIZE: '3',
    LOG_LEVEL: 'log',
    LOG_FORMAT: 'json',
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    ...options.env,
  };

  const migrate = spawn(process.execPath, ['-r', './tools/register.js', 'tools/migrate.ts'], {
    cwd: REPO_ROOT,
    env: { ...baseEnv, DATABASE_URL: db.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  migrate.stdout?.pipe(createWriteStream(join(logDir, 'migrate.log')));
  migrate.stderr?.pipe(createWriteStream(join(logDir, 'migrate.err.log')));
  const migrated = await new Promise<number | null>((done) => migrate.once('exit', done));
  if (migrated !== 0) throw new Error(`migrations failed, see ${logDir}/migrate*.log`);

  const processes: SoakProcess[] = [];
  const spawnApp = async (
    proc: Omit<SoakProcess, 'child' | 'restarts'>,
    restarts = 0,
  ): Promise<SoakProcess> => {
    const env = { ...baseEnv, RUN_MIGRATIONS: 'false', ...(proc.port ? { PORT: String(proc.port) } : {}) };
    const child = spawn(process.execPath, ['-r', './tools/register.js', 'tools/start-service.ts', proc.app], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(logDir, `${proc.label}.log`), { flags: 'a' });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', (code, signal) => log.end(`[exited code=${code} signal=${signal}]\n`));
    const entry: SoakProcess = { ...proc, child, restarts };
    await waitForLine(
      child,
      proc.app === 'gateway' ? /gateway listening on/ : /service is consuming/,
      proc.label,
    );
    return entry;
  };

  const stopAll = async () => {
    const running = processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    for (const p of running) p.child.kill('SIGTERM');
    const deadline = Date.now() + 10_000;
    while (
      Date.now() < deadline &&
      running.some((p) => p.child.exitCode === null && p.child.signalCode === null)
    )
      await sleep(100);
    for (const p of running)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  };
  process.on('exit', () => {
    for (const p of processes)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });

  const cleanup = async () => {
    await stopAll();
    await amqpProxy?.close();
    await pgProxy?.close();
    try {
      await within(db.drop(), 30_000, 'DROP DATABASE');
    } catch (err) {
      progress(`could not drop the database: ${(err as Error).message}`);
    }
    try {
      await rabbitmqctl('delete_vhost', vhost);
    } catch (err) {
      progress(`could not delete vhost ${vhost}: ${(err as Error).message}`);
    }
  };

  try {
    for (const service of SERVICES) {
      const started = await Promise.all(
        Array.from({ length: REPLICAS }, (_, i) => spawnApp({ label: `${service}#${i + 1}`, app: service })),
      );
      processes.push(...started);
    }
    for (let i = 1; i <= GATEWAYS; i++) {
      processes.push(await spawnApp({ label: `gateway#${i}`, app: 'gateway', port: await freePort() }));
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  const outage = async (proxy: FaultProxy | undefined, outageMs: number, real: () => Promise<void>) => {
    if (!proxy) return real();
    proxy.refuse();
    proxy.reset();
    await sleep(outageMs);
    proxy.restore();
  };

  return {
    logDir,
    databaseUrl: db.url,
    gatewayUrls: processes.filter((p) => p.app === 'gateway').map((p) => `http://127.0.0.1:${p.port}`),
    processes,
    restartBroker: (outageMs) =>
      outage(amqpProxy, outageMs, async () => {
        await rabbitmqctl('stop_app');
        await sleep(outageMs);
        await rabbitmqctl('start_app');
      }),
    restartDatabase: (outageMs) =>
      outage(pgProxy, outageMs, async () => {
        const cluster = await postgresCluster();
        const ctl = (action: string, ...more: string[]) =>
          within(
            run('pg_ctlcluster', [
              '--skip-systemctl-redirect',
              cluster.version,
              cluster.name,
              action,
              ...more,
            ]),
            60_000,
            `pg_ctlcluster ${action}`,
          );
        await ctl('stop', '-m', 'fast');
        await sleep(outageMs);
        await ctl('start');
      }),
    async killAndRestart(label, downMs) {
      const i = processes.findIndex((p) => p.label === label);
      if (i < 0) throw new Error(`no process ${label}`);
      const old = processes[i];
      old.child.kill('SIGKILL');
      await sleep(downMs);
      processes[i] = await spawnApp({ label: old.label, app: old.app, port: old.port }, old.restarts + 1);
    },
    rss() {
      const out: Record<string, number> = {};
      for (const p of processes) {
        try {
          const status = readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
          const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
          out[p.label] = Math.round(kb / 1024);
        } catch {
          out[p.label] = NaN;
        }
      }
      return out;
    },
    errorLines() {
      const out: Record<string, number> = {};
      for (const p of processes) {
        try {
          out[p.label] = readFileSync(join(logDir, `${p.label}.log`), 'utf8')
            .split('\n')
            .filter((l) => /"level":"error"/.test(l)).length;
        } catch {
          out[p.label] = NaN;
        }
      }
      return out;
    },
    async deadLetters() {
      const { stdout } = await within(
        run('rabbitmqctl', ['list_queues', '-p', vhost, '--quiet', '--no-table-headers', 'name', 'messages']),
        60_000,
        'rabbitmqctl list_queues',
      );
      const out: Record<string, number> = {};
      for (const line of stdout.trim().split('\n')) {
        const [queue, messages] = line.trim().split(/\s+/);
        if (queue?.endsWith('.dlq') && Number(messages) > 0) out[queue] = Number(messages);
      }
      return out;
    },
    close: cleanup,
  };
}
