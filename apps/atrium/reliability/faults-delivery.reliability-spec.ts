import { AppError, EventEnvelope, Events, RpcRoute } from '@atrium/contracts';
import {
  addToOutbox,
  assertExchanges,
  deadLetterQueue,
  EVENT_BUS,
  EventBus,
  eventQueue,
  EVENTS_EXCHANGE,
  IDEMPOTENCY_KEY_HEADER,
  MAX_EVENT_RETRIES,
  OutboxRelay,
  RmqRpcTransport,
  rpcQueue,
  RpcClient,
  ServiceOutboxRelay,
  withIdempotency,
} from '@atrium/messaging';
import { FaultProxy, startFaultProxy, TEST_AMQP_URL, uniqueName } from '@atrium/testing';
import * as amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { FaultStack, sleep, startFaultStack } from './faults-stack';

/**
 * Issue 8, items 3 to 7: what the messaging layer guarantees when the broker is unreachable, a
 * transaction rolls back, a relay dies between publishing and marking, a message arrives twice,
 * a message can never be processed, and an RPC has nobody to answer it.
 * The resources service's event bus (and RPC client) reaches RabbitMQ through a fault proxy; its
 * RPC server, and every other app, connect directly. A spy on the events exchange sees what is
 * published; the test database shows what each service applied.
 */
const RPC_TIMEOUT_MS = 3000;

interface Spied {
  id: string;
  name: string;
  payload: any;
  at: number;
}

