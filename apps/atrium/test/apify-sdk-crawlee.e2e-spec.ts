import { eventually, uniqueName } from '@atrium/testing';
import { ApifyApiError, ApifyClient } from 'apify-client';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from './test-stack';

const ACTOR_MAIN = join(__dirname, 'fixtures', 'crawlee-actor', 'main.mjs');
const PAGES = 60;
/** Each run of the Actor (≈ 10 s on an idle machine; 40 s at a load of 16 on 2 cores). */
const ACTOR_TIMEOUT_MS = 120_000;

/** A small site of PAGES pages linked to each other (every page reachable from /page/0). */
async function startSite(): Promise<{ server: Server; origin: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const match = /^\/page\/(\d+)$/.exec(req.url ?? '');
    const n = match ? Number(match[1]) : -1;
    if (n < 0 || n >= PAGES) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const links = [n + 1, n + 2, n + PAGES - 1, 2 * n, 3 * n + 1, 5 * n + 2, 7 * n + 3, 11 * n + 5]
      .map((to) => `<a href="/page/${to % PAGES}">page ${to % PAGES}</a>`)
      .join('\n');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><html><head><title>Page ${n}</title></head><body>
<h1>Page ${n}</h1>${links}
<a href="https://example.com/elsewhere">another site</a>
</body></html>`,
    );
  });
  // Longer than the crawl: a kept-alive socket closed under the crawler would be a retry of our making.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, hits };
}

interface ActorProcess {
  code: number | null;
  output: string;
}

/** Runs the Actor as the platform runs one: `node main.mjs` with the platform's environment. */
function runActor(env: Record<string, string>): Promise<ActorProcess> {
  const cwd = mkdtempSync(join(tmpdir(), 'atrium-actor-'));
  const child = spawn(process.execPath, [ACTOR_MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ACTOR_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rmSync(cwd, { recursive: true, force: true });
      done({ code, output });
    });
  });
}

/** The gateway's requests by `METHOD route status`: how many, and their total seconds (its Prometheus histogram). */
async function gatewayRequests(baseUrl: string): Promise<Map<string, { count: number; seconds: number }>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const series = new Map<string, { count: number; seconds: number }>();
  const line = /^atrium_http_request_duration_seconds_(count|sum)\{(.*)\} ([\d.e+-]+)$/gm;
  for (const [, kind, labels, value] of text.matchAll(line)) {
    const l = Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    const key = `${l.method} ${l.route} ${l.status}`;
    const entry = series.get(key) ?? { count: 0, seconds: 0 };
    if (kind === 'count') entry.count = Number(value);
    else entry.seconds = Number(value);
    series.set(key, entry);
  }
  return series;
}

/**
 * The Apify SDK and Crawlee end to end (issue 13, part 6): an unmodified Actor — Actor.init,
 * getInput, a CheerioCrawler on the default request queue, pushData, setValue, exit — run as
 * child processes with the platform's environment pointed at Atrium, twice at once on one run's
 * storages, then its results shared with another user and taken back.
 */
describe('the Apify SDK and Crawlee against Atrium', () => {
  let t: TestStack;
  let baseUrl: string;
  let site: Awaited<ReturnType<typeof startSite>>;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let actorId: string;
  let run: {
    id: string;
    runToken: string;
    defaultDatasetId: string;
    defaultKeyValueStoreId: string;
    defaultRequestQueueId: string;
  };
  const client = (token: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });
  const pageUrls = () => Array.from({ length: PAGES }, (_, i) => `${site.origin}/page/${i}`).sort();

  beforeAll(async () => {
    site = await startSite();
    // Every page crawled once and nothing refused is what counts: on a slow CI machine, with two
    // Actor processes beside the test process, calls waited out the 3 s RPC timeout (503).
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
    // Alice's runs are hers alone until she shares one (by default anyone with an id may read).
    await restrictResourceAccess(t, alice);
    actorId = (
      await client(alice.accessToken)
        .actors()
        .create({ name: uniqueName('crawler') })
    ).id;
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await new Promise((done) => site?.server.close(done));
  }, 60_000);

  it('runs the Actor twice at once on one run: every page crawled once, the queue drained, OUTPUT stored', async () => {
    const started = await t
      .http()
      .post(`/v2/acts/${actorId}/runs`)
      .set(alice.auth)
      .send({ startUrl: `${site.origin}/page/0` })
      .expect(201);
    run = started.body.data;
    expect(run.runToken).toMatch(/^atrium_run_/);
    // The runner takes the run: RUNNING while its processes work.
    await t.http().put(`/v2/actor-runs/${run.id}`).set(alice.auth).send({ status: 'RUNNING' }).expect(200);

    const platformEnv = {
      APIFY_IS_AT_HOME: '1',
      APIFY_TOKEN: run.runToken,
      // apify-client appends /v2 to the base URL.
      APIFY_API_BASE_URL: baseUrl,
      APIFY_API_PUBLIC_BASE_URL: baseUrl,
      ACTOR_RUN_ID: run.id,
      ACTOR_ID: actorId,
      APIFY_USER_ID: alice.id,
      ACTOR_DEFAULT_DATASET_ID: run.defaultDatasetId,
      ACTOR_DEFAULT_KEY_VALUE_STORE_ID: run.defaultKeyValueStoreId,
      ACTOR_DEFAULT_REQUEST_QUEUE_ID: run.defaultRequestQueueId,
      ACTOR_INPUT_KEY: 'INPUT',
      ACTOR_MEMORY_MBYTES: '1024',
      // No ACTOR_EVENTS_WEBSOCKET_URL: the SDK then emits no platform events (it logs so at debug).
      CRAWLEE_LOG_LEVEL: 'INFO',
      NO_COLOR: '1',
    };
    const before = await gatewayRequests(baseUrl);
    const startedAt = Date.now();
    const processes = await Promise.all([runActor(platformEnv), runActor(platformEnv)]);
    const elapsedMs = Date.now() - startedAt;
    for (const p of processes) {
      if (p.code !== 0) throw new Error(`the Actor exited with ${p.code}:\n${p.output.slice(-6000)}`);
    }
    const after = await gatewayRequests(baseUrl);

    const owner = client(alice.accessToken);
    const { items, total } = await owner.dataset(run.defaultDatasetId).listItems();
    const urls = (items as { url: string; title: string }[]).map((i) => i.url);
    expect(total).toBe(PAGES);
    expect(urls).toHaveLength(PAGES);
    expect([...urls].sort()).toEqual(pageUrls());
    for (const item of items as { url: string; title: string }[]) {
      expect(item.title).toBe(`Page ${/\/page\/(\d+)$/.exec(item.url)![1]}`);
    }
    // Every page fetched once: no request was handed to both processes.
    expect([...site.hits.values()].every((n) => n === 1)).toBe(true);
    expect(site.hits.size).toBe(PAGES);
    // Both processes crawled: their final statistics (as Crawlee logs them) add up to the site.
    const finished = processes.map((p) => Number(/"requestsFinished":(\d+)/.exec(p.output)?.[1]));
    expect(finished.every((n) => n > 0)).toBe(true);
    expect(finished[0] + finished[1]).toBe(PAGES);

    expect(await owner.requestQueue(run.defaultRequestQueueId).get()).toMatchObject({
      totalRequestCount: PAGES,
      handledRequestCount: PAGES,
      pendingRequestCount: 0,
      hadMultipleClients: true,
    });
    const output = await owner.keyValueStore(run.defaultKeyValueStoreId).getRecord('OUTPUT');
    expect(output?.value).toMatchObject({
      startUrl: `${site.origin}/page/0`,
      requestsFinished: expect.any(Number),
      requestsFailed: 0,
    });

    const made = [...after].flatMap(([key, { count, seconds }]) => {
      const was = before.get(key) ?? { count: 0, seconds: 0 };
      const n = count - was.count;
      return n > 0 && !key.includes('/metrics') ? [[key, n, (seconds - was.seconds) / n] as const] : [];
    });
    const requestsMade = made.reduce((sum, [, n]) => sum + n, 0);
    console.log(
      `Two Actor processes crawled ${PAGES} pages in ${elapsedMs} ms with ${requestsMade} API requests` +
        ' (count, mean time in the gateway, route):\n' +
        made.map(([key, n, mean]) => `  ${n}\t${(mean * 1000).toFixed(1)} ms\t${key}`).join('\n') +
        // What the Actor warned about (a retried request, a lost lock), for whoever reads the log.
        processes
          .flatMap((p) => p.output.split('\n').filter((l) => /WARN|ERROR/.test(l)))
          .map((l) => `\n  ${l}`)
          .join(''),
    );
    // Nothing refused: the only misses are the state records Crawlee looks for before it first saves
    // them (each process its session pool and statistics, once, at start).
    const refused = made.filter(([key]) => !/ 2\d\d$/.test(key));
    expect(refused.map(([key]) => key)).toEqual(['GET /v2/key-value-stores/:storeId/records/:recordKey 404']);
    expect(refused[0][1]).toBeLessThanOrEqual(4);
    // Crawlee's last status message, marked terminal (sent without waiting for the answer, as it exits).
    await eventually(async () =>
      expect(await owner.run(run.id).get()).toMatchObject({
        status: 'RUNNING',
        statusMessage: expect.stringMatching(/^Finished! Total \d+ requests: \d+ succeeded, 0 failed\.$/),
        isStatusMessageTerminal: true,
      }),
    );
  }, 150_000);

  it('shares the finished run with another user, who reads every item through apify-client, until revoked', async () => {
    await t.http().put(`/v2/actor-runs/${run.id}`).set(alice.auth).send({ status: 'SUCCEEDED' }).expect(200);
    const asBob = client(bob.accessToken).run(run.id).dataset();
    const notFound = async () => {
      const err = await asBob.listItems().then(
        () => new Error('bob read the dataset'),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApifyApiError);
      expect(err).toMatchObject({ statusCode: 404, type: 'record-not-found' });
    };
    await notFound();

    const grant = await t
      .http()
      .post(`/v2/actor-runs/${run.id}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.id, permissions: ['READ'] })
      .expect(201);
    const shared = await asBob.listItems();
    expect(shared.total).toBe(PAGES);
    expect((shared.items as { url: string }[]).map((i) => i.url).sort()).toEqual(pageUrls());

    await t
      .http()
      .delete(`/v2/actor-runs/${run.id}/access/grants/${grant.body.data.id}`)
      .set(alice.auth)
      .expect(204);
    await notFound();
  }, 60_000);
});
