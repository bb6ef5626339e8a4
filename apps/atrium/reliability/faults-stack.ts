import { INestMicroservice } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ServiceName, SERVICES } from '@atrium/contracts';
import { startServiceApp } from '@atrium/messaging';
import { createGatewayApp } from '@atrium/gateway';
import {
  closedAtFileEnd,
  createTestDatabase,
  resetBroker,
  TEST_AMQP_URL,
  testGatewayConfig,
  testServiceConfig,
  TestDatabase,
  testSqlPool,
  uniqueName,
} from '@atrium/testing';
import { Pool } from 'pg';
import { SERVICE_MODULES } from '../src/atrium-stack';

/**
 * The stack the fault tests run: every service in this process on real RabbitMQ and PostgreSQL,
 * each with its own broker and database URLs (so that one service's link can go through a fault
 * proxy), and the gateway listening on a loopback port, called over real HTTP with a deadline.
 */
export interface FaultStackOptions {
  /** AMQP URL of an app's messaging (event bus and RPC client); default TEST_AMQP_URL. */
  amqp?: Partial<Record<ServiceName | 'gateway', string>>;
  /** AMQP URL a service's RPC server consumes on; default: its `amqp`. */
  rpcServerAmqp?: Partial<Record<ServiceName, string>>;
  /** Maps the test database's URL to the one a service connects to (e.g. through a proxy). */
  database?: Partial<Record<ServiceName, (url: string) => string>>;
  serviceEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
}

export interface Answer {
  status: number;
  body: any;
  ms: number;
}

export interface FaultStack {
  db: TestDatabase;
  /** Direct connections to the test database, to check what the services wrote. */
  sql: Pool;
  base: string;
  gateway: NestFastifyApplication;
  services: Map<ServiceName, INestMicroservice>;
  /** One HTTP call that never outlives `timeoutMs`: status 0 means it hung and was aborted. */
  api(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    timeoutMs?: number,
    headers?: Record<string, string>,
  ): Promise<Answer>;
  signUp(prefix: string): Promise<{ id: string; username: string; token: string }>;
  /** Polls /health/ready until 200; returns how long it took. */
  waitReady(deadlineMs: number): Promise<number>;
  /** Requests the services' RPC servers got twice and answered without running twice. */
  replayedRequests(): number;
  startService(name: ServiceName): Promise<void>;
  stopService(name: ServiceName): Promise<void>;
  close(): Promise<void>;
}

export const REQUEST_TIMEOUT_MS = 15_000;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startFaultStack(options: FaultStackOptions = {}): Promise<FaultStack> {
  return closedAtFileEnd(startingFaultStack(options));
}

async function startingFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  const db = await createTestDatabase({ migrated: true });
  await resetBroker(TEST_AMQP_URL);
  const sql = testSqlPool(db.url);
  const services = new Map<ServiceName, INestMicroservice>();
  const startService = async (name: ServiceName) => {
    const amqpUrl = options.amqp?.[name] ?? TEST_AMQP_URL;
    const config = testServiceConfig((options.database?.[name] ?? ((u) => u))(db.url), {
      AMQP_URL: amqpUrl,
      ...options.serviceEnv,
    });
    const app = await startServiceApp(SERVICE_MODULES[name].forRoot(config), name, {
      amqpUrl: options.rpcServerAmqp?.[name] ?? amqpUrl,
      logLevel: config.LOG_LEVEL,
    });
    services.set(name, app);
  };
  const stopService = async (name: ServiceName) => {
    await services.get(name)?.close();
    services.delete(name);
  };
  await Promise.all(SERVICES.map(startService));
  const gateway = await createGatewayApp(
    testGatewayConfig({ AMQP_URL: options.amqp?.gateway ?? TEST_AMQP_URL, ...options.gatewayEnv }),
  );
  await gateway.listen(0, '127.0.0.1');
  const base = (await gateway.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');

  const api = async (
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    timeoutMs = REQUEST_TIMEOUT_MS,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const started = Date.now();
    try {
      const res = await fetch(base + path, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON: kept as text */
      }
      return { status: res.status, body: parsed, ms: Date.now() - started };
    } catch {
      return { status: 0, body: null, ms: Date.now() - started };
    }
  };

  return {
    db,
    sql,
    base,
    gateway,
    services,
    api,
    async signUp(prefix: string) {
      const username = uniqueName(prefix);
      const res = await api('POST', '/v2/auth/signup', undefined, {
        email: `${username}@example.com`,
        username,
        password: 'correct horse battery',
      });
      if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: res.body.data.user.id, username, token: res.body.data.accessToken };
    },
    async waitReady(deadlineMs: number) {
      const started = Date.now();
      for (;;) {
        const ready = await api('GET', '/health/ready', undefined, undefined, 3000);
        if (ready.status === 200) return Date.now() - started;
        if (Date.now() - started > deadlineMs)
          throw new Error(`not ready after ${deadlineMs} ms: ${JSON.stringify(ready.body)}`);
        await sleep(100);
      }
    },
    replayedRequests() {
      return [...services.values()].reduce(
        (sum, app) =>
          sum + ((app as unknown as { serverInstance: { replayed?: number } }).serverInstance.replayed ?? 0),
        0,
      );
    },
    startService,
    stopService,
    async close() {
      await gateway.close();
      for (const name of [...services.keys()]) await stopService(name);
      await sql.end();
      await db.drop();
    },
  };
}

/** Counts items by a key, e.g. answers by status: `{ "201": 180, "503": 4 }`. */
export function countBy<T>(items: T[], key: (item: T) => string | number): Record<string, number> {
  return items.reduce<Record<string, number>>((acc, item) => {
    acc[key(item)] = (acc[key(item)] ?? 0) + 1;
    return acc;
  }, {});
}

export const statusCounts = (answers: { status: number }[]) => countBy(answers, (a) => a.status);

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
