import Fastify, { FastifyInstance } from 'fastify';
import { request as httpRequest } from 'http';
import { PassThrough } from 'stream';
import { CLIENT_CLOSED, onRequestDone, SERVER_CUT } from './request-done';

describe('onRequestDone', () => {
  let app: FastifyInstance;
  let port: number;
  const seen: { handler: string; route: string | undefined; status: number }[] = [];
  let streams: PassThrough[] = [];

  beforeAll(async () => {
    app = Fastify();
    onRequestDone(app, (request, _reply, status) =>
      seen.push({ handler: 'a', route: request.routeOptions.url, status }),
    );
    onRequestDone(app, (request, _reply, status) =>
      seen.push({ handler: 'b', route: request.routeOptions.url, status }),
    );
    app.get('/ok', async () => ({ ok: true }));
    app.get('/missing', async (_req, reply) => reply.code(404).send({ error: 'no' }));
    // A download that never ends on its own: the client has to go.
    app.get('/stream', async (_req, reply) => {
      const body = new PassThrough();
      streams.push(body);
      body.write('x'.repeat(1024));
      return reply.type('text/plain').send(body);
    });
    // A download whose source fails once its headers and first bytes have gone out.
    app.get('/failing', async (_req, reply) => {
      const body = new PassThrough();
      body.write('x'.repeat(1024));
      setTimeout(() => body.destroy(new Error('the dataset was deleted')), 50);
      return reply.type('text/plain').send(body);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of streams) s.destroy();
    streams = [];
    await app.close();
  });

  beforeEach(() => {
    seen.length = 0;
  });

  const waitFor = async (n: number) => {
    for (let i = 0; i < 200 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('reports a sent response once to each handler, with its status', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/ok`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/missing`)).status).toBe(404);
    await waitFor(4);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([
      { handler: 'a', route: '/ok', status: 200 },
      { handler: 'b', route: '/ok', status: 200 },
      { handler: 'a', route: '/missing', status: 404 },
      { handler: 'b', route: '/missing', status: 404 },
    ]);
  });

  it('reports a response its client left unfinished as 499, once', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/stream' }, (res) => {
        expect(res.statusCode).toBe(200);
        // The first bytes came: the client goes in the middle of the body.
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
      req.end();
    });
    await waitFor(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([
      { handler: 'a', route: '/stream', status: CLIENT_CLOSED },
      { handler: 'b', route: '/stream', status: CLIENT_CLOSED },
    ]);
  });

  it('reports a response whose streamed body failed after its headers as cut by the server (500), once', async () => {
    const received = await new Promise<{ status?: number; bytes: number; error: boolean }>((resolve) => {
      let bytes = 0;
      const req = httpRequest({ host: '127.0.0.1', port, path: '/failing' }, (res) => {
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('error', () => resolve({ status: res.statusCode, bytes, error: true }));
        res.on('end', () => resolve({ status: res.statusCode, bytes, error: false }));
      });
      req.on('error', () => resolve({ bytes, error: true }));
      req.end();
    });
    // The client sees the cut: its status was 200, but the body ended in an error.
    expect(received).toEqual({ status: 200, bytes: 1024, error: true });
    await waitFor(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([
      { handler: 'a', route: '/failing', status: SERVER_CUT },
      { handler: 'b', route: '/failing', status: SERVER_CUT },
    ]);
  });
});
