import { EventEnvelope, Events } from '@atrium/contracts';
import { assertExchanges, eventQueue, EVENTS_EXCHANGE } from '@atrium/messaging';
import {
  createTestDatabase,
  FaultProxy,
  resetBroker,
  startFaultProxy,
  TEST_ADMIN_DATABASE_URL,
  TEST_AMQP_URL,
  TEST_JWT_SECRET,
  TestDatabase,
  testSqlPool,
} from '@atrium/testing';
import * as amqplib from 'amqplib';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool } from 'pg';
import { sleep } from './faults-stack';

/**
 * Issue 8, item 1: an event consumer killed (SIGKILL) after it received a message and before it
 * acked it. The permissions service runs as its own process, its database link through a fault
 * proxy that adds latency so that the kill lands exactly where intended, found by watching the
 * SQL on the wire:
 *  A. mid-work: its transaction has inserted the effect but not committed;
 *  B. after the commit (PostgreSQL has answered COMMIT) but before the ack reached the broker.
 * After each kill the service is restarted; the broker redelivers the message; in both cases the
 * effect (an audit entry) and the processed-message record exist exactly once.
 */
const ROOT = join(__dirname, '..', '..', '..');
const LATENCY_MS = 150;

describe('faults: a consumer killed before it acks (item 1)', () => {
  let db: TestDatabase;
  let sql: Pool;
  let proxy: FaultProxy;
  let connection: amqplib.ChannelModel;
  let channel: amqplib.ConfirmChannel;
  let service: ChildProcess | undefined;
  const output: string[] = [];
  const startTimes: number[] = [];

  async function startService(): Promise<void> {
    const started = Date.now();
    output.length = 0;
    const child = spawn(
      process.execPath,
      ['-r', join(ROOT, 'tools/register.js'), join(ROOT, 'tools/start-service.ts'), 'permissions'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          DATABASE_URL: proxy.url(db.url),
          AMQP_URL: TEST_AMQP_URL,
          JWT_SECRET: TEST_JWT_SECRET,
          DB_POOL_SIZE: '3',
          LOG_LEVEL: 'log',
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    service = child;
    const ready = new Promise<void>((done, fail) => {
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          output.push(line);
          if (line.includes('permissions service is consuming')) done();
        });
      }
      child.once('exit', (code, signal) =>
        fail(new Error(`permissions exited (${code ?? signal}):\n${output.slice(-30).join('\n')}`)),
      );
    });
    await ready;
    startTimes.push(Date.now() - started);
  }

  function killed(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((done) => child.once('exit', () => done()));
  }

  const count = async (query: string, params: unknown[]) =>
    Number((await sql.query(query, params)).rows[0].count);
  const effects = (tokenId: string) =>
    count(
      `SELECT count(*) FROM permissions.audit_entry WHERE action = 'token.created' AND after->>'tokenId' = $1`,
      [tokenId],
    );
  const records = (messageId: string) =>
    count(
      `SELECT count(*) FROM permissions.processed_message WHERE consumer = 'permissions' AND message_id = $1`,
      [messageId],
    );
  async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<number> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
    return Date.now() - started;
  }
  const queued = async () => (await channel.checkQueue(eventQueue('permissions'))).messageCount;

  async function publish(tokenId: string): Promise<EventEnvelope> {
    const envelope: EventEnvelope = {
      id: randomUUID(),
      name: Events.apiTokenCreated.name,
      occurredAt: new Date().toISOString(),
      payload: { tokenId, userId: 'killtestuser00001', name: 'kill', expiresAt: null, scope: null },
    };
    channel.publish(EVENTS_EXCHANGE, envelope.name, Buffer.from(JSON.stringify(envelope)), {
      persistent: true,
      messageId: envelope.id,
      contentType: 'application/json',
    });
    await channel.waitForConfirms();
    return envelope;
  }

  /**
   * Kills the service the moment `moment` is seen on its database link: the chunk is held by the
   * proxy's latency, so the service has not acted on it (nor on anything after it) yet.
   */
  function killWhen(moment: (chunk: string, direction: string, link: number) => boolean): Promise<void> {
    const child = service!;
    return new Promise((done) => {
      const stop = proxy.tap((chunk, direction, link) => {
        if (!moment(chunk.toString('latin1'), direction, link)) return;
        child.kill('SIGKILL');
        stop();
        done();
      });
    });
  }
  const insertsEffect = (chunk: string) => chunk.includes('INSERT INTO') && chunk.includes('"audit_entry"');

  beforeAll(async () => {
    db = await createTestDatabase();
    sql = testSqlPool(db.url);
    await resetBroker(TEST_AMQP_URL);
    proxy = await startFaultProxy({ port: Number(new URL(TEST_ADMIN_DATABASE_URL).port || 5432) });
    connection = await amqplib.connect(TEST_AMQP_URL);
    channel = await connection.createConfirmChannel();
    await assertExchanges(channel);
    await startService();
    // The pipeline works: one event applied before anything is killed.
    const warmUp = await publish('warmup');
    await until('the warm-up event', async () => (await records(warmUp.id)) === 1);
  }, 90_000);

  afterAll(async () => {
    if (service && service.exitCode === null && service.signalCode === null) {
      service.kill('SIGTERM');
      const timer = setTimeout(() => service?.kill('SIGKILL'), 15_000);
      await killed(service);
      clearTimeout(timer);
    }
    await connection?.close();
    await proxy?.close();
    await sql?.end();
    await db?.drop();
  }, 60_000);

  it('applies the event once when the consumer dies mid-work, before its commit', async () => {
    proxy.latency(LATENCY_MS);
    const dead = killWhen((chunk, direction) => direction === 'upstream' && insertsEffect(chunk));
    const event = await publish('mid-work');
    await dead;
    await killed(service!);
    proxy.restore();
    // The transaction did not commit, and the broker took the unacked message back.
    const requeuedMs = await until('the message to be requeued', async () => (await queued()) === 1);
    expect(await effects('mid-work')).toBe(0);
    expect(await records(event.id)).toBe(0);

    await startService();
    const appliedMs = await until('the redelivered event', async () => (await records(event.id)) === 1);
    await sleep(500);
    expect(await effects('mid-work')).toBe(1);
    expect(await records(event.id)).toBe(1);
    expect(await queued()).toBe(0);
    console.log(
      `[faults:1] killed mid-work (effect inserted, not committed): requeued ${requeuedMs} ms after the kill; ` +
        `restarted in ${startTimes[startTimes.length - 1]} ms, then applied within ${appliedMs} ms: ` +
        `effects 1, processed-message records 1`,
    );
  }, 60_000);

  it('drops the redelivered event when the consumer dies after its commit and before its ack', async () => {
    proxy.latency(LATENCY_MS);
    let effectLink: number | undefined;
    const dead = killWhen((chunk, direction, link) => {
      if (direction === 'upstream' && insertsEffect(chunk)) effectLink = link;
      // PostgreSQL's CommandComplete for COMMIT on that connection: committed, not yet known to the service.
      return direction === 'downstream' && link === effectLink && chunk.includes('COMMIT\0');
    });
    const event = await publish('after-commit');
    await dead;
    await killed(service!);
    proxy.restore();
    const requeuedMs = await until('the message to be requeued', async () => (await queued()) === 1);
    // Committed: the effect and its processed-message record exist, but the broker has the message again.
    expect(await effects('after-commit')).toBe(1);
    expect(await records(event.id)).toBe(1);

    await startService();
    const consumedMs = await until(
      'the redelivered event to be consumed',
      async () => (await queued()) === 0,
    );
    await sleep(1000);
    expect(await effects('after-commit')).toBe(1);
    expect(await records(event.id)).toBe(1);
    expect(await effects('mid-work')).toBe(1);
    console.log(
      `[faults:1] killed after commit, before ack: requeued ${requeuedMs} ms after the kill; after restart ` +
        `(${startTimes[startTimes.length - 1]} ms) the copy was taken within ${consumedMs} ms and dropped: ` +
        `effects 1, processed-message records 1 (latency injected on the database link: ${LATENCY_MS} ms each way)`,
    );
  }, 60_000);
});
