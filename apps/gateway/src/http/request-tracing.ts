import {
  remoteContext,
  SpanKind,
  startSpan,
  TRACEPARENT,
  tracingEnabled,
  withSpanContext,
} from '@atrium/messaging';
import { Span, SpanStatusCode } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { onRequestDone } from './request-done';

const spans = new WeakMap<FastifyRequest, Span>();

/**
 * With tracing on, a server span per HTTP request: the root of the trace (or the child of the
 * caller's `traceparent`), current while the request is handled, so every RPC it makes and
 * every event those cause belongs to it. Off, no hook is added.
 */
export function traceRequests(fastify: FastifyInstance): void {
  if (!tracingEnabled()) return;
  fastify.addHook('onRequest', (request, _reply, done) => {
    // Probes and scrapes (every few seconds, from the platform) are not traced.
    if (/^\/(health|metrics)(\/|\?|$)/.test(request.url)) return done();
    const span = startSpan(
      `${request.method}`,
      SpanKind.SERVER,
      { 'http.request.method': request.method, 'url.path': request.url.split('?')[0] },
      remoteContext(request.headers[TRACEPARENT]),
    );
    spans.set(request, span);
    // The rest of the request's handling runs inside this call, and so inside the span.
    withSpanContext(span, remoteContext(request.headers[TRACEPARENT]), done);
  });
  // Ended when the response is sent, or when the client goes first (499): never left open.
  onRequestDone(fastify, (request, _reply, status) => {
    const span = spans.get(request);
    if (!span) return;
    const route = request.routeOptions.url ?? 'unmatched';
    span.updateName(`${request.method} ${route}`);
    span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}
