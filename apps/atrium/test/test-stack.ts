import {
  closedAtFileEnd,
  createTestDatabase,
  eventually,
  resetBroker,
  testSqlPool,
  testGatewayConfig,
  testServiceConfig,
  TestDatabase,
} from '@atrium/testing';
import { startEmbeddedPostgres } from '@atrium/persistence';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { AtriumStack, startAtriumStack } from '../src/atrium-stack';
import { startProcessStack } from './process-stack';

// The data factories live in @atrium/testing; the specs take them from here too.
export {
  createActor,
  createDataset,
  createOrganization,
  joinOrganization,
  restrictResourceAccess,
  signUp,
  signUpEach,
} from '@atrium/testing';
import type { SignedUpUser } from '@atrium/testing';
export type { SignedUpUser, TestOrganization } from '@atrium/testing';

export interface TestStack {
  stack: AtriumStack;
  db: TestDatabase;
  http: () => ReturnType<typeof request>;
  /** Distributed mode: the services' processes' output, each line prefixed `[service#pid]`. */
  serviceOutput?: readonly string[];
  close(): Promise<void>;
}

/** TEST_EMBEDDED=1 runs the same suites on the embedded mode: PGlite and the in-process bus. */
export const TEST_EMBEDDED = process.env.TEST_EMBEDDED === '1';
/** TEST_DISTRIBUTED=1 runs them on the local distributed mode: two processes of every service. */
export const TEST_DISTRIBUTED = process.env.TEST_DISTRIBUTED === '1';
const transportOverrides = () => (TEST_EMBEDDED ? { AMQP_URL: '' } : {});

/**
 * The specs measure whether something holds (a write in force when it answers, a lockout under a
 * race, a crawl that loses nothing, a signed link that opens), not how fast it is answered: on a
 * slow or loaded CI machine, with every service in the test's one process, a call may wait out a
 * 3 s RPC timeout (503) behind a garbage collection or a busy test process. So the test gateways
 * wait 15 s for an RPC, and a spec that stops a service to see the gateway fail closed asks for
 * FAIL_FAST (the 3 s the services use here). Slow calls still count in what a spec reports.
 */
const PATIENT = { RPC_TIMEOUT_MS: '15000' };
export const FAIL_FAST = { RPC_TIMEOUT_MS: '3000' };

/** Configuration for another gateway replica in front of the stack's services. */
export function replicaGatewayConfig(overrides: Record<string, string> = {}) {
  return testGatewayConfig({ ...transportOverrides(), ...PATIENT, ...overrides });
}

/** All services on real RabbitMQ and a fresh PostgreSQL database, the gateway served in-process to supertest. */
export function startTestStack(gatewayOverrides: Record<string, string> = {}): Promise<TestStack> {
  return closedAtFileEnd(startingTestStack(gatewayOverrides));
}

async function startingTestStack(gatewayOverrides: Record<string, string>): Promise<TestStack> {
  const embedded = TEST_EMBEDDED;
  const db = embedded ? await embeddedTestDatabase() : await createTestDatabase({ migrated: true });
  if (!embedded) await resetBroker();
  const stack = TEST_DISTRIBUTED
    ? await startProcessStack(db.url, replicaGatewayConfig(gatewayOverrides))
    : await startAtriumStack(
        testServiceConfig(db.url, { ...transportOverrides(), DB_POOL_SIZE: embedded ? '4' : '5' }),
        replicaGatewayConfig(gatewayOverrides),
      );
  await stack.gateway.getHttpAdapter().getInstance().ready();
  return {
    stack,
    db,
    serviceOutput: 'output' in stack ? (stack.output as readonly string[]) : undefined,
    http: () => request(stack.gateway.getHttpServer()),
    async close() {
      await stack.close();
      await db.drop();
    },
  };
}

export interface DevMail {
  to: string;
  subject: string;
  text: string;
  /** The one-time token the mail carries (its `token: …` line). */
  token: string;
}

/**
 * The newest mail to `to` whose subject contains `subject`, read from the dev mailbox (the
 * identity schema's `dev_mail` table, where mail goes when no SMTP_URL is set), waiting for it.
 */
export async function readMail(t: Pick<TestStack, 'db'>, to: string, subject: string): Promise<DevMail> {
  const pool = testSqlPool(t.db.url);
  try {
    return await eventually(async () => {
      const { rows } = await pool.query<{ to_address: string; subject: string; text: string }>(
        `SELECT to_address, subject, text FROM identity.dev_mail
          WHERE to_address = $1 AND subject ILIKE $2 ORDER BY created_at DESC, id DESC LIMIT 1`,
        [to.toLowerCase(), `%${subject}%`],
      );
      if (!rows.length) throw new Error(`no mail to ${to} about "${subject}"`);
      const token = /token: (\S+)/i.exec(rows[0].text)?.[1];
      if (!token) throw new Error(`the mail to ${to} carries no token`);
      return { to: rows[0].to_address, subject: rows[0].subject, text: rows[0].text, token };
    });
  } finally {
    await pool.end();
  }
}

/** Verifies the user's email with the token of its sign-up mail. */
export async function verifyEmail(t: TestStack, user: SignedUpUser): Promise<void> {
  const mail = await readMail(t, `${user.username}@example.com`, 'Verify');
  await t.http().post('/v2/auth/verify-email').send({ token: mail.token }).expect(200);
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

/** A stack whose gateway listens on a real port, with PUBLIC_BASE_URL pointing at it (for SDK clients). */
export async function startListeningTestStack(
  gatewayOverrides: Record<string, string> = {},
): Promise<TestStack & { baseUrl: string }> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const t = await startTestStack({ ...gatewayOverrides, PORT: String(port), PUBLIC_BASE_URL: baseUrl });
  await t.stack.gateway.listen(port, '127.0.0.1');
  return { ...t, baseUrl };
}

async function embeddedTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'atrium-test-'));
  const pg = await startEmbeddedPostgres(join(dir, 'pglite'));
  return {
    url: pg.url,
    async drop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const ROOT = resolve(__dirname, '../../..');
/** The node flags of `npm start` (package.json's start script), so that tests start what users start. */
const START_NODE_FLAGS = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .filter((token) => token.startsWith('--'));

/** Runs `npm start`'s entry point as a user would: its own process, no DATABASE_URL, no AMQP_URL. */
export async function startEmbedded(
  dataDir: string,
  port: number,
  startTimeoutMs = 45_000,
): Promise<{ child: ChildProcess; url: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ATRIUM_DATA_DIR: dataDir,
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  delete env.AMQP_URL;
  delete env.JWT_SECRET;
  const child = spawn(
    process.execPath,
    [...START_NODE_FLAGS, '-r', './tools/register.js', 'apps/atrium/src/main.ts'],
    {
      cwd: ROOT,
      env,
    },
  );
  let output = '';
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`embedded Atrium did not start:\n${output}`)),
      startTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Atrium is running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        done(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => fail(new Error(`embedded Atrium exited with ${code}:\n${output}`)));
  });
  return { child, url };
}

/** Stops a process with SIGTERM (as Ctrl+C or an orchestrator would) and waits for it to exit. */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}
