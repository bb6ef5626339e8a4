import { createGatewayApp } from '@atrium/gateway';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { replicaGatewayConfig } from './test-stack';

/** A gateway serving a console build made here (the real one is built by `npm run console:build`). */
async function gatewayWithConsole(dir: string): Promise<NestFastifyApplication> {
  const app = await createGatewayApp(replicaGatewayConfig({ CONSOLE_DIR: dir }));
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-Abc123.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = 'console.log("console");';
const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('the web console, served by the gateway', () => {
  let root: string;
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'atrium-console-'));
    mkdirSync(join(root, 'dist', 'assets'), { recursive: true });
    writeFileSync(join(root, 'dist', 'index.html'), INDEX);
    writeFileSync(join(root, 'dist', 'assets', 'index-Abc123.js'), SCRIPT);
    writeFileSync(join(root, 'dist', 'assets', 'index-Def456.css'), 'body{margin:0}');
    // As the build writes them (vite.config.mts): each text file also compressed.
    writeFileSync(join(root, 'dist', 'assets', 'index-Def456.css.br'), brotliCompressSync('body{margin:0}'));
    writeFileSync(join(root, 'dist', 'assets', 'index-Def456.css.gz'), gzipSync('body{margin:0}'));
    // A file next to the build that no request may reach.
    writeFileSync(join(root, 'secret.txt'), 'not for the web');
    app = await gatewayWithConsole(join(root, 'dist'));
  });
  afterAll(async () => {
    await app?.close();
    rmSync(root, { recursive: true, force: true });
  });

  function expectPage(res: request.Response) {
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.headers['x-frame-options']).toBe('DENY');
    const csp = String(res.headers['content-security-policy']);
    const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src'));
    expect(scriptSrc?.trim()).toBe("script-src 'self'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
  }

  it('serves the page at / to any client', async () => {
    const res = await http().get('/').expect(200);
    expectPage(res);
    expect(res.text).toBe(INDEX);
    expectPage(await http().get('/?next=%2Fstorage').set('accept', HTML));
  });

  it.each([
    '/storage/datasets/AbCdEfGhIjKlMnOpQ',
    '/storage/key-value-stores/AbCdEfGhIjKlMnOpQ',
    '/storage/request-queues/AbCdEfGhIjKlMnOpQ',
    '/actors/runs/AbCdEfGhIjKlMnOpQ',
    '/sign-in?next=%2Factors%2Fruns%2Fx',
    '/no/such/page',
  ])('serves the page at %s to a browser', async (path) => {
    const res = await http().get(path).set('accept', HTML);
    expectPage(res);
    expect(res.text).toBe(INDEX);
    const head = await http().head(path).set('accept', HTML);
    expect(head.status).toBe(200);
    expect(head.headers['content-security-policy']).toBeDefined();
  });

  it('keeps the JSON 404 for API clients and for API paths', async () => {
    for (const [path, accept] of [
      ['/storage/datasets/AbCdEfGhIjKlMnOpQ', 'application/json'],
      ['/storage/datasets/AbCdEfGhIjKlMnOpQ', 'application/json, text/plain, */*'],
      ['/v2/nothing-here', HTML],
      ['/health/nothing', HTML],
      ['/metricsx/a', 'application/json'],
    ]) {
      const res = await http().get(path).set('accept', accept).expect(404);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.body.error.type).toBe('record-not-found');
      // Not the console's page policy (API answers under /v2 carry the sandbox one).
      expect(String(res.headers['content-security-policy'] ?? '')).not.toContain("script-src 'self'");
      // Never read as another type than it says.
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    const api = await http().get('/v2/nothing-here').set('accept', HTML).expect(404);
    expect(api.headers['content-security-policy']).toMatch(/^sandbox;/);
    expect(api.headers['x-content-type-options']).toBe('nosniff');
    // Writes to unknown paths are never the console.
    const post = await http().post('/storage/datasets/x').set('accept', HTML).expect(404);
    expect(post.body.error.type).toBe('record-not-found');
    // The API's own answers are untouched, and not sniffed either.
    for (const path of ['/health/live', '/metrics', '/docs/openapi.json'])
      expect((await http().get(path).set('accept', HTML).expect(200)).headers['x-content-type-options']).toBe(
        'nosniff',
      );
  });

  it('serves hashed files for a year with their content type', async () => {
    const js = await http().get('/assets/index-Abc123.js').expect(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.text).toBe(SCRIPT);
    const css = await http().get('/assets/index-Def456.css').expect(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const missing = await http().get('/assets/index-Nope.js').set('accept', HTML).expect(404);
    expect(missing.body.error.type).toBe('record-not-found');
  });

  it('sends the precompressed file the browser accepts, else the plain one', async () => {
    // supertest (superagent) decodes br and gzip bodies itself.
    const br = await http()
      .get('/assets/index-Def456.css')
      .set('accept-encoding', 'gzip, deflate, br, zstd')
      .expect(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(br.headers.vary).toBe('accept-encoding');
    expect(br.text).toBe('body{margin:0}');
    const gzip = await http()
      .get('/assets/index-Def456.css')
      .set('accept-encoding', 'gzip, br;q=0')
      .expect(200);
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.text).toBe('body{margin:0}');
    const plain = await http().get('/assets/index-Def456.css').set('accept-encoding', 'identity').expect(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text).toBe('body{margin:0}');
    // A file the build did not compress is sent as it is.
    const js = await http().get('/assets/index-Abc123.js').set('accept-encoding', 'br, gzip').expect(200);
    expect(js.headers['content-encoding']).toBeUndefined();
  });

  it.each([
    '/assets/../secret.txt',
    '/assets/../../secret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/assets/..%5c..%5csecret.txt',
    '/assets/../index.html',
    '/assets//etc/passwd',
    '/assets/%00index-Abc123.js',
  ])('refuses a path out of the build: %s', async (path) => {
    const res = await http().get(path);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('not for the web');
    expect(res.text).not.toContain('root:');
  });

  it('answers a 503 page saying how to build it when the build is missing', async () => {
    const bare = await gatewayWithConsole(join(root, 'nothing-here'));
    try {
      const res = await request(bare.getHttpServer()).get('/').set('accept', HTML).expect(503);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('npm run console:build');
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
      await request(bare.getHttpServer()).get('/assets/index-Abc123.js').expect(404);
      await request(bare.getHttpServer()).get('/v2/nothing-here').expect(404);
    } finally {
      await bare.close();
    }
  });
});
