import { SERVICES, ServiceName } from '@atrium/contracts';
import { GatewayConfig } from '@atrium/config';
import { createGatewayApp } from '@atrium/gateway';
import { TEST_AMQP_URL, TEST_JWT_SECRET } from '@atrium/testing';
import { Logger } from '@nestjs/common';
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AtriumStack } from '../src/atrium-stack';

const ROOT = join(__dirname, '..', '..', '..');
const REGISTER = join(ROOT, 'tools', 'register.js');
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

/** One Node process of the repository's tools, its output kept for when something fails. */
function runTool(script: string, args: string[], env: NodeJS.ProcessEnv, output: string[]): ChildProcess {
  const child = spawn(process.execPath, ['-r', REGISTER, join(ROOT, script), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => {
      output.push(`[${args[0] ?? script}#${child.pid}] ${line}`);
      if (output.length > 2000) output.shift();
    });
  }
  return child;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

/** Resolves once the process prints that it consumes its queue; rejects if it exits first. */
function consuming(child: ChildProcess, output: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`not consuming after ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/service is consuming/.test(line)) {
        clearTimeout(timer);
        done();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`exited with ${code} before consuming:\n${output.slice(-30).join('\n')}`));
    });
  });
}

/**
 * The local distributed mode under the end-to-end suites (TEST_DISTRIBUTED=1): every service as
 * `replicas` processes of its own (competing consumers on its queue), migrated once beforehand,
 * on real RabbitMQ and PostgreSQL; the gateway in the test process, so suites drive it as usual.
 * Stopping a service sends SIGTERM to each of its replicas (graceful shutdown) and waits.
 */
export async function startProcessStack(
  databaseUrl: string,
  gatewayConfig: GatewayConfig,
  replicas = 2,
): Promise<AtriumStack & { output: readonly string[] }> {
  const output: string[] = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    DATABASE_URL: databaseUrl,
    AMQP_URL: TEST_AMQP_URL,
    JWT_SECRET: TEST_JWT_SECRET,
    RPC_TIMEOUT_MS: '3000',
    DB_POOL_SIZE: '3',
    // Every RPC a service answers is a line, with its request id (request-tracing.e2e-spec.ts).
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    // Test webhook receivers listen on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  };
  const migrate = runTool('tools/migrate.ts', [], env, output);
  if (!(await exited(migrate, START_TIMEOUT_MS)) || migrate.exitCode !== 0)
    throw new Error(`migrations failed:\n${output.slice(-30).join('\n')}`);

  const running = new Map<ServiceName, ChildProcess[]>();
  const startService = async (name: ServiceName) => {
    const children = Array.from({ length: replicas }, () =>
      runTool('tools/start-service.ts', [name], { ...env, RUN_MIGRATIONS: 'false' }, output),
    );
    running.set(name, children);
    await Promise.all(children.map((child) => consuming(child, output)));
  };
  const stopService = async (name: ServiceName) => {
    const children = running.get(name) ?? [];
    running.delete(name);
    for (const child of children) child.kill('SIGTERM');
    for (const child of children) if (!(await exited(child, STOP_TIMEOUT_MS))) child.kill('SIGKILL');
  };
  try {
    await Promise.all(SERVICES.map(startService));
  } catch (err) {
    await Promise.all(SERVICES.map(stopService));
    throw err;
  }
  const gateway = await createGatewayApp(gatewayConfig);
  return {
    output,
    gateway,
    services: new Map(),
    startService,
    stopService,
    async close() {
      await gateway.close();
      await Promise.all(SERVICES.map(stopService));
      new Logger('Atrium').log('stopped');
    },
  };
}
