import { AtriumLogger, REQUEST_ID_HEADER, requestIdFrom, withRequestId } from '@atrium/messaging';
import type { FastifyInstance } from 'fastify';
import { onRequestDone } from './request-done';

/**
 * Every request gets an id (the caller's `x-request-id` when it is a sensible one), answered in
 * the same header and carried through every RPC and event its handling causes; when it is
 * answered, or its client goes first (499), one log line says what it was, its status, how long it
 * took and who asked.
 */
export function logRequests(fastify: FastifyInstance, logger: AtriumLogger): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
    void reply.header(REQUEST_ID_HEADER, requestId);
    // The rest of the request's handling runs inside this call, and so knows its id.
    withRequestId(requestId, done);
  });
  onRequestDone(fastify, (request, reply, status) => {
    const route = request.routeOptions.url ?? request.url.split('?')[0]!;
    if (!logger.logsRequest(route)) return;
    withRequestId(String(reply.getHeader(REQUEST_ID_HEADER) ?? ''), () =>
      logger.request({
        method: request.method,
        route,
        status,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        principalId: principalIdOf((request as { user?: unknown }).user),
      }),
    );
  });
}

function principalIdOf(user: unknown): string | null {
  if (!user || typeof user !== 'object') return null;
  const { userId, runId } = user as { userId?: unknown; runId?: unknown };
  return typeof userId === 'string' ? userId : typeof runId === 'string' ? runId : null;
}