describe('faults: delivery guarantees (items 3 to 7)', () => {
  let proxy: FaultProxy;
  let t: FaultStack;
  let connection: amqplib.ChannelModel;
  let channel: amqplib.ConfirmChannel;
  const spied: Spied[] = [];
  let alice: { id: string; username: string; token: string };

  const seen = (id: string) => spied.filter((s) => s.id === id);
  async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }
  const one = async (sql: string, params: unknown[] = []) => (await t.sql.query(sql, params)).rows[0];
  const count = async (sql: string, params: unknown[] = []) => Number((await one(sql, params)).count);
  const applied = (messageId: string) =>
    count(
      `SELECT count(*) FROM permissions.processed_message WHERE consumer = 'permissions' AND message_id = $1`,
      [messageId],
    );
  const tokenAudits = (tokenId: string) =>
    count(
      `SELECT count(*) FROM permissions.audit_entry WHERE action = 'token.created' AND after->>'tokenId' = $1`,
      [tokenId],
    );

  /** Publishes straight to the events exchange, as a service's relay does. */
  async function publishRaw(routingKey: string, body: Buffer | EventEnvelope, messageId?: string) {
    const content = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    channel.publish(EVENTS_EXCHANGE, routingKey, content, {
      persistent: true,
      messageId: messageId ?? (Buffer.isBuffer(body) ? undefined : body.id),
      contentType: 'application/json',
    });
    await channel.waitForConfirms();
  }

  const tokenCreated = (tokenId: string, userId = alice.id): EventEnvelope => ({
    id: randomUUID(),
    name: Events.apiTokenCreated.name,
    occurredAt: new Date().toISOString(),
    payload: { tokenId, userId, name: 'spied', expiresAt: null, scope: null },
  });

  beforeAll(async () => {
    proxy = await startFaultProxy({ port: Number(new URL(TEST_AMQP_URL).port || 5672) });
    t = await startFaultStack({
      amqp: { resources: proxy.url(TEST_AMQP_URL) },
      rpcServerAmqp: { resources: TEST_AMQP_URL },
      serviceEnv: { RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS) },
      gatewayEnv: { RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS) },
    });
    connection = await amqplib.connect(TEST_AMQP_URL);
    channel = await connection.createConfirmChannel();
    await assertExchanges(channel);
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    for (const event of Object.values(Events)) await channel.bindQueue(queue, EVENTS_EXCHANGE, event.name);
    await channel.consume(
      queue,
      (msg) => {
        if (!msg) return;
        try {
          const envelope = JSON.parse(msg.content.toString()) as EventEnvelope;
          spied.push({ id: envelope.id, name: envelope.name, payload: envelope.payload, at: Date.now() });
        } catch {
          /* the poison test's unparseable message */
        }
      },
      { noAck: true },
    );
    await t.waitReady(30_000);
    alice = await t.signUp('alice');
  }, 90_000);

  afterAll(async () => {
    await connection?.close();
    await t?.close();
    await proxy?.close();
  }, 60_000);

  describe('3. the broker unreachable during a write', () => {
    const scenarios = [
      ['partitioned (blackhole)', () => proxy.blackhole()],
      ['down (connections cut and refused)', () => (proxy.refuse(), proxy.reset())],
    ] as const;
    it.each(scenarios)(
      'while the broker is %s, a write commits and its event is published once it is back',
      async (fault, inject) => {
        const FAULT_MS = 4000;
        inject();
        const faultAt = Date.now();
        const created = await t.api('POST', `/v2/datasets?name=${uniqueName('outbox')}`, alice.token);
        // The write does not wait for the broker: it committed, with its event in the outbox.
        expect(created.status).toBe(201);
        const datasetId: string = created.body.data.id;
        const outboxRow = () =>
          one(
            `SELECT id, published_at FROM resources.outbox_message
             WHERE name = 'resource.created' AND payload->>'id' = $1`,
            [datasetId],
          );
        const row = await outboxRow();
        expect(row).toBeDefined();
        await sleep(FAULT_MS - (Date.now() - faultAt));
        // Still pending: nothing reached the exchange while the broker was unreachable.
        expect((await outboxRow()).published_at).toBeNull();
        expect(seen(row.id)).toEqual([]);
        const pendingMs = Date.now() - faultAt;

        proxy.restore();
        const backAt = Date.now();
        await until(
          'the event to be published',
          async () => (seen(row.id).length ? true : undefined),
          20_000,
        );
        const publishedMs = Date.now() - backAt;
        await until(
          'the outbox row to be marked',
          async () => (await outboxRow()).published_at ?? undefined,
          20_000,
        );
        await until(
          'the permissions service to apply it',
          async () => ((await applied(row.id)) === 1 ? true : undefined),
          10_000,
        );
        // Anyone with the id can use the dataset (the permissions service has it from the event).
        expect((await t.api('GET', `/v2/datasets/${datasetId}`, alice.token)).status).toBe(200);
        console.log(
          `[faults:3] broker ${fault}: write answered ${created.status} in ${created.ms} ms; outbox row pending for ` +
            `${pendingMs} ms; published ${publishedMs} ms after the broker was back; copies on the exchange: ` +
            `${seen(row.id).length}; applied by permissions: ${await applied(row.id)}`,
        );
      },
      40_000,
    );
  });

  describe('4. rolled-back transactions and a relay that dies after publishing', () => {
    it('publishes nothing from a transaction that rolled back', async () => {
      const resources = t.services.get('resources')!;
      const dataSource = resources.get(DataSource);
      const relay = resources.get(ServiceOutboxRelay);
      const facts = (id: string) => ({
        id,
        type: 'DATASET' as const,
        ownerId: alice.id,
        name: null,
        generalAccess: 'FOLLOW_USER_SETTING' as const,
        isPublic: false,
        actorId: null,
        taskId: null,
        runId: null,
        groupId: null,
        version: 1,
      });
      const rolledBack = Array.from({ length: 10 }, () => uniqueName('rb').replace('-', '').slice(0, 17));
      for (const id of rolledBack) {
        await expect(
          dataSource.transaction(async (manager) => {
            await addToOutbox(manager, Events.resourceUpdated, facts(id));
            throw new Error('the change failed after its event was written');
          }),
        ).rejects.toThrow('the change failed');
      }
      // A committed one, published the same way, shows the spy would have seen the others.
      const committed = uniqueName('ok').replace('-', '').slice(0, 17);
      await dataSource.transaction((manager) =>
        addToOutbox(manager, Events.resourceUpdated, facts(committed)),
      );
      await relay.flush();
      await until(
        'the committed event',
        async () => (spied.some((s) => s.payload?.id === committed) ? true : undefined),
        10_000,
      );
      await sleep(500);
      const leaked = spied.filter((s) => rolledBack.includes(s.payload?.id));
      const rows = await count(
        `SELECT count(*) FROM resources.outbox_message WHERE payload->>'id' = ANY($1)`,
        [rolledBack],
      );
      console.log(
        `[faults:4] ${rolledBack.length} rolled-back transactions: ${rows} outbox rows, ${leaked.length} events ` +
          `published (the committed control: ${spied.filter((s) => s.payload?.id === committed).length})`,
      );
      expect(rows).toBe(0);
      expect(leaked).toEqual([]);
    });

    it('drops the duplicate a relay publishes after another died between publishing and marking', async () => {
      const identity = t.services.get('identity')!;
      const dataSource = identity.get(DataSource);
      const bus = identity.get<EventBus>(EVENT_BUS);
      const pendingRows = () =>
        count(`SELECT count(*) FROM identity.outbox_message WHERE published_at IS NULL`);
      await until(
        'identity to publish its sign-up events',
        async () => ((await pendingRows()) === 0 ? true : undefined),
        10_000,
      );

      // The service's relay "dies" right after the broker confirmed the event: it never marks it.
      const realPublish = bus.publish.bind(bus);
      let resurrect!: () => void;
      const dead = new Promise<void>((r) => (resurrect = r));
      let diedAfter: string | undefined;
      bus.publish = async (envelope) => {
        await realPublish(envelope);
        if (envelope.name === Events.apiTokenCreated.name && !diedAfter) {
          diedAfter = envelope.id;
          await dead;
        }
      };
      try {
        const token = await t.api('POST', '/v2/users/me/tokens', alice.token, { name: 'relay-crash' });
        expect(token.status).toBe(201);
        const tokenId: string = token.body.data.id;
        const messageId = await until('the first publication', async () => diedAfter, 10_000);
        await until(
          'the permissions service to apply it',
          async () => ((await applied(messageId)) === 1 ? true : undefined),
          10_000,
        );
        const row = await one(
          `SELECT published_at, claimed_until > now() AS claimed FROM identity.outbox_message WHERE id = $1`,
          [messageId],
        );
        expect(row).toEqual({ published_at: null, claimed: true });

        // Its lease runs out (made to, rather than waited for), and another replica's relay takes over.
        await t.sql.query(
          `UPDATE identity.outbox_message SET claimed_until = now() - interval '1 second' WHERE id = $1`,
          [messageId],
        );
        const successor = new OutboxRelay(dataSource, { ...bus, publish: realPublish } as EventBus);
        await successor.flush();
        await until('the second copy', async () => (seen(messageId).length === 2 ? true : undefined), 10_000);
        expect(
          (await one(`SELECT published_at FROM identity.outbox_message WHERE id = $1`, [messageId]))
            .published_at,
        ).not.toBeNull();
        await sleep(500);
        // Two copies went out; the consumer applied one: one audit entry, one processed-message record.
        expect(seen(messageId)).toHaveLength(2);
        expect(await tokenAudits(tokenId)).toBe(1);
        expect(await applied(messageId)).toBe(1);
        console.log(
          `[faults:4] relay died after publishing: copies published ${seen(messageId).length}, ` +
            `audit entries ${await tokenAudits(tokenId)}, processed-message records ${await applied(messageId)}`,
        );
      } finally {
        bus.publish = realPublish;
        resurrect();
      }
    });
  });

  describe('5. the same message delivered twice', () => {
    it('has one effect, whether the copies arrive one after another or together', async () => {
      const EVENTS = 20;
      const COPIES = 3;
      const tokens = Array.from({ length: EVENTS }, (_, i) =>
        `dup${i}${Date.now().toString(36)}`.slice(0, 17),
      );
      const envelopes = tokens.map((tokenId) => tokenCreated(tokenId));
      // Copies back to back (the consumer's prefetch lets them run concurrently)…
      for (const envelope of envelopes.slice(0, EVENTS / 2))
        for (let c = 0; c < COPIES; c++) await publishRaw(envelope.name, envelope);
      // …and copies one after another, the second once the first has been applied.
      for (const envelope of envelopes.slice(EVENTS / 2)) {
        await publishRaw(envelope.name, envelope);
        await until(
          'the first copy to be applied',
          async () => ((await applied(envelope.id)) ? true : undefined),
          10_000,
        );
        for (let c = 1; c < COPIES; c++) await publishRaw(envelope.name, envelope);
      }
      await until(
        'every copy to be consumed',
        async () => {
          const { messageCount } = await channel.checkQueue(eventQueue('permissions'));
          return messageCount === 0 ? true : undefined;
        },
        10_000,
      );
      await sleep(500);
      const effects = await Promise.all(tokens.map(tokenAudits));
      const records = await Promise.all(envelopes.map((e) => applied(e.id)));
      console.log(
        `[faults:5] ${EVENTS} events delivered ${COPIES} times each (${EVENTS * COPIES} deliveries): ` +
          `${effects.reduce((a, b) => a + b, 0)} audit entries, ${records.reduce((a, b) => a + b, 0)} processed-message records`,
      );
      expect(effects).toEqual(tokens.map(() => 1));
      expect(records).toEqual(tokens.map(() => 1));
    });
  });

  describe('6. a poison message', () => {
    it('goes to the dead-letter queue after bounded retries while other messages keep flowing', async () => {
      const dlq = deadLetterQueue(eventQueue('permissions'));
      await channel.purgeQueue(dlq);
      // Fails every time it is applied: the user id does not fit the audit log's column.
      const failing = tokenCreated(uniqueName('poison'), 'x'.repeat(18));
      // Can never be applied: the payload does not match the event's schema.
      const invalid = { ...tokenCreated('invalid'), payload: { tokenId: 42 } };
      const unparseableId = randomUUID();
      const startedAt = Date.now();
      await publishRaw(failing.name, failing);
      await publishRaw(invalid.name, invalid);
      await publishRaw(Events.apiTokenCreated.name, Buffer.from('{ not json'), unparseableId);

      // While the failing one is retried (with backoff), other events are applied.
      const good = Array.from({ length: 20 }, (_, i) =>
        tokenCreated(`good${i}${Date.now().toString(36)}`.slice(0, 17)),
      );
      for (const envelope of good) await publishRaw(envelope.name, envelope);
      await until(
        'the good events',
        async () => {
          const done = await Promise.all(good.map((e) => applied(e.id)));
          return done.every((d) => d === 1) ? true : undefined;
        },
        10_000,
      );
      const goodMs = Date.now() - startedAt;

      const dead: amqplib.GetMessage[] = [];
      await until(
        'three dead letters',
        async () => {
          const msg = await channel.get(dlq, { noAck: true });
          if (msg) dead.push(msg);
          return dead.length === 3 ? true : undefined;
        },
        20_000,
      );
      const deadMs = Date.now() - startedAt;
      const byId = new Map(dead.map((m) => [m.properties.messageId as string, m]));
      const retriesOf = (id: string) => Number(byId.get(id)?.properties.headers?.['x-retries'] ?? 0);
      console.log(
        `[faults:6] 3 poison messages (handler always failing, invalid payload, unparseable) and ` +
          `${good.length} good ones: good applied ${goodMs} ms after the first poison; all 3 dead-lettered ` +
          `after ${deadMs} ms, with ${retriesOf(failing.id)}, ${retriesOf(invalid.id)} and ${retriesOf(unparseableId)} retries`,
      );
      expect([...byId.keys()].sort()).toEqual([failing.id, invalid.id, unparseableId].sort());
      expect(retriesOf(failing.id)).toBe(MAX_EVENT_RETRIES);
      expect(retriesOf(invalid.id)).toBe(0);
      expect(byId.get(failing.id)!.properties.headers?.['x-death']?.[0]).toMatchObject({
        reason: 'rejected',
        queue: eventQueue('permissions'),
      });
      // The good ones did not wait for the poison's retries to end.
      expect(goodMs).toBeLessThan(deadMs);
      expect(await applied(failing.id)).toBe(0);
      const { messageCount } = await channel.checkQueue(eventQueue('permissions'));
      expect(messageCount).toBe(0);
      await sleep(1000);
      expect((await channel.checkQueue(dlq)).messageCount).toBe(0);
    });
  });

  describe('7. an RPC nobody answers', () => {
    let rpc: RpcClient;
    beforeAll(() => {
      rpc = new RpcClient(new RmqRpcTransport(TEST_AMQP_URL), RPC_TIMEOUT_MS);
    });
    afterAll(() => rpc?.close());

    const nobody: RpcRoute = {
      service: 'permissions',
      pattern: 'permissions.no-such-pattern',
      request: z.object({}),
    };

    it('fails fast with a clear error for a pattern nobody handles', async () => {
      const started = Date.now();
      const err = await rpc.call(nobody, {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      const ms = Date.now() - started;
      console.log(`[faults:7] unhandled pattern: failed in ${ms} ms: ${(err as Error).message}`);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).type).toBe('service-unavailable');
      expect((err as AppError).message).toMatch(/no matching message handler/i);
      expect(ms).toBeLessThan(1000);
    });

    it('answers 503 within its timeout, never allows, and never applies a request after answering 503', async () => {
      const dataset = await t.api('POST', `/v2/datasets?name=${uniqueName('down')}`, alice.token);
      expect(dataset.status).toBe(201);
      const id: string = dataset.body.data.id;
      expect((await t.api('POST', `/v2/datasets/${id}/items`, alice.token, { n: 1 })).status).toBe(201);
      const bound = RPC_TIMEOUT_MS + 1000;
      const report: string[] = [];

      // The permissions service is down: no decision can be made, so nothing is allowed.
      await t.stopService('permissions');
      const direct = Date.now();
      const directErr = await rpc.call(nobody, {}, 1000).catch((e: Error) => e);
      report.push(`a direct RPC failed in ${Date.now() - direct} ms (${(directErr as Error).message})`);
      expect((directErr as AppError).type).toBe('service-unavailable');
      const whilePermissionsDown = [
        await t.api('GET', `/v2/datasets/${id}`, alice.token),
        await t.api('GET', `/v2/datasets/${id}/items`, alice.token),
        await t.api('POST', `/v2/datasets/${id}/items`, alice.token, { n: 2 }),
        await t.api('GET', '/health/ready'),
      ];
      report.push(
        `permissions down: ${whilePermissionsDown.map((a) => `${a.status} in ${a.ms} ms`).join(', ')}`,
      );
      for (const answer of whilePermissionsDown) {
        expect(answer.status).toBe(503);
        expect(answer.ms).toBeLessThan(bound);
      }
      expect(whilePermissionsDown[0].body.error).toMatchObject({ type: 'service-unavailable' });
      expect(whilePermissionsDown[0].body.error.message).toMatch(/permissions/);
      expect(whilePermissionsDown[3].body.services).toMatchObject({ permissions: 'down' });

      // The resources service is down: the write is refused with 503, and the request, which
      // expires in the queue with the caller's deadline, is not applied when the service returns.
      await Promise.all([t.startService('permissions'), t.stopService('resources')]);
      const whileResourcesDown = await t.api('POST', `/v2/datasets/${id}/items`, alice.token, { n: 3 });
      report.push(
        `resources down: a write answered ${whileResourcesDown.status} in ${whileResourcesDown.ms} ms`,
      );
      expect(whileResourcesDown.status).toBe(503);
      expect(whileResourcesDown.ms).toBeLessThan(bound);
      expect(whileResourcesDown.body.error.message).toMatch(/resources/);
      await t.startService('resources');
      await t.waitReady(10_000);
      await sleep(1000);
      const items = await t.api('GET', `/v2/datasets/${id}/items`, alice.token);
      expect(items.status).toBe(200);
      expect(items.body.map((i: { n: number }) => i.n)).toEqual([1]);
      console.log(
        `[faults:7] ${report.join('; ')}; items after both came back: [${items.body.map((i: { n: number }) => i.n)}]`,
      );
    }, 60_000);

    it('queues a write (a keyed call) as a persistent message, and a read as a transient one', async () => {
      // With the service down the requests wait in its queue, where the test takes them.
      await t.stopService('permissions');
      try {
        const marker = randomUUID();
        const read = rpc.call(nobody, { marker }, 2000).catch(() => undefined);
        const write = withIdempotency(`faults-7-${marker}`, undefined, () =>
          rpc.call(nobody, { marker }, 2000),
        ).catch(() => undefined);
        const modes = new Map<'read' | 'write', number | undefined>();
        await until(
          'both requests queued',
          async () => {
            const message = await channel.get(rpcQueue('permissions'), { noAck: true });
            if (message && message.content.toString().includes(marker)) {
              const keyed = !!message.properties.headers?.[IDEMPOTENCY_KEY_HEADER];
              modes.set(keyed ? 'write' : 'read', message.properties.deliveryMode as number | undefined);
            }
            return modes.size === 2 ? true : undefined;
          },
          5000,
        );
        await Promise.all([read, write]);
        console.log(`[faults:7] delivery modes: write ${modes.get('write')}, read ${modes.get('read')}`);
        expect(modes.get('write')).toBe(2); // persistent
        expect(modes.get('read')).not.toBe(2);
      } finally {
        await t.startService('permissions');
        await t.waitReady(10_000);
      }
    }, 60_000);
  });
});
