import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PAGE_SECURITY_HEADERS } from './console';

/** Swagger UI's files, served by the gateway itself (no CDN: it may run offline). */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'swagger-initializer.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Atrium API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/swagger-ui-standalone-preset.js"></script>
    <script src="/docs/swagger-initializer.js"></script>
  </body>
</html>
`;

const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/docs/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // A token typed here lasts as long as the page: not kept in the localStorage of the
    // console's origin, where the console keeps none either.
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

/** A value made on first use, then kept. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * The API reference: the interactive UI at `/docs`, the OpenAPI document at `/docs/openapi.json`.
 * Both are made on first request, not at start-up (building the document takes ~0.2 s, and the UI
 * files are ~1.5 MB): most gateway processes never serve them.
 */
export function serveApiDocs(fastify: FastifyInstance, buildDocument: () => object): void {
  const dist = once(() => dirname(require.resolve('swagger-ui-dist/package.json')));
  const json = once(() => JSON.stringify(buildDocument()));
  fastify.get('/docs', async (_request, reply) =>
    reply.headers(PAGE_SECURITY_HEADERS).type('text/html; charset=utf-8').send(PAGE),
  );
  fastify.get('/docs/openapi.json', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(json()),
  );
  for (const [name, type] of Object.entries(ASSETS)) {
    const file = once(() =>
      name === 'swagger-initializer.js' ? INITIALIZER : readFileSync(join(dist(), name)),
    );
    fastify.get(`/docs/${name}`, async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=3600').type(type).send(file()),
    );
  }
}
