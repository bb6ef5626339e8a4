import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** nginx's "client closed request": the client went before its response was sent. */
export const CLIENT_CLOSED = 499;

type DoneHandler = (request: FastifyRequest, reply: FastifyReply, status: number) => void;

const handlersOf = new WeakMap<FastifyInstance, DoneHandler[]>();

/**
 * Calls `handler` once per request: when its response has been sent (Fastify's `onResponse`, with
 * its status), or when the client goes first (the response closes unfinished: CLIENT_CLOSED).
 * `onResponse` alone never sees the second, so an abandoned download — an export cut short, a
 * slow answer given up on — left no log line and no metric. One pair of hooks per instance,
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
  const finish = (request: FastifyRequest, reply: FastifyReply, status: number) => {
    if (done.has(reply)) return;
    done.add(reply);
    for (const h of handlers) h(request, reply, status);
  };
  fastify.addHook('onRequest', (request, reply, next) => {
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) finish(request, reply, CLIENT_CLOSED);
    });
    next();
  });
  fastify.addHook('onResponse', (request, reply, next) => {
    finish(request, reply, reply.statusCode);
    next();
  });
}
