import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run console:build` (Vite, apps/console/vite.config.mts) writes the web console. */
export const DEFAULT_CONSOLE_DIR = resolve(__dirname, '../../../../dist/console');

/** Paths the console never answers: the API and the gateway's own pages keep their answers. */
const NOT_CONSOLE = /^\/(?:v2|health|metrics|docs|assets)(?:[/?]|$)/;

/** Scripts from the gateway only (no inline script); Mantine sets inline styles. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The headers of every HTML page the gateway serves itself (the console, the API reference). */
export const PAGE_SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const PAGE_HEADERS = {
  ...PAGE_SECURITY_HEADERS,
  'cache-control': 'no-cache',
  'content-type': 'text/html; charset=utf-8',
};

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

const NOT_BUILT = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Atrium console not built</title></head>
  <body>
    <h1>The Atrium console is not built</h1>
    <p>The API is running at <a href="/v2">/v2</a> (reference: <a href="/docs">/docs</a>).</p>
    <p>To serve the web console here, build it once from the repository and reload this page:</p>
    <pre>npm run console:build</pre>
  </body>
</html>
`;

/** Every file under `dir`, by its path relative to it with `/` separators. */
function listFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(dir)) return files;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path).split(sep).join('/'), path);
  }
  return files;
}

/** Precompressed variants the build writes, in order of preference: [content-coding, suffix]. */
const ENCODINGS: readonly (readonly [string, string])[] = [
  ['br', '.br'],
  ['gzip', '.gz'],
];

function acceptsEncoding(request: FastifyRequest, token: string): boolean {
  const accept = request.headers['accept-encoding'];
  if (typeof accept !== 'string') return false;
  return accept
    .toLowerCase()
    .split(',')
    .some((part) => {
      const [coding, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return coding.trim() === token && (!q || Number(q.slice(2)) > 0);
    });
}

function acceptsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.toLowerCase().includes('text/html');
}

/**
 * The web console (a single-page app built by Vite into `dir`): its hashed files at `/assets/*`,
 * and its page at `/` and at every other path a browser navigates to outside the API (every
 * `consoleUrl`; the app itself says "not found"). Requests that are not a browser's navigation
 * keep the API's JSON 404. Files are read on first request and kept: most gateway processes
 * never serve them, and a missing build answers a 503 page saying how to build it.
 */
export function serveConsole(fastify: FastifyInstance, dir = DEFAULT_CONSOLE_DIR): void {
  const assetsDir = join(dir, 'assets');
  let assets: Map<string, string> | undefined;
  const contents = new Map<string, Buffer>();
  let page: Buffer | undefined;

  const sendPage = (reply: FastifyReply) => {
    if (!page) {
      const file = join(dir, 'index.html');
      if (existsSync(file)) page = readFileSync(file);
    }
    void reply.headers(PAGE_HEADERS);
    return page ? reply.send(page) : reply.code(503).send(NOT_BUILT);
  };

  fastify.get('/assets/*', async (request, reply) => {
    // Only files that the build wrote are served: the name is looked up, never joined to a path.
    assets ??= listFiles(assetsDir);
    const name = (request.params as { '*': string })['*'];
    if (!assets.has(name)) {
      return reply
        .code(404)
        .type('application/json; charset=utf-8')
        .send({ error: { type: 'record-not-found', message: `No console file ${request.url}` } });
    }
    // The build wrote text files also as .br and .gz: the first the browser accepts is sent.
    const encoding = ENCODINGS.find(
      ([token, suffix]) => acceptsEncoding(request, token) && assets!.has(name + suffix),
    );
    const file = encoding ? name + encoding[1] : name;
    let body = contents.get(file);
    if (!body) contents.set(file, (body = readFileSync(assets.get(file)!)));
    if (encoding) void reply.header('content-encoding', encoding[0]);
    return reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .header('vary', 'accept-encoding')
      .type(TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream')
      .send(body);
  });

  // Unknown paths reach Nest's not-found handler (the JSON 404); browsers' navigations get the page first.
  fastify.addHook('onRequest', async (request, reply) => {
    if (!request.is404 || (request.method !== 'GET' && request.method !== 'HEAD')) return;
    const url = request.url;
    if (url === '/' || url.startsWith('/?') || (!NOT_CONSOLE.test(url) && acceptsHtml(request))) {
      return sendPage(reply);
    }
  });
}
