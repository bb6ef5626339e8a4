import { Events } from '@atrium/contracts';
import { flushTracing, serveMetrics, startTracing, stopTracing } from '@atrium/messaging';
import { eventually, TEST_AMQP_URL, testSqlPool, uniqueName } from '@atrium/testing';
import * as amqplib from 'amqplib';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  signUp,
  SignedUpUser,
  startTestStack,
  TEST_DISTRIBUTED,
  TEST_EMBEDDED,
  TestStack,
} from './test-stack';

/** One span as OTLP/HTTP JSON carries it (the fields read here). */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
  service: string;
}
const KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** A collector in the test: takes OTLP/HTTP JSON exports on `/v1/traces` and keeps their spans. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ExportedSpan[]; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: {
            resource: { attributes: ExportedSpan['attributes'] };
            scopeSpans: { spans: Omit<ExportedSpan, 'service'>[] }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const service =
            rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

const attribute = (span: ExportedSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
};

// Services in this process (RabbitMQ or in memory): the spans of every hop reach this receiver.
const describeInProcess = TEST_DISTRIBUTED ? describe.skip : describe;

describeInProcess('tracing and metrics (issue 17, item 6)', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  /** What this process writes to stdout (the gateway and the services), as JSON lines. */
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    expect(
      startTracing('test', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' }),
    ).toBe(true);
    t = await startTestStack({ LOG_FORMAT: 'json', LOG_LEVEL: 'log' });
    alice = await signUp(t, uniqueName('alice'));
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      written.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stdout.write;
  });
  afterAll(async () => {
    process.stdout.write = write;
    await t?.close();
    await stopTracing();
    await receiver?.close();
  });

  it('one write request is one trace: gateway, RPC client and server, queries, the event and its consumer', async () => {
    const res = await t
      .http()
      .post(`/v2/datasets?name=${uniqueName('ds')}`)
      .set(alice.auth)
      .expect(201);
    const datasetId = res.body.data.id as string;

    // The HTTP span of this request (the root of its trace).
    const root = await eventually(async () => {
      await flushTracing();
      const found = receiver.spans.find(
        (s) =>
          s.kind === KIND.SERVER &&
          s.name === 'POST /v2/datasets' &&
          attribute(s, 'http.response.status_code') == 201,
      );
      if (!found) throw new Error('no HTTP span yet');
      return found;
    });
    expect(root.parentSpanId ?? '').toBe('');

    // The permissions service's consumer of the creation, with its queries, arrives a moment later.
    const inTrace = () => receiver.spans.filter((s) => s.traceId === root.traceId);
    const byId = () => new Map(inTrace().map((s) => [s.spanId, s]));
    const childrenOf = (span: ExportedSpan) => inTrace().filter((s) => s.parentSpanId === span.spanId);
    const consumer = await eventually(async () => {
      await flushTracing();
      const found = inTrace().find(
        (s) =>
          s.kind === KIND.CONSUMER &&
          s.name === `consume ${Events.resourceCreated.name}` &&
          childrenOf(s).some((q) => /"permissions"\./.test(String(attribute(q, 'db.query.text')))),
      );
      if (!found) throw new Error('no permissions consumer span yet');
      return found;
    });

    // Every span of the trace hangs from the HTTP span: one trace, no orphan. A span still open
    // (another service's consumer of the event, say) is exported after its children: the check is
    // repeated until every parent has arrived, and fails if one never does.
    const spans = await eventually(async () => {
      await flushTracing();
      const all = byId();
      for (const span of all.values()) {
        let at = span;
        while (at.parentSpanId) {
          const parent = all.get(at.parentSpanId);
          if (!parent) throw new Error(`span "${at.name}" hangs from ${at.parentSpanId}, not in the trace`);
          at = parent;
        }
        expect(at.spanId).toBe(root.spanId);
      }
      return all;
    });

    // gateway → RPC client (the creation in resources) → RPC server → its queries and the outbox row.
    const client = inTrace().find(
      (s) => s.kind === KIND.CLIENT && attribute(s, 'rpc.service') === 'resources' && /create/i.test(s.name),
    );
    expect(client).toBeDefined();
    expect(spans.get(client!.parentSpanId!)?.spanId).toBe(root.spanId);
    const server = childrenOf(client!).find((s) => s.kind === KIND.SERVER);
    expect(server?.name).toBe(client!.name.replace(/^send/, 'handle'));
    const serverQueries = childrenOf(server!).filter(
      (s) => s.kind === KIND.CLIENT && attribute(s, 'db.query.text'),
    );
    expect(serverQueries.map((q) => String(attribute(q, 'db.query.text')))).toEqual(
      expect.arrayContaining([expect.stringMatching(/INSERT INTO "resources"\."outbox_message"/)]),
    );

    // The event: published (producer, from the outbox row written under the server span) and consumed.
    const producer = spans.get(consumer.parentSpanId!);
    expect(producer).toMatchObject({ kind: KIND.PRODUCER, name: `publish ${Events.resourceCreated.name}` });
    expect(producer!.parentSpanId).toBe(server!.spanId);
    expect(
      childrenOf(consumer).some((q) => /INSERT|UPDATE/.test(String(attribute(q, 'db.operation.name')))),
    ).toBe(true);
    expect(datasetId).toBeTruthy();

    // Polling outside requests (the gateway's health checks, sweepers) and probes make no traces.
    await t.http().get('/health/ready');
    await flushTracing();
    expect(receiver.spans.filter((s) => /health/.test(s.name)).map((s) => s.name)).toEqual([]);

    // Its log line carries the request id and the trace id.
    const logged = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.requestId === res.headers['x-request-id']);
    expect(logged).toContainEqual(
      expect.objectContaining({ event: 'http.request', route: '/v2/datasets', traceId: root.traceId }),
    );
  });

  it('serves RPC latencies, outbox lag, decisions and (on RabbitMQ) queue depths and dead letters on /metrics', async () => {
    // An authorized read, twice: a decision asked of the permissions service, then (usually) cached.
    const datasetId = (
      await t
        .http()
        .post(`/v2/datasets?name=${uniqueName('ds')}`)
        .set(alice.auth)
        .expect(201)
    ).body.data.id as string;
    for (let i = 0; i < 2; i++) await t.http().get(`/v2/datasets/${datasetId}`).set(alice.auth).expect(200);
    if (!TEST_EMBEDDED) {
      // A poison event: the permissions consumer dead-letters it at once.
      const connection = await amqplib.connect(TEST_AMQP_URL);
      const channel = await connection.createConfirmChannel();
      channel.publish(
        'atrium.events',
        Events.resourceCreated.name,
        Buffer.from(JSON.stringify({ id: 'not-a-uuid', name: Events.resourceCreated.name, payload: {} })),
        { persistent: true },
      );
      await channel.waitForConfirms();
      await connection.close();
    }
    // An event its relay claimed and never published (a relay that died mid-batch: the claim
    // holds for an hour here): 30 s old, so the resources outbox lags.
    const sql = testSqlPool(t.db.url);
    await sql.query(
      `INSERT INTO resources.outbox_message (id, name, payload, occurred_at, claimed_until)
       VALUES (gen_random_uuid(), 'resource.created', '{}', now() - interval '30 seconds', now() + interval '1 hour')`,
    );
    await sql.end();
    const sample = (text: string, series: string) => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(series + ' ') || (l.startsWith(series + '{') && l.includes(series)));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const text = await eventually(async () => {
      const body = (await t.http().get('/metrics').expect(200)).text;
      if (
        !TEST_EMBEDDED &&
        !(
          Number(sample(body, 'atrium_queue_messages{queue="permissions.events.dlq",kind="dead-letter"}')) >=
          1
        )
      )
        throw new Error('the poison event is not in the dead-letter queue yet');
      return body;
    });
    for (const side of ['client', 'server']) {
      const count = text
        .split('\n')
        .find((l) => l.startsWith('atrium_rpc_duration_seconds_count{') && l.includes(`side="${side}"`));
      expect(Number(count?.split(' ').pop())).toBeGreaterThan(0);
    }
    expect(sample(text, 'atrium_outbox_lag_seconds{service="resources"}')).toBeGreaterThanOrEqual(30);
    expect(sample(text, 'atrium_outbox_pending_events{service="resources"}')).toBeGreaterThanOrEqual(1);
    for (const service of ['identity', 'resources', 'permissions']) {
      expect(sample(text, `atrium_outbox_lag_seconds{service="${service}"}`)).toBeGreaterThanOrEqual(0);
      expect(sample(text, `atrium_outbox_pending_events{service="${service}"}`)).toBeGreaterThanOrEqual(0);
    }
    const decisions = ['cache', 'permissions-service'].map(
      (source) => sample(text, `atrium_access_decisions_total{source="${source}"}`) ?? 0,
    );
    expect(decisions[0] + decisions[1]).toBeGreaterThanOrEqual(2);
    // A service process serves the same messaging series (with the process's own) on METRICS_PORT.
    const server = await serveMetrics(0);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const served = await fetch(`${url}/metrics`);
      expect(served.status).toBe(200);
      const body = await served.text();
      expect(body).toMatch(
        /^atrium_rpc_duration_seconds_count\{side="server",pattern="[\w.-]+",outcome="ok"\} [1-9]/m,
      );
      expect(body).toMatch(/^atrium_outbox_lag_seconds\{service="permissions"\} [\d.]+$/m);
      expect(body).toMatch(/^process_cpu_seconds_total /m);
      expect((await fetch(`${url}/other`)).status).toBe(404);
    } finally {
      await new Promise((closed) => server.close(closed));
    }
    if (!TEST_EMBEDDED) {
      expect(sample(text, 'atrium_queue_messages{queue="resources.rpc",kind="rpc"}')).toBeGreaterThanOrEqual(
        0,
      );
      expect(sample(text, 'atrium_queue_consumers{queue="resources.rpc",kind="rpc"}')).toBeGreaterThan(0);
      expect(
        sample(text, 'atrium_queue_messages{queue="permissions.events",kind="events"}'),
      ).toBeGreaterThanOrEqual(0);
    }
  });
});
