import {
  createTestDatabase,
  resetBroker,
  TEST_AMQP_URL,
  TEST_JWT_SECRET,
  TestDatabase,
  uniqueName,
} from '@atrium/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The local distributed mode (`npm run start:services -- --replicas 2`): every service twice as
 * its own process, competing for its queue, and the gateway, on real RabbitMQ and PostgreSQL.
 * Replicas die mid-load (one killed, one stopped gracefully) and no acknowledged write is lost.
 */
const ROOT = join(__dirname, '..', '..', '..');
const REQUEST_TIMEOUT_MS = 10_000;
const WRITES = 200;
const WRITES_IN_FLIGHT = 4;

interface Answer {
  status: number;
  body: any;
  ms: number;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('local distributed mode: two replicas of every service', () => {
  let db: TestDatabase;
  let launcher: ChildProcess;
  let base: string;
  const output: string[] = [];
  const pids = new Map<string, number>();
  const exits = new Map<string, string>();

  /** One HTTP call that never outlives REQUEST_TIMEOUT_MS: status 0 means it hung and was aborted. */
  async function api(method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
    const started = Date.now();
    try {
      const res = await fetch(base + path, {
        method,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, ms: Date.now() - started };
    } catch {
      return { status: 0, body: null, ms: Date.now() - started };
    }
  }

  async function expectStatus(answer: Promise<Answer>, status: number): Promise<any> {
    const { status: got, body } = await answer;
    expect({ status: got, body }).toMatchObject({ status });
    return body;
  }

  async function signUp(prefix: string): Promise<{ username: string; token: string }> {
    const username = uniqueName(prefix);
    const body = await expectStatus(
      api('POST', '/v2/auth/signup', undefined, {
        email: `${username}@example.com`,
        username,
        password: 'correct horse battery',
      }),
      201,
    );
    return { username, token: body.data.accessToken };
  }

  async function allItems(datasetId: string, token: string): Promise<any[]> {
    const items: any[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await expectStatus(
        api('GET', `/v2/datasets/${datasetId}/items?limit=1000&offset=${offset}`, token),
        200,
      );
      items.push(...page);
      if (page.length < 1000) return items;
    }
  }

  async function waitUntilReady(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const ready = await api('GET', '/health/ready');
      if (ready.status === 200) return;
      if (Date.now() > deadline || launcher.exitCode !== null)
        throw new Error(`not ready: ${JSON.stringify(ready.body)}\n${output.slice(-40).join('\n')}`);
      await sleep(250);
    }
  }

  function exited(child: ChildProcess, ms: number): Promise<boolean> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
    return new Promise<boolean>((done) => {
      const timer = setTimeout(() => done(false), ms);
      child.once('exit', () => {
        clearTimeout(timer);
        done(true);
      });
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    await resetBroker(TEST_AMQP_URL);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    launcher = spawn(
      process.execPath,
      ['-r', join(ROOT, 'tools/register.js'), join(ROOT, 'tools/start-services.ts'), '--replicas', '2'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          DATABASE_URL: db.url,
          AMQP_URL: TEST_AMQP_URL,
          JWT_SECRET: TEST_JWT_SECRET,
          PORT: String(port),
          HOST: '127.0.0.1',
          RPC_TIMEOUT_MS: '3000',
          DB_POOL_SIZE: '3',
          AUTH_RATE_LIMIT_PER_MINUTE: '1000',
          // Kept in `output`, not printed; the shutdown lines are reported below.
          LOG_LEVEL: 'log',
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    for (const stream of [launcher.stdout, launcher.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        output.push(line);
        const started = /^started (\S+) \(pid (\d+)\)/.exec(line);
        if (started) pids.set(started[1], Number(started[2]));
        const ended = /^(\S+) \(pid \d+\) exited with (.+?)( \(not restarted\))?$/.exec(line);
        if (ended) exits.set(ended[1], ended[2]);
      });
    }
    await waitUntilReady(90_000);
    // Eight services and the gateway (every service's replicas consume, not only the first).
    expect([...pids.keys()].sort()).toEqual(
      [
        'gateway',
        ...['identity', 'issues', 'permissions', 'resources'].flatMap((s) => [`${s}#1`, `${s}#2`]),
      ].sort(),
    );
  }, 120_000);

  afterAll(async () => {
    if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
      launcher.kill('SIGTERM');
      if (!(await exited(launcher, 15_000))) {
        for (const pid of pids.values()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
        launcher.kill('SIGKILL');
      }
    }
    await db?.drop();
  }, 30_000);

  it('serves a sharing story across processes', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const dataset = await expectStatus(
      api('POST', `/v2/datasets?name=${uniqueName('story')}`, alice.token),
      201,
    );
    const datasetId = dataset.data.id;
    await expectStatus(
      api('POST', `/v2/datasets/${datasetId}/items`, alice.token, [{ n: 1 }, { n: 2 }]),
      201,
    );
    await expectStatus(api('POST', `/v2/datasets/${datasetId}/items`, bob.token, { n: 3 }), 403);

    const grant = await expectStatus(
      api('POST', `/v2/datasets/${datasetId}/access/grants`, alice.token, {
        user: bob.username,
        permissions: ['WRITE'],
      }),
      201,
    );
    await expectStatus(api('POST', `/v2/datasets/${datasetId}/items`, bob.token, { n: 3 }), 201);
    await expectStatus(
      api('DELETE', `/v2/datasets/${datasetId}/access/grants/${grant.data.id}`, alice.token),
      204,
    );
    await expectStatus(api('POST', `/v2/datasets/${datasetId}/items`, bob.token, { n: 4 }), 403);
    expect((await allItems(datasetId, alice.token)).map((i) => i.n)).toEqual([1, 2, 3]);
  }, 60_000);

  it('loses no acknowledged write when replicas die mid-load, and events still flow', async () => {
    const alice = await signUp('loader');
    const bob = await signUp('reader');
    const dataset = await expectStatus(
      api('POST', `/v2/datasets?name=${uniqueName('load')}`, alice.token),
      201,
    );
    const datasetId = dataset.data.id;

    const answers: Answer[] = [];
    const acknowledged: number[] = [];
    let next = 0;
    const writer = async () => {
      while (next < WRITES) {
        const seq = next++;
        if (seq === 60) {
          // Mid-load: a crash (no shutdown at all) and a graceful stop (SIGTERM drains).
          process.kill(pids.get('resources#1')!, 'SIGKILL');
          process.kill(pids.get('permissions#1')!, 'SIGTERM');
        }
        const answer = await api('POST', `/v2/datasets/${datasetId}/items`, alice.token, { seq });
        answers.push(answer);
        if (answer.status >= 200 && answer.status < 300) acknowledged.push(seq);
      }
    };
    await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, writer));

    const statuses = answers.reduce<Record<number, number>>((acc, a) => {
      acc[a.status] = (acc[a.status] ?? 0) + 1;
      return acc;
    }, {});
    const maxMs = Math.max(...answers.map((a) => a.ms));
    const items = await allItems(datasetId, alice.token);
    const present = new Set(items.map((i) => i.seq));
    const lost = acknowledged.filter((seq) => !present.has(seq));
    console.log(
      `distributed load: ${answers.length} writes, statuses ${JSON.stringify(statuses)}, ` +
        `acknowledged ${acknowledged.length}, present ${present.size} (${items.length} rows), ` +
        `lost ${lost.length}, max latency ${maxMs} ms`,
    );

    expect(answers).toHaveLength(WRITES);
    expect(lost).toEqual([]);
    // Nothing hung: every answer came back, and before the gateway's RPC deadline had long passed.
    expect(statuses[0]).toBeUndefined();
    expect(maxMs).toBeLessThan(REQUEST_TIMEOUT_MS);
    // The surviving replicas took the dead ones' share: almost every write was acknowledged.
    expect(acknowledged.length).toBeGreaterThanOrEqual(WRITES * 0.9);

    // The stopped replica shut down cleanly; the killed one did not get the chance.
    await (async () => {
      const deadline = Date.now() + 15_000;
      while (!exits.has('permissions#1') && Date.now() < deadline) await sleep(100);
    })();
    console.log(output.filter((line) => /permissions#1.*(Drained|Shut down)/.test(line)).join('\n'));
    expect(exits.get('permissions#1')).toBe('code 0');
    expect(exits.get('resources#1')).toBe('signal SIGKILL');

    // Events still flow after the kill: a grant takes effect, and so does its revocation.
    const grant = await expectStatus(
      api('POST', `/v2/datasets/${datasetId}/access/grants`, alice.token, {
        user: bob.username,
        permissions: ['WRITE'],
      }),
      201,
    );
    await expectStatus(api('POST', `/v2/datasets/${datasetId}/items`, bob.token, { seq: 'bob' }), 201);
    await expectStatus(
      api('DELETE', `/v2/datasets/${datasetId}/access/grants/${grant.data.id}`, alice.token),
      204,
    );
    await expectStatus(api('POST', `/v2/datasets/${datasetId}/items`, bob.token, { seq: 'late' }), 403);
    // A resource created after the kill reaches the permissions service's projection too.
    const fresh = await expectStatus(
      api('POST', `/v2/datasets?name=${uniqueName('fresh')}`, alice.token),
      201,
    );
    await expectStatus(api('GET', `/v2/datasets/${fresh.data.id}`, alice.token), 200);

    await expectStatus(api('GET', '/health/ready'), 200);
  }, 120_000);
});
