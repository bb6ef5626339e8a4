import { BrokerQueueWatcher, messagingMetrics } from '@atrium/messaging';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { onRequestDone } from '../http/request-done';

const MAX_SERIES = 10_000;

/** Prometheus metrics of one gateway: process defaults and a request histogram by route. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests = new Histogram({
    name: 'atrium_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly decisions = new Counter({
    name: 'atrium_access_decisions_total',
    help: "Access decisions by where they were answered: this replica's cache or the permissions service",
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly invalidations = new Counter({
    name: 'atrium_access_decision_invalidations_total',
    help: "What dropped cached decisions: a change of access about one resource, one account's settings or one member's memberships, or one not targeted (all); the event stream or the permissions service unavailable, or the cache full (all)",
    labelNames: ['scope'],
    registers: [this.registry],
  });

  private readonly reads = new Counter({
    name: 'atrium_cached_reads_total',
    help: "Resources' views read (a storage by id, a page by ids) by where they were answered: this replica's cache (kept 20 ms) or the resources service",
    labelNames: ['source'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  private broker: BrokerQueueWatcher | undefined;

  /** Queue depths (RPC, events, dead letters) read from the broker on each scrape. */
  watchBroker(amqpUrl: string): void {
    this.broker ??= new BrokerQueueWatcher(amqpUrl, this.registry);
  }

  async close(): Promise<void> {
    await this.broker?.close();
  }

  /** Everything this process measures, in Prometheus's text format: its own and its messaging's. */
  text(): Promise<string> {
    return Registry.merge([this.registry, messagingMetrics]).metrics();
  }

  decisionServed(source: 'cache' | 'permissions-service'): void {
    this.decisions.inc({ source });
  }

  readServed(source: 'cache' | 'resources-service'): void {
    this.reads.inc({ source });
  }

  decisionsInvalidated(scope: 'resource' | 'account' | 'member' | 'all' | 'unavailable' | 'overflow'): void {
    this.invalidations.inc({ scope });
  }

  /** The histogram's series by method, route template and status (a bounded set). */
  private readonly series = new Map<string, { observe(seconds: number): void }>();

  instrument(fastify: FastifyInstance): void {
    onRequestDone(fastify, (request, reply, statusCode) => {
      const method = request.method;
      const route = request.routeOptions.url ?? 'unmatched';
      const status = String(statusCode);
      const key = `${method} ${route} ${status}`;
      let series = this.series.get(key);
      if (!series) {
        series = this.requests.labels({ method, route, status });
        if (this.series.size < MAX_SERIES) this.series.set(key, series);
      }
      series.observe(reply.elapsedTime / 1000);
    });
  }
}
