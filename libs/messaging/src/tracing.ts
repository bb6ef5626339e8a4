import {
  Attributes,
  context,
  Context,
  diag,
  DiagLogLevel,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { Logger } from '@nestjs/common';
import { observeRpc } from './messaging-metrics';

/**
 * OpenTelemetry tracing, on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Off, no SDK is loaded
 * and every helper here returns after one boolean test (no span objects, no context switches).
 * On, spans cover the gateway's HTTP requests, each RPC (client and server), each event (the
 * outbox's publish and the consumer) and each SQL query made inside a traced piece of work; the
 * W3C `traceparent` crosses RabbitMQ in message headers and events in their envelope.
 */
export { SpanKind };

/** The W3C header carrying the trace context on RPC messages and in event envelopes. */
export const TRACEPARENT = 'traceparent';
const TRACER = '@atrium/messaging';

interface Tracing {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

let active: Tracing | undefined;

export function tracingEnabled(): boolean {
  return active !== undefined;
}

/**
 * Starts the SDK (once per process) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: OTLP over HTTP
 * with JSON bodies, batched, to `<endpoint>/v1/traces`. `OTEL_SERVICE_NAME` overrides `service`.
 * Returns whether tracing is on.
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (active) return true;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return false;
  // Loaded here, not imported: a process without tracing never loads the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { TracerProvider, BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { AsyncLocalStorageContextManager } =
    require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } =
    require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME || (service === 'atrium' ? service : `atrium-${service}`),
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
        scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY) || 1000,
      }),
    ],
  });
  // The SDK reports through diag (an unreachable collector, a refused export): to the log.
  const logger = new Logger('Tracing');
  diag.setLogger(
    {
      error: (message, ...args) => logger.error(`${message} ${args.map(String).join(' ')}`.trim()),
      warn: (message, ...args) => logger.warn(`${message} ${args.map(String).join(' ')}`.trim()),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  traceQueries();
  active = provider;
  return true;
}

/** Sends the spans still buffered (tests, and before a process exits). */
export async function flushTracing(): Promise<void> {
  await active?.forceFlush();
}

/** Exports what is buffered and stops tracing; the process goes on untraced. */
export async function stopTracing(): Promise<void> {
  const stopping = active;
  if (!stopping) return;
  active = undefined;
  await stopping.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

/**
 * Runs `work` in a new span (the child of `parent`, else of the current span), ending it when
 * `work` settles and marking it failed when it throws. Without tracing: `work()`.
 */
export function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  work: (span?: Span) => Promise<T>,
  parent?: Context,
): Promise<T> {
  if (!active) return work();
  return trace
    .getTracer(TRACER)
    .startActiveSpan(name, { kind, attributes }, parent ?? context.active(), async (span) => {
      try {
        return await work(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
        throw err;
      } finally {
        span.end();
      }
    });
}

/**
 * One RPC on one side: a client or server span (named by the pattern) and its latency in
 * `atrium_rpc_duration_seconds`. The server side continues `parent`, the caller's context.
 */
export async function rpcSpan<T>(
  side: 'client' | 'server',
  service: string,
  pattern: string,
  work: () => Promise<T>,
  parent?: Context,
): Promise<T> {
  const started = performance.now();
  let ok = false;
  try {
    // Only RPCs of traced work (a request, an event) are traced: polling outside one (health
    // checks every second, sweepers) makes no trace of its own.
    const traced = !!active && inTracedWork(parent);
    const result = await (traced
      ? inSpan(
          `${side === 'client' ? 'send' : 'handle'} ${pattern}`,
          side === 'client' ? SpanKind.CLIENT : SpanKind.SERVER,
          { 'rpc.system': 'rabbitmq', 'rpc.service': service, 'rpc.method': pattern },
          work,
          parent,
        )
      : work());
    ok = true;
    return result;
  } finally {
    observeRpc(side, pattern, ok, (performance.now() - started) / 1000);
  }
}

/** Whether tracing is on and `ctx` (by default the current context) has a span. */
export function inTracedWork(ctx?: Context): boolean {
  return !!active && !!trace.getSpan(ctx ?? context.active());
}

/** Marks a span failed by `err`. */
export function failSpan(span: Span, err: unknown): void {
  span.recordException(err as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
}

/** A span for the caller to end (the HTTP request's, ended by its response hook). */
export function startSpan(name: string, kind: SpanKind, attributes: Attributes, parent?: Context): Span {
  return trace.getTracer(TRACER).startSpan(name, { kind, attributes }, parent ?? context.active());
}

/** Runs `work` with `span` current (so the spans it starts are its children). */
export function withSpanContext<T>(span: Span, parent: Context | undefined, work: () => T): T {
  return context.with(trace.setSpan(parent ?? context.active(), span), work);
}

/** The current trace context as W3C headers (`traceparent`), or nothing without tracing. */
export function traceHeaders(): Record<string, string> | undefined {
  if (!active) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier[TRACEPARENT] ? carrier : undefined;
}

/** The current `traceparent`, to keep with work done later (an outbox row). */
export function currentTraceparent(): string | undefined {
  return traceHeaders()?.[TRACEPARENT];
}

/** The context a received `traceparent` (header or envelope field) continues. */
export function remoteContext(traceparent: unknown): Context | undefined {
  if (!active || typeof traceparent !== 'string') return undefined;
  return propagation.extract(ROOT_CONTEXT, { [TRACEPARENT]: traceparent });
}

/** The id of the trace being recorded now, for log lines. */
export function currentTraceId(): string | undefined {
  if (!active) return undefined;
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

/**
 * A client span around every SQL query of TypeORM's postgres driver (PostgreSQL, and PGlite
 * through its socket server), made only inside a traced piece of work: the relay's and workers'
 * polling outside any request makes none.
 */
function traceQueries(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PostgresQueryRunner } = require('typeorm/driver/postgres/PostgresQueryRunner') as {
    PostgresQueryRunner: { prototype: { query(...args: unknown[]): Promise<unknown>; __traced?: true } };
  };
  const prototype = PostgresQueryRunner.prototype;
  if (prototype.__traced) return;
  const query = prototype.query;
  prototype.__traced = true;
  prototype.query = function tracedQuery(this: unknown, ...args: unknown[]) {
    if (!active || !trace.getSpan(context.active())) return query.apply(this, args);
    const statement = String(args[0]);
    const operation = /^\s*(\w+)/.exec(statement)?.[1]?.toUpperCase() ?? 'QUERY';
    return inSpan(
      `db ${operation}`,
      SpanKind.CLIENT,
      {
        'db.system.name': 'postgresql',
        'db.operation.name': operation,
        'db.query.text': statement.slice(0, 2000),
      },
      () => query.apply(this, args),
    );
  };
}
