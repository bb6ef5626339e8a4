import { FaultProxy, startFaultProxy, TEST_AMQP_URL, TEST_JWT_SECRET, uniqueName } from '@atrium/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FaultStack, startFaultStack } from './faults-stack';

/**
 * Issue 17, item 1: a replica SIGKILLed after its write committed, before it replied. Replica A of
 * the resources service runs as its own process, its database link through a fault proxy that
 * watches the SQL: when PostgreSQL answers the COMMIT of a transaction that recorded an
 * idempotency key, the test SIGKILLs A at once. The broker gives the unacked push to replica B
 * (in this process), whose keyed transaction finds the key committed and answers from its record.
 * Each push must be stored once and its caller answered 201 (or 503 and the push stored once).
 */
const ROOT = join(__dirname, '..', '..', '..');
const KILLS = Number(process.env.IDEMPOTENCY_KILLS ?? 20);

describe('faults: a replica SIGKILLed after commit, before reply (issue 17)', () => {
  let t: FaultStack;
  let dbProxy: FaultProxy;
  let replicaA: ChildProcess | undefined;
  const output: string[] = [];
  const startTimes: number[] = [];

  async function startReplicaA(): Promise<void> {
    const started = Date.now();
    output.length = 0;
    const child = spawn(
      process.execPath,
      ['-r', join(ROOT, 'tools/register.js'), join(ROOT, 'tools/start-service.ts'), 'resources'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          DATABASE_URL: dbProxy.url(t.db.url),
          AMQP_URL: TEST_AMQP_URL,
          JWT_SECRET: TEST_JWT_SECRET,
          DB_POOL_SIZE: '3',
          RPC_TIMEOUT_MS: '3000',
          LOG_LEVEL: 'log',
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    replicaA = child;
    await new Promise<void>((done, fail) => {
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          output.push(line);
          if (line.includes('resources service is consuming')) done();
        });
      }
      child.once('exit', (code, signal) =>
        fail(new Error(`resources exited (${code ?? signal}):\n${output.slice(-30).join('\n')}`)),
      );
    });
    startTimes.push(Date.now() - started);
  }

  beforeAll(async () => {
    t = await startFaultStack({ gatewayEnv: { RPC_TIMEOUT_MS: '8000' } });
    dbProxy = await startFaultProxy({ port: Number(new URL(t.db.url).port || 5432) });
    await t.waitReady(30_000);
    await startReplicaA();
  }, 120_000);

  afterAll(async () => {
    replicaA?.kill('SIGKILL');
    await t?.close();
    await dbProxy?.close();
  }, 60_000);

  it(`stores each push once and answers it, over ${KILLS} SIGKILLs after COMMIT`, async () => {
    const signup = await t.api('POST', '/v2/auth/signup', undefined, {
      email: `${uniqueName('kill')}@example.com`,
      username: uniqueName('kill'),
      password: 'correct horse battery',
    });
    expect(signup.status).toBe(201);
    const token: string = signup.body.data.accessToken;
    const dataset = await t.api('POST', `/v2/datasets?name=${uniqueName('killed')}`, token);
    expect(dataset.status).toBe(201);
    const datasetId: string = dataset.body.data.id;

    // Kill A when PostgreSQL answers the COMMIT of a connection that just recorded a key's result.
    const recording = new Set<number>();
    let armed = false;
    let kills = 0;
    dbProxy.tap((chunk, direction, connection) => {
      const text = chunk.toString('latin1');
      if (direction === 'upstream' && text.includes('rpc_idempotency" SET result')) recording.add(connection);
      if (direction === 'upstream' && text.includes('rpc_idempotency SET result')) recording.add(connection);
      if (direction === 'downstream' && recording.has(connection) && text.includes('COMMIT\0')) {
        recording.delete(connection);
        if (armed && replicaA && replicaA.exitCode === null) {
          armed = false;
          kills++;
          replicaA.kill('SIGKILL');
        }
      }
    });

    const results: { status: number; ms: number; killed: boolean }[] = [];
    const markers: string[] = [];
    const restarts: number[] = [];
    const started = Date.now();
    while (kills < KILLS && Date.now() - started < 260_000) {
      armed = true;
      const before = kills;
      const marker = `kill-${randomUUID()}`;
      markers.push(marker);
      const key = randomUUID();
      let answer = await t.api('POST', `/v2/datasets/${datasetId}/items`, token, [{ m: marker }], 15_000, {
        'idempotency-key': key,
      });
      for (let retry = 0; answer.status === 503 && retry < 5; retry++)
        answer = await t.api('POST', `/v2/datasets/${datasetId}/items`, token, [{ m: marker }], 15_000, {
          'idempotency-key': key,
        });
      const killed = kills > before;
      results.push({ status: answer.status, ms: answer.ms, killed });
      if (killed) {
        await new Promise<void>((done) =>
          replicaA!.exitCode !== null || replicaA!.signalCode !== null
            ? done()
            : replicaA!.once('exit', () => done()),
        );
        const restartStarted = Date.now();
        await startReplicaA();
        restarts.push(Date.now() - restartStarted);
      }
    }
    armed = false;

    const { rows } = await t.sql.query(
      `SELECT data->>'m' AS m, count(*)::int AS n FROM resources.dataset_item WHERE dataset_id = $1 GROUP BY 1`,
      [datasetId],
    );
    const stored = new Map(rows.map((r) => [r.m as string, r.n as number]));
    const duplicates = markers.filter((m) => (stored.get(m) ?? 0) > 1).length;
    const missing = markers.filter((m) => (stored.get(m) ?? 0) === 0).length;
    const killedResults = results.filter((r) => r.killed);
    console.log(
      `[sigkill] ${kills} SIGKILLs after COMMIT in ${results.length} pushes (${((Date.now() - started) / 1000).toFixed(1)} s); ` +
        `answers of killed pushes: ${JSON.stringify(killedResults.map((r) => r.status))}, ` +
        `${Math.min(...killedResults.map((r) => r.ms))}–${Math.max(...killedResults.map((r) => r.ms))} ms; ` +
        `duplicates ${duplicates}, missing ${missing}; restarts ${Math.min(...restarts)}–${Math.max(...restarts)} ms`,
    );
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(duplicates).toBe(0);
    expect(missing).toBe(0);
    expect(results.every((r) => r.status === 201)).toBe(true);
  }, 300_000);
});
