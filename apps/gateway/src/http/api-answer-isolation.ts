import type { FastifyInstance } from 'fastify';

/**
 * What every answer under /v2 carries unless its route set its own: the API answers data, never a
 * page. A record stored as `text/html` or `image/svg+xml` (any content type is allowed, as in
 * Apify) would otherwise run as a page on the console's origin, with its cookies within reach;
 * `sandbox` gives such a document an opaque origin and no scripts, and `nosniff` stops browsers
 * from taking a text answer for HTML. Images and media still show when opened directly.
 */
export const API_ANSWER_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
};

/**
 * The API's answers get API_ANSWER_HEADERS; every other answer (the console, /docs, /health,
 * /metrics, a 404) gets `nosniff` at least: none is ever to be read as another type than it says.
 */
export function isolateApiAnswers(fastify: FastifyInstance): void {
  const headers = Object.entries(API_ANSWER_HEADERS);
  // Not async: a promise per answer for nothing to wait on.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/v2/') || request.url === '/v2') {
      for (const [name, value] of headers) {
        if (!reply.hasHeader(name)) void reply.header(name, value);
      }
    } else if (!reply.hasHeader('x-content-type-options'))
      void reply.header('x-content-type-options', 'nosniff');
    done(null, payload);
  });
}
