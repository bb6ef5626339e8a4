/**
 * What one request costs the broker, from its own counters: bytes and socket reads/writes per
 * process connection (`rabbitmqctl list_connections`) across a fixed number of requests, for the
 * baseline's echo and for Atrium's hot authorized read (one grantee, one dataset, one gateway).
 *   BENCH_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/<vhost> npx ts-node … or
 *   node -r ./tools/register.js bench/broker-counts.ts
 * Environment: BENCH_AMQP_URL (a vhost of its own, required), BENCH_DATABASE_URL (admin URL),
 * BENCH_COUNT_REQUESTS (5000), BENCH_CONNECTIONS (16), BENCH_COUNT_ROUNDS (1: baseline then Atrium,
 * alternated this many times), BENCH_PROFILE (as `npm run bench`). rabbitmqctl must be on the PATH, and
 * connections are matched to processes by their local port (`ss -tnp`).
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdtempSync, readFileSync } from 'fs';
import { join } from 'path';
import { bearer, cleanup, dropAtCleanup, group, logDir, waitReady, watchChildren } from './harness';
import { Api } from './lib/api';
import { cpuMsPerRequest, cpuSnapshot, formatCpu } from './lib/cpu';
import { createBenchDatabase, randomSuffix, resetBenchVhost } from './lib/infra';
import { runLoad } from './lib/load';
import { progress, sleep } from './lib/log';
import { freePort } from './lib/processes';
import { buildFixture } from './lib/setup';

const requests = Number(process.env.BENCH_COUNT_REQUESTS) || 5000;
const connections = Number(process.env.BENCH_CONNECTIONS) || 16;
const rounds = Number(process.env.BENCH_COUNT_ROUNDS) || 1;
const adminUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
/** Where the children write their AMQP method counts (bench/lib/amqp-method-counter.js). */
const countDir = mkdtempSync(join(process.env.TMPDIR || '/tmp', 'amqp-counts-'));

interface Counters {
  recvOct: number;
  sendOct: number;
  recvCnt: number;
  sendCnt: number;
}

/** Per process name: the broker's counters of its connections (recv: from the process). */
function brokerCounters(vhost: string): Map<string, Counters> {
  const pids = new Map<number, string>();
  for (const child of group.running()) if (child.pid) pids.set(child.pid, child.name);
  // Local port of each client socket to the broker → its process.
  const owners = new Map<number, string>();
  for (const line of execFileSync('ss', ['-tnpH', 'dport', '=', ':5672']).toString().split('\n')) {
    const port = /127\.0\.0\.1:(\d+)\s+\S+:5672/.exec(line)?.[1];
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (port && pid) owners.set(Number(port), pids.get(Number(pid)) ?? `pid ${pid}`);
  }
  const rows = execFileSync('rabbitmqctl', [
    '-q',
    'list_connections',
    '--no-table-headers',
    'vhost',
    'peer_port',
    'recv_oct',
    'send_oct',
    'recv_cnt',
    'send_cnt',
  ])
    .toString()
    .trim()
    .split('\n');
  const result = new Map<string, Counters>();
  for (const row of rows) {
    const [host, port, recvOct, sendOct, recvCnt, sendCnt] = row.split('\t');
    if (host !== vhost) continue;
    const name = owners.get(Number(port)) ?? `port ${port}`;
    const c = result.get(name) ?? { recvOct: 0, sendOct: 0, recvCnt: 0, sendCnt: 0 };
    c.recvOct += Number(recvOct);
    c.sendOct += Number(sendOct);
    c.recvCnt += Number(recvCnt);
    c.sendCnt += Number(sendCnt);
    result.set(name, c);
  }
  return result;
}

/** Per process name: the AMQP methods it sent and received so far (its own counts). */
async function methodCounts(): Promise<Map<string, Record<string, number>>> {
  // Every child runs with the counter preloaded (NODE_OPTIONS), which handles SIGWINCH.
  const running = group.running();
  for (const child of running) if (child.pid) process.kill(child.pid, 'SIGWINCH');
  await sleep(300);
  const result = new Map<string, Record<string, number>>();
  for (const child of running) {
    try {
      result.set(child.name, JSON.parse(readFileSync(join(countDir, `${child.pid}.json`), 'utf8')));
    } catch {
      // not an AMQP client
    }
  }
  return result;
}

