import { SERVICES, ServiceName } from '@atrium/contracts';
import { identityDataSourceOptions } from '@atrium/identity';
import { issuesDataSourceOptions } from '@atrium/issues';
import { contractSteps, recordUpStatements, ServiceDataSourceOptions } from '@atrium/persistence';
import { permissionsDataSourceOptions } from '@atrium/permissions';
import { resourcesDataSourceOptions } from '@atrium/resources';
import {
  createTestDatabase,
  resetBroker,
  TEST_AMQP_URL,
  TEST_JWT_SECRET,
  testSqlPool,
  TestDatabase,
  uniqueName,
} from '@atrium/testing';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { MigrationInterface } from 'typeorm';

/**
 * Rolling upgrades (README): migrations are expand-then-contract, so the previous release keeps
 * working on the new schema while the new release's pods roll out. This test takes the previous
 * release (its commit in deploy/previous-release) out of git, migrates a fresh database to it
 * with its own migrations, applies this checkout's migrations on top (as the migrate Job does at
 * an upgrade), then runs the previous release's services and gateway — its own code, its own
 * tools/register.js — on that database and drives a sharing story through its gateway.
 * The migrations added since that release are also checked statically for contract steps.
 */
const ROOT = join(__dirname, '..', '..', '..');
const RELEASE_FILE = join(ROOT, 'deploy', 'previous-release');
const ALLOW_LIST_FILE = join(ROOT, 'deploy', 'contract-migrations.json');
const START_TIMEOUT_MS = 150_000;
const REQUEST_TIMEOUT_MS = 15_000;

const DATA_SOURCES: Record<ServiceName, (url: string) => ServiceDataSourceOptions> = {
  identity: identityDataSourceOptions,
  resources: resourcesDataSourceOptions,
  permissions: permissionsDataSourceOptions,
  issues: issuesDataSourceOptions,
};

