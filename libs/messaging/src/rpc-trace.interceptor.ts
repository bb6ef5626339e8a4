import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { BaseRpcContext, RmqContext } from '@nestjs/microservices';
import type { ConsumeMessage } from 'amqplib';
import { Observable, tap } from 'rxjs';
import { observeRpc } from './messaging-metrics';
import {
  failSpan,
  inTracedWork,
  remoteContext,
  SpanKind,
  startSpan,
  TRACEPARENT,
  tracingEnabled,
  withSpanContext,
} from './tracing';

/**
 * Each RPC a service answers: its latency by pattern (`atrium_rpc_duration_seconds{side="server"}`)
 * and, with tracing on, a server span that continues the caller's trace (the `traceparent`
 * header under RabbitMQ; the caller's own context in memory) and is the parent of the
 * handler's queries, calls and events.
 */
@Injectable()
export class RpcTraceInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rpc = context.switchToRpc().getContext<BaseRpcContext>();
    const pattern = rpc instanceof RmqContext ? rpc.getPattern() : String(rpc.getArgByIndex(0));
    const started = performance.now();
    let ok = false;
    const observe = () => observeRpc('server', pattern, ok, (performance.now() - started) / 1000);
    const headers =
      rpc instanceof RmqContext ? (rpc.getMessage() as ConsumeMessage).properties.headers : undefined;
    const parent = tracingEnabled() ? remoteContext(headers?.[TRACEPARENT]) : undefined;
    // Only the RPCs of traced work are traced (a caller's span: the header under RabbitMQ, the
    // caller's own context in memory); polling outside one (health checks) makes no trace.
    if (!(rpc instanceof RmqContext ? parent : tracingEnabled() && inTracedWork()))
      return next.handle().pipe(tap({ next: () => (ok = true), error: observe, complete: observe }));

    const span = startSpan(
      `handle ${pattern}`,
      SpanKind.SERVER,
      { 'rpc.system': 'rabbitmq', 'rpc.method': pattern },
      parent,
    );
    // `handle()` binds the handler to the context it is called in: the span's.
    return withSpanContext(span, parent, () => next.handle()).pipe(
      tap({
        next: () => (ok = true),
        error: (err: unknown) => {
          failSpan(span, err);
          observe();
          span.end();
        },
        complete: () => {
          observe();
          span.end();
        },
      }),
    );
  }
}