/** Runs `requests` requests and prints what each cost the broker, by process. */
async function counted(label: string, vhost: string, run: () => Promise<number>): Promise<void> {
  await sleep(1500); // heartbeats aside, the broker idles
  const methodsBefore = await methodCounts();
  const before = brokerCounters(vhost);
  const cpuBefore = cpuSnapshot(group.running());
  const started = performance.now();
  const done = await run();
  const seconds = (performance.now() - started) / 1000;
  const cpu = formatCpu(cpuMsPerRequest(cpuBefore, cpuSnapshot(group.running()), done));
  const after = brokerCounters(vhost);
  const methodsAfter = await methodCounts();
  const lines: string[] = [];
  let total = { recv: 0, send: 0 };
  for (const [name, a] of after) {
    const b = before.get(name) ?? { recvOct: 0, sendOct: 0, recvCnt: 0, sendCnt: 0 };
    const d = {
      recvOct: (a.recvOct - b.recvOct) / done,
      sendOct: (a.sendOct - b.sendOct) / done,
      recvCnt: (a.recvCnt - b.recvCnt) / done,
      sendCnt: (a.sendCnt - b.sendCnt) / done,
    };
    if (d.recvOct + d.sendOct < 1) continue;
    total = { recv: total.recv + d.recvOct, send: total.send + d.sendOct };
    lines.push(
      `  ${name.padEnd(18)} to broker ${d.recvOct.toFixed(0).padStart(5)} B in ${d.recvCnt.toFixed(2)} reads; ` +
        `from broker ${d.sendOct.toFixed(0).padStart(5)} B in ${d.sendCnt.toFixed(2)} writes`,
    );
    const mine = methodsAfter.get(name) ?? {};
    const methods = Object.entries(mine)
      .map(([key, value]) => [key, (value - (methodsBefore.get(name)?.[key] ?? 0)) / done] as const)
      .filter(([, value]) => value >= 0.005)
      .map(([key, value]) => `${key} ${value.toFixed(2)}`);
    if (methods.length) lines.push(`    ${methods.join(', ')}`);
  }
  progress(
    `${label}: ${done} requests in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)} req/s); CPU per request ${cpu}; ` +
      `per request, broker received ${total.recv.toFixed(0)} B, sent ${total.send.toFixed(0)} B\n${lines.join('\n')}`,
  );
}

async function main(): Promise<void> {
  const amqpUrl = process.env.BENCH_AMQP_URL;
  const vhost = amqpUrl ? decodeURIComponent(new URL(amqpUrl).pathname.slice(1)) : '';
  if (!amqpUrl || !vhost) throw new Error('BENCH_AMQP_URL with a vhost of its own is required');
  await resetBenchVhost(amqpUrl);
  progress(`logs (and BENCH_PROFILE's profiles) in ${logDir}`);
  process.env.AMQP_COUNT_DIR = countDir;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} -r ${join(__dirname, 'lib', 'amqp-method-counter.js')}`;
  const db = await createBenchDatabase(adminUrl);
  dropAtCleanup(db.drop);
  const env = {
    DATABASE_URL: db.url,
    AMQP_URL: amqpUrl,
    JWT_SECRET: randomBytes(36).toString('base64url'),
    RUN_MIGRATIONS: 'false',
    LOG_LEVEL: 'warn',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
    HOST: '127.0.0.1',
  };
  await group.run('migrate', 'tools/migrate.ts', env, 180_000);
  const [port, basePort] = [await freePort(), await freePort()];
  group.start('echo-service', 'bench/baseline/echo-service.ts', { AMQP_URL: amqpUrl });
  group.start('baseline-gateway', 'bench/baseline/baseline-gateway.ts', {
    AMQP_URL: amqpUrl,
    PORT: String(basePort),
  });
  for (const service of ['identity', 'resources', 'permissions', 'issues'])
    group.start(service, `apps/${service}/src/main.ts`, env);
  group.start('gateway', 'apps/gateway/src/main.ts', { ...env, PORT: String(port) });
  watchChildren();
  const api = new Api(port);
  const baseUrl = `http://127.0.0.1:${basePort}`;
  await Promise.all([waitReady('gateway', api.base), waitReady('baseline-gateway', baseUrl)]);
  const fixture = await buildFixture(api, { pairs: 1, listShares: 1, runId: randomSuffix(6) });
  const hot = fixture.pairs[0];
  const path = `/v2/datasets/${hot.datasetId}`;
  await api.expect(200, 'GET', path, { token: hot.grantee.apiToken });

  let n = 0;
  const load = async (target: string, next: () => { path: string; headers?: Record<string, string> }) => {
    await runLoad({ targets: [target], connections, amount: 500, next }); // warm-up
    return async () => (await runLoad({ targets: [target], connections, amount: requests, next })).responses;
  };
  const echo = await load(baseUrl, () => ({ path: `/bench/echo/${(n++).toString(36)}` }));
  const read = await load(api.base, () => ({ path, headers: bearer(hot.grantee.apiToken) }));
  for (let round = 1; round <= rounds; round++) {
    await counted(`baseline echo (${round})`, vhost, echo);
    await counted(`authorized read, hot (${round})`, vhost, read);
  }
}

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanup();
    process.exit(1);
  });
