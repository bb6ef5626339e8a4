import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'stream';

/** nginx's "client closed request": the client went before its response was sent. */
export const CLIENT_CLOSED = 499;
/** A streamed body failed after its headers were sent: the server cut the response short. */
export const SERVER_CUT = 500;

type DoneHandler = (request: FastifyRequest, reply: FastifyReply, status: number) => void;

const handlersOf = new WeakMap<FastifyInstance, DoneHandler[]>();

/**
 * Calls `handler` once per request: when its response has been sent (Fastify's `onResponse`, with
 * its status), or when it closes unfinished — the client went first (CLIENT_CLOSED), or its
 * streamed body failed after the headers went out (SERVER_CUT: the status sent says 200, the body
 * is cut short). `onResponse` alone sees neither, so an abandoned download, or an export whose
 * dataset was deleted under it, left no log line and no metric. One set of hooks per instance,
 * whatever the number of handlers.
 */
export function onRequestDone(fastify: FastifyInstance, handler: DoneHandler): void {
  const registered = handlersOf.get(fastify);
  if (registered) {
    registered.push(handler);
    return;
  }
  const handlers = [handler];
  handlersOf.set(fastify, handlers);
  const done = new WeakSet<FastifyReply>();
  const cut = new WeakSet<FastifyReply>();
  const finish = (request: FastifyRequest, reply: FastifyReply, status: number) => {
    if (done.has(reply)) return;
    done.add(reply);
    for (const h of handlers) h(request, reply, status);
  };
  fastify.addHook('onRequest', (request, reply, next) => {
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) finish(request, reply, cut.has(reply) ? SERVER_CUT : CLIENT_CLOSED);
    });
    next();
  });
  fastify.addHook('onSend', (_request, reply, payload, next) => {
    if (payload instanceof Readable) payload.once('error', () => cut.add(reply));
    next();
  });
  fastify.addHook('onResponse', (request, reply, next) => {
    finish(request, reply, reply.statusCode);
    next();
  });
}

const signals = new WeakMap<FastifyReply, AbortSignal>();

/**
 * Aborted when the response closes — sent, or its client gone: work done only for this response
 * (a long poll, a stream's next chunk) stops then instead of running on for nobody.
 */
export function closedSignal(reply: FastifyReply): AbortSignal {
  let signal = signals.get(reply);
  if (!signal) {
    const controller = new AbortController();
    reply.raw.once('close', () => controller.abort());
    signal = controller.signal;
    signals.set(reply, signal);
  }
  return signal;
}

/** A handler's `closedSignal`: `@ClientGone() gone: AbortSignal`. */
export const ClientGone = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  closedSignal(ctx.switchToHttp().getResponse<FastifyReply>()),
);
