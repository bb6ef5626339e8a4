import { randomBase62 } from '@atrium/auth';
import {
  GatewayConfig,
  gatewayConfigSchema,
  loadConfig,
  ServicesConfig,
  servicesConfigSchema,
} from '@atrium/config';
import { SERVICES } from '@atrium/contracts';
import { deadLetterQueue, eventQueue, rpcQueue } from '@atrium/messaging';
import * as amqplib from 'amqplib';
import { Client, Pool } from 'pg';

/** The real servers tests run against (CI starts them): PostgreSQL and RabbitMQ on loopback. */
export const TEST_ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnop';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database per test file, dropped afterwards, so files never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `atrium_test_${randomBase62(10).toLowerCase()}`;
  const admin = new Client({ connectionString: TEST_ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: TEST_ADMIN_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * A pool for a test's own reads and writes of its test database. `pool.end()` resolves before
 * its idle connections have closed, so the database's drop (which terminates its connections)
 * can reach one still closing: pg then emits 'error' on the pool, which must be listened to or
 * it ends the test file. Query errors still reject the query's promise as usual.
 */
export function testSqlPool(url: string): Pool {
  const pool = new Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  return pool;
}

/** Deletes Atrium's queues so a test file starts with no message left over from another. */
export async function resetBroker(url = TEST_AMQP_URL): Promise<void> {
  const connection = await amqplib.connect(url);
  const channel = await connection.createChannel();
  for (const service of SERVICES) {
    for (const queue of [rpcQueue(service), eventQueue(service)]) {
      await channel.deleteQueue(queue);
      await channel.deleteQueue(deadLetterQueue(queue));
    }
  }
  await channel.close();
  await connection.close();
}

/** What any service reads (each module takes its part). */
export function testServiceConfig(
  databaseUrl: string,
  overrides: Record<string, string | undefined> = {},
): ServicesConfig {
  return loadConfig(servicesConfigSchema, {
    DATABASE_URL: databaseUrl,
    AMQP_URL: TEST_AMQP_URL,
    JWT_SECRET: TEST_JWT_SECRET,
    RPC_TIMEOUT_MS: '3000',
    DB_POOL_SIZE: '5',
    LOG_LEVEL: 'error',
    // Test webhook receivers listen on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    ...overrides,
  });
}

export function testGatewayConfig(overrides: Record<string, string | undefined> = {}): GatewayConfig {
  return loadConfig(gatewayConfigSchema, {
    AMQP_URL: TEST_AMQP_URL,
    JWT_SECRET: TEST_JWT_SECRET,
    RPC_TIMEOUT_MS: '3000',
    PORT: '0',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    LOG_LEVEL: 'error',
    ...overrides,
  });
}

/** A name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBase62(8).toLowerCase()}`;
}

/** Polls until `check` passes or the deadline ends (for effects that travel through events). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
