import { SERVICES } from '@atrium/contracts';
import * as amqplib from 'amqplib';
import { createServer, Server } from 'node:http';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { amqpConnectionOptions, deadLetterQueue, eventQueue, rpcQueue } from './topology';

/**
 * The messaging metrics of one process (Prometheus): RPC latencies by pattern on both sides,
 * the outbox of each service running here, and, where a process watches the broker, queue
 * depths and dead letters. The gateway serves them with its own on `/metrics`; a service
 * process serves them on `METRICS_PORT`.
 */
export const messagingMetrics = new Registry();

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const rpcDuration = new Histogram({
  name: 'atrium_rpc_duration_seconds',
  help: 'RPC duration by side (client: the caller waiting, server: the handler), pattern and outcome',
  labelNames: ['side', 'pattern', 'outcome'],
  buckets: LATENCY_BUCKETS,
  registers: [messagingMetrics],
});

/** Patterns are a closed set (the contracts); a bound keeps a bad caller from growing it. */
const MAX_PATTERNS = 1000;
const patterns = new Set<string>();

export function observeRpc(side: 'client' | 'server', pattern: string, ok: boolean, seconds: number): void {
  if (!patterns.has(pattern)) {
    if (patterns.size >= MAX_PATTERNS) pattern = 'other';
    else patterns.add(pattern);
  }
  rpcDuration.observe({ side, pattern, outcome: ok ? 'ok' : 'error' }, seconds);
}

/** The outboxes read on each scrape: one per service running in this process. */
const outboxes = new Map<string, DataSource>();

export function watchOutbox(service: string, dataSource: DataSource): void {
  outboxes.set(service, dataSource);
}

export function unwatchOutbox(service: string, dataSource: DataSource): void {
  if (outboxes.get(service) === dataSource) outboxes.delete(service);
}

async function readOutboxes(): Promise<{ service: string; pending: number; lagSeconds: number }[]> {
  const read = [...outboxes].map(async ([service, dataSource]) => {
    if (!dataSource.isInitialized) return undefined;
    const schema = (dataSource.options as { schema?: string }).schema ?? service;
    const [row] = (await dataSource.query(
      `SELECT count(*)::int AS pending,
              coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float AS lag
         FROM "${schema}"."outbox_message" WHERE published_at IS NULL`,
    )) as { pending: number; lag: number }[];
    return { service, pending: Number(row?.pending ?? 0), lagSeconds: Math.max(0, Number(row?.lag ?? 0)) };
  });
  const settled = await Promise.allSettled(read);
  return settled.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
}

// One read of the outboxes serves both gauges of a scrape.
let outboxRead: ReturnType<typeof readOutboxes> | undefined;
const readOutboxesOnce = () => (outboxRead ??= readOutboxes().finally(() => (outboxRead = undefined)));

new Gauge({
  name: 'atrium_outbox_pending_events',
  help: 'Events written to the outbox and not yet published, by service',
  labelNames: ['service'],
  registers: [messagingMetrics],
  async collect() {
    this.reset();
    for (const o of await readOutboxesOnce()) this.set({ service: o.service }, o.pending);
  },
});

new Gauge({
  name: 'atrium_outbox_lag_seconds',
  help: 'Age of the oldest unpublished outbox event, by service (0 when none is waiting)',
  labelNames: ['service'],
  registers: [messagingMetrics],
  async collect() {
    this.reset();
    for (const o of await readOutboxesOnce()) this.set({ service: o.service }, o.lagSeconds);
  },
});

/** Every queue of the topology: RPC and event queues and their dead-letter queues. */
export function topologyQueues(): string[] {
  const queues = SERVICES.flatMap((s) => [rpcQueue(s), eventQueue(s)]);
  return [...queues, ...queues.map(deadLetterQueue)];
}

/**
 * Reads queue depths from the broker with a passive declare per queue (a queue that does not
 * exist — a service without events — is left out). Kept by one process, the gateway.
 */
export class BrokerQueueWatcher {
  private readonly depth: Gauge<'queue' | 'kind'>;
  private readonly consumers: Gauge<'queue' | 'kind'>;
  private connection: amqplib.ChannelModel | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    registry: Registry,
    private readonly queues: readonly string[] = topologyQueues(),
  ) {
    // One read of the broker serves both gauges of a scrape.
    const collect = () => (this.reading ??= this.read().finally(() => (this.reading = undefined)));
    this.depth = new Gauge({
      name: 'atrium_queue_messages',
      help: 'Messages ready in a queue (RPC, events, dead letters), read from the broker on scrape',
      labelNames: ['queue', 'kind'],
      registers: [registry],
      collect,
    });
    this.consumers = new Gauge({
      name: 'atrium_queue_consumers',
      help: 'Consumers of a queue, read from the broker on scrape',
      labelNames: ['queue', 'kind'],
      registers: [registry],
      collect,
    });
  }

  private async read(): Promise<void> {
    this.depth.reset();
    this.consumers.reset();
    try {
      if (!this.connection) {
        const connection = await amqplib.connect(this.url, amqpConnectionOptions);
        connection.on('error', () => undefined);
        connection.on('close', () => {
          if (this.connection === connection) this.connection = undefined;
        });
        this.connection = connection;
      }
    } catch {
      this.connection = undefined;
      return;
    }
    const connection = this.connection;
    for (const queue of this.queues) {
      const kind = queue.endsWith('.dlq') ? 'dead-letter' : queue.endsWith('.rpc') ? 'rpc' : 'events';
      let channel: amqplib.Channel | undefined;
      try {
        // A passive declare of a missing queue closes its channel: one channel per queue.
        channel = await connection.createChannel();
        channel.on('error', () => undefined);
        const { messageCount, consumerCount } = await channel.checkQueue(queue);
        this.depth.set({ queue, kind }, messageCount);
        this.consumers.set({ queue, kind }, consumerCount);
        await channel.close();
      } catch {
        /* no such queue (yet) */
      }
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close().catch(() => undefined);
  }
}

/**
 * A service process's `/metrics` (its messaging metrics and the process defaults) on `port`.
 * Resolves with the server once it listens.
 */
export async function serveMetrics(port: number): Promise<Server> {
  const registry = Registry.merge([messagingMetrics, processMetrics()]);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((listening) => server.listen(port, listening));
  return server;
}

function processMetrics(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
