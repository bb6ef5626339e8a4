import { eventually, uniqueName } from '@atrium/testing';
import { request as httpRequest } from 'http';
import { signUp, SignedUpUser, startListeningTestStack, TEST_DISTRIBUTED, TestStack } from './test-stack';

/**
 * One request followed across services by its id (issue 14, part 5): the gateway answers it in
 * `x-request-id` and logs one line for it; the RPCs it causes are logged by the services that
 * answer them, and the events it causes by their consumers, all under the same id. In the
 * distributed mode the services are processes of their own and their output is read.
 */
describe('request tracing in the logs', () => {
  let t: TestStack & { baseUrl: string };
  let alice: SignedUpUser;
  /** What this process writes to stdout (the gateway, and in-process services), as JSON lines. */
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);

  beforeAll(async () => {
    t = await startListeningTestStack({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' });
    alice = await signUp(t, uniqueName('alice'));
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      written.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stdout.write;
  });
  afterAll(async () => {
    process.stdout.write = write;
    await t.close();
  });

  /** Every log line of the request, from this process and the services' processes. */
  const linesOf = (requestId: string) =>
    [...written, ...(t.serviceOutput ?? []).map((line) => line.replace(/^\[[^\]]+\] /, ''))]
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.requestId === requestId);

  it('answers the id, logs one line for the request, and every service it reached logs under it', async () => {
    const requestId = `trace-${uniqueName('r')}`;
    const res = await t
      .http()
      .post(`/v2/datasets?name=${uniqueName('ds')}`)
      .set(alice.auth)
      .set('x-request-id', requestId)
      .expect(201);
    expect(res.headers['x-request-id']).toBe(requestId);

    // The event the creation caused reaches the permissions service's consumer a moment later.
    let lines = linesOf(requestId);
    for (const started = Date.now(); Date.now() - started < 5000; lines = linesOf(requestId)) {
      if (lines.some((l) => /^permissions applied resource\.created/.test(String(l.message)))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const http = lines.filter((l) => l.event === 'http.request');
    expect(http).toEqual([
      expect.objectContaining({
        method: 'POST',
        route: '/v2/datasets',
        status: 201,
        principalId: alice.id,
        durationMs: expect.any(Number),
      }),
    ]);
    // Identity verified the session, resources created the dataset (RPCs), and the permissions
    // service applied the event that creation announced (through the resources outbox).
    expect(lines.filter((l) => l.context === 'RPC' || l.context === 'Events').map((l) => l.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AuthMessageController\.verifySession answered/),
        expect.stringMatching(/^DatasetsCatalogueMessageController\.create answered/),
        expect.stringMatching(/^permissions applied resource\.created/),
      ]),
    );
    if (TEST_DISTRIBUTED) {
      // Written by the services' own processes.
      const services = new Set(
        (t.serviceOutput ?? [])
          .filter((line) => line.includes(requestId))
          .map((line) => /^\[(\w+)#/.exec(line)?.[1]),
      );
      expect([...services]).toEqual(expect.arrayContaining(['permissions', 'resources']));
    }
  });

  it('replaces an id it would not keep with its own', async () => {
    const res = await t
      .http()
      .get('/v2/users/me')
      .set(alice.auth)
      .set('x-request-id', 'no spaces; allowed')
      .expect(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs one line, status 499, for a response its client left unfinished', async () => {
    const created = await t
      .http()
      .post(`/v2/datasets?name=${uniqueName('ds')}`)
      .set(alice.auth)
      .expect(201);
    const datasetId = created.body.data.id as string;
    // About 4 MB of CSV: more than the sockets between here and the gateway hold.
    const items = Array.from({ length: 10_000 }, (_, i) => ({ n: i, text: 'x'.repeat(200) }));
    for (let i = 0; i < 2; i++) {
      await t.http().post(`/v2/datasets/${datasetId}/items`).set(alice.auth).send(items).expect(201);
    }
    const requestId = `trace-${uniqueName('gone')}`;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${t.baseUrl}/v2/datasets/${datasetId}/items?format=csv`, {
        headers: { ...alice.auth, 'x-request-id': requestId },
      });
      req.on('response', (res) => {
        expect(res.statusCode).toBe(200);
        // The headers came, the body has begun: the client goes without reading it.
        req.destroy();
        resolve();
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
    await eventually(async () =>
      expect(linesOf(requestId).some((l) => l.event === 'http.request')).toBe(true),
    );
    // A moment more, so that a second line would be seen too.
    await new Promise((r) => setTimeout(r, 300));
    expect(linesOf(requestId).filter((l) => l.event === 'http.request')).toEqual([
      expect.objectContaining({
        method: 'GET',
        route: '/v2/datasets/:datasetId/items',
        status: 499,
        principalId: alice.id,
      }),
    ]);
  });
});