/** The previous release's commit: the first line of deploy/previous-release that is not a comment. */
function previousRelease(): string {
  const line = readFileSync(RELEASE_FILE, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  if (!line || !/^[0-9a-f]{7,40}$/.test(line)) throw new Error(`${RELEASE_FILE} names no commit`);
  return line;
}

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Fails loudly (never skips): without the previous release there is nothing to check against. */
function requireInHistory(commit: string): void {
  try {
    git(['cat-file', '-e', `${commit}^{commit}`]);
    git(['merge-base', '--is-ancestor', commit, 'HEAD']);
  } catch {
    throw new Error(
      `The previous release ${commit} (deploy/previous-release) is not in this checkout's git history, so ` +
        'the previous release cannot be run against the new schema. A shallow clone lacks it: fetch the ' +
        'history (git fetch --unshallow) or, if a new release landed, move deploy/previous-release to it.',
    );
  }
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

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

interface Answer {
  status: number;
  body: any;
}

describe('rolling upgrade: the previous release on the new schema', () => {
  const release = previousRelease();
  const output: string[] = [];
  const children: ChildProcess[] = [];
  let oldTree: string;
  let db: TestDatabase;
  let base: string;
  let env: NodeJS.ProcessEnv;
  const migrations = { before: new Set<string>(), added: [] as string[] };
  const started = Date.now();
  const timings: Record<string, number> = {};

  /** A tool of a tree (the previous release's or this checkout's), with that tree's own register.js. */
  function run(tree: string, script: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn(
      process.execPath,
      ['-r', join(tree, 'tools', 'register.js'), join(tree, script), ...args],
      {
        cwd: tree,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const label = `${tree === ROOT ? 'new' : 'old'} ${args[0] ?? script}`;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        output.push(`[${label}] ${line}`);
        if (output.length > 3000) output.shift();
      });
    }
    return child;
  }

  async function migrate(tree: string): Promise<void> {
    const child = run(tree, 'tools/migrate.ts', []);
    if (!(await exited(child, START_TIMEOUT_MS)) || child.exitCode !== 0)
      throw new Error(`migrations of ${tree} failed:\n${output.slice(-30).join('\n')}`);
  }

  async function appliedMigrations(): Promise<string[]> {
    const pool = testSqlPool(db.url);
    try {
      const names: string[] = [];
      for (const service of SERVICES) {
        const { rows } = await pool.query(
          `SELECT name FROM "${service}"."${service}_migrations" ORDER BY id`,
        );
        names.push(...rows.map((r: { name: string }) => r.name));
      }
      return names;
    } finally {
      await pool.end();
    }
  }

  function consuming(child: ChildProcess, service: string): Promise<void> {
    return new Promise((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`old ${service} not consuming in time`)),
        START_TIMEOUT_MS,
      );
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (/service is consuming/.test(line)) {
          clearTimeout(timer);
          done();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`old ${service} exited with ${code}:\n${output.slice(-40).join('\n')}`));
      });
    });
  }

  async function api(method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
    const res = await fetch(base + path, {
      method,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((err: Error) => {
      // Say which process of the previous release went away, and what it said.
      const exits = children.map((c) => `${c.pid}: ${c.exitCode ?? c.signalCode ?? 'running'}`).join(', ');
      throw new Error(
        `${method} ${path}: ${err.message} (${String(err.cause)}); processes ${exits}\n${output.slice(-40).join('\n')}`,
      );
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async function expectStatus(answer: Promise<Answer>, status: number): Promise<any> {
    const { status: got, body } = await answer;
    expect({ status: got, body }).toMatchObject({ status });
    return body;
  }

  beforeAll(async () => {
    requireInHistory(release);
    db = await createTestDatabase();
    await resetBroker(TEST_AMQP_URL);
    env = {
      ...process.env,
      NODE_OPTIONS: '',
      DATABASE_URL: db.url,
      AMQP_URL: TEST_AMQP_URL,
      JWT_SECRET: TEST_JWT_SECRET,
      RPC_TIMEOUT_MS: '5000',
      DB_POOL_SIZE: '3',
      AUTH_RATE_LIMIT_PER_MINUTE: '1000',
      LOG_LEVEL: 'log',
      NO_COLOR: '1',
    };

    // The previous release's tree, with this checkout's dependencies.
    let t = Date.now();
    oldTree = mkdtempSync(join(tmpdir(), 'atrium-previous-release-'));
    execFileSync('sh', ['-c', `git archive ${release} | tar -x -C "${oldTree}"`], { cwd: ROOT });
    symlinkSync(join(ROOT, 'node_modules'), join(oldTree, 'node_modules'), 'dir');
    timings.extract = Date.now() - t;

    // The database as the previous release left it, then this release's migrations (the expand step).
    t = Date.now();
    await migrate(oldTree);
    migrations.before = new Set(await appliedMigrations());
    await migrate(ROOT);
    migrations.added = (await appliedMigrations()).filter((name) => !migrations.before.has(name));
    timings.migrate = Date.now() - t;

    // The previous release's services and gateway, with their own code, on the migrated database.
    t = Date.now();
    await Promise.all(
      SERVICES.map((service) => {
        const child = run(oldTree, 'tools/start-service.ts', [service], { RUN_MIGRATIONS: 'false' });
        children.push(child);
        return consuming(child, service);
      }),
    );
    // The port is taken just before the gateway binds it, and only its own line says it did (on a
    // shared machine another process may take a free port in between: the gateway then exits).
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const consoleDir = join(ROOT, 'dist', 'console');
    const gateway = run(oldTree, 'tools/start-service.ts', ['gateway'], {
      PORT: String(port),
      HOST: '127.0.0.1',
      ...(existsSync(consoleDir) && { CONSOLE_DIR: consoleDir }),
    });
    children.push(gateway);
    await new Promise<void>((done, fail) => {
      createInterface({ input: gateway.stdout! }).on('line', (line) => {
        if (line.includes(`listening on http://127.0.0.1:${port}`)) done();
      });
      gateway.once('exit', (code) =>
        fail(new Error(`old gateway exited with ${code}:\n${output.slice(-40).join('\n')}`)),
      );
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const ready = await api('GET', '/health/ready').catch(() => ({ status: 0, body: null }));
      if (ready.status === 200) break;
      if (Date.now() > deadline) throw new Error(`old gateway not ready:\n${output.slice(-40).join('\n')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    timings.start = Date.now() - t;
  }, 600_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    for (const child of children) if (!(await exited(child, 15_000))) child.kill('SIGKILL');
    await db?.drop();
    if (oldTree) rmSync(oldTree, { recursive: true, force: true });
    console.log(
      `rolling upgrade vs ${release}: ${migrations.before.size} migrations of the previous release, ` +
        `${migrations.added.length} added since (${migrations.added.join(', ') || 'none'}); ` +
        `extract ${timings.extract} ms, migrate ${timings.migrate} ms, start ${timings.start} ms, ` +
        `story ${timings.story} ms, total ${Date.now() - started} ms`,
    );
  }, 60_000);

  it('serves a sharing story through the previous release on the new schema', async () => {
    const t = Date.now();
    const signUp = async (prefix: string) => {
      const username = uniqueName(prefix);
      const body = await expectStatus(
        api('POST', '/v2/auth/signup', undefined, {
          email: `${username}@example.com`,
          username,
          password: 'correct horse battery',
        }),
        201,
      );
      return { username, token: body.data.accessToken as string };
    };
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const dataset = await expectStatus(
      api('POST', `/v2/datasets?name=${uniqueName('up')}`, alice.token),
      201,
    );
    const datasetId = dataset.data.id as string;
    await expectStatus(
      api('POST', `/v2/datasets/${datasetId}/items`, alice.token, [{ n: 1 }, { n: 2 }]),
      201,
    );
    // Not shared yet: bob may read it by its id (the default general access), not write to it.
    await expectStatus(api('POST', `/v2/datasets/${datasetId}/items`, bob.token, { n: 3 }), 403);
    const grant = await expectStatus(
      api('POST', `/v2/datasets/${datasetId}/access/grants`, alice.token, {
        user: bob.username,
        permissions: ['WRITE'],
      }),
      201,
    );
    await expectStatus(api('POST', `/v2/datasets/${datasetId}/items`, bob.token, { n: 3 }), 201);
    const read = await expectStatus(api('GET', `/v2/datasets/${datasetId}/items`, bob.token), 200);
    expect(read.map((i: { n: number }) => i.n)).toEqual([1, 2, 3]);
    // A key-value store and a record, read back (another table and another RPC path).
    const store = await expectStatus(
      api('POST', `/v2/key-value-stores?name=${uniqueName('kv')}`, alice.token),
      201,
    );
    await expectStatus(
      api('PUT', `/v2/key-value-stores/${store.data.id}/records/greeting`, alice.token, { hello: 'world' }),
      201,
    );
    expect(
      await expectStatus(
        api('GET', `/v2/key-value-stores/${store.data.id}/records/greeting`, alice.token),
        200,
      ),
    ).toEqual({ hello: 'world' });
    // Revoking (an event to the permissions service and back to the gateway) denies again.
    await expectStatus(
      api('DELETE', `/v2/datasets/${datasetId}/access/grants/${grant.data.id}`, alice.token),
      204,
    );
    await expectStatus(api('POST', `/v2/datasets/${datasetId}/items`, bob.token, { n: 4 }), 403);
    const all = await expectStatus(api('GET', `/v2/datasets/${datasetId}/items`, alice.token), 200);
    expect(all.map((i: { n: number }) => i.n)).toEqual([1, 2, 3]);
    timings.story = Date.now() - t;
    // No process of the previous release died on the way.
    expect(children.filter((c) => c.exitCode !== null).length).toBe(0);
  }, 120_000);

  it('added no contract step since the previous release (unless allowed, with a reason)', async () => {
    const allowed = new Map(
      (
        JSON.parse(readFileSync(ALLOW_LIST_FILE, 'utf8')).allowed as { migration: string; reason: string }[]
      ).map((a) => [a.migration, a.reason]),
    );
    for (const [migration, reason] of allowed)
      expect({ migration, reason: reason.length > 10 }).toEqual({ migration, reason: true });
    const steps = [];
    const checked: string[] = [];
    for (const service of SERVICES) {
      const list = DATA_SOURCES[service]('postgres://unused/unused')
        .migrations as (new () => MigrationInterface)[];
      for (const Migration of list) {
        const migration = new Migration();
        const name = migration.name ?? Migration.name;
        if (migrations.before.has(name)) continue;
        checked.push(name);
        steps.push(...contractSteps(name, await recordUpStatements(migration)));
      }
    }
    // Every migration the database got since the previous release was checked here.
    expect(checked.sort()).toEqual([...migrations.added].sort());
    expect(steps.filter((s) => !allowed.has(s.migration))).toEqual([]);
  });

  it('changed no migration the previous release shipped', () => {
    const changed = git([
      'diff',
      '--name-only',
      '--diff-filter=MDR',
      release,
      '--',
      'apps/*/src/database/migrations/*-*.ts',
    ])
      .split('\n')
      .filter(Boolean);
    expect(changed).toEqual([]);
  });
});
