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
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
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

/** A database's URL on the test server. */
function testDatabaseUrl(name: string): string {
  const url = new URL(TEST_ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh database per test file, dropped afterwards, so files never see each other's rows.
 * `migrated`: a copy of a database every service's migrations ran on (`migratedTemplate`), so the
 * services start with nothing to migrate (a copy takes a fraction of a second; migrating, seconds).
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const template = options.migrated ? await migratedTemplate() : undefined;
  const name = `atrium_test_${randomBase62(10).toLowerCase()}`;
  const admin = new Client({ connectionString: TEST_ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  await admin.end();
  const url = testDatabaseUrl(name);
  return {
    url,
    async drop() {
      const client = new Client({ connectionString: TEST_ADMIN_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

const TEMPLATE_PREFIX = 'atrium_test_template_';
/** What the migrations are made of: the sources that define them and the tool that applies them. */
const MIGRATION_SOURCES = ['apps/*/src/database', 'libs/persistence/src', 'libs/messaging/src', 'tools'];
let template: Promise<string> | undefined;

/**
 * The name of a database on the test server that every service's migrations ran on
 * (`tools/migrate.ts`), named by a hash of the sources that make them: made once, kept for later
 * runs while those sources are unchanged (the templates of other sources are dropped then).
 */
function migratedTemplate(): Promise<string> {
  return (template ??= makeTemplate().catch((err: unknown) => {
    template = undefined;
    throw err;
  }));
}

async function makeTemplate(): Promise<string> {
  const root = join(__dirname, '..', '..', '..');
  const hash = createHash('sha256');
  const files = MIGRATION_SOURCES.flatMap((pattern) => {
    const [app, ...rest] = pattern.split('/*/');
    const dirs = rest.length
      ? readdirSync(join(root, app)).map((name) => join(root, app, name, ...rest))
      : [join(root, pattern)];
    return dirs.flatMap((dir) => (existsSync(dir) ? sourceFiles(dir) : []));
  });
  // Relative paths: checkouts of the same sources share one template (and do not drop each other's).
  for (const file of files.sort()) hash.update(relative(root, file)).update(readFileSync(file));
  const name = `${TEMPLATE_PREFIX}${hash.digest('hex').slice(0, 16)}`;
  const admin = new Client({ connectionString: TEST_ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return name;
    const building = `${name}_${randomBase62(6).toLowerCase()}`;
    await admin.query(`CREATE DATABASE ${building}`);
    try {
      await promisify(execFile)(process.execPath, ['-r', './tools/register.js', 'tools/migrate.ts'], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: testDatabaseUrl(building) },
      });
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
    } catch (err) {
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      // Made meanwhile by another run: that one serves.
      if ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount) return name;
      throw err;
    }
    const { rows } = await admin.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2',
      [`${TEMPLATE_PREFIX}%`, name],
    );
    // Another run's may still be in use: left for a later run to drop.
    for (const { datname } of rows)
      await admin.query(`DROP DATABASE IF EXISTS ${datname}`).catch(() => undefined);
    return name;
  } finally {
    await admin.end();
  }
}

/** The .ts files under a directory, recursively. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
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
