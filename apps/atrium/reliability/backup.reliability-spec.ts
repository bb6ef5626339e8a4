import { readBackupFileInfo } from '@atrium/persistence';
import { TEST_ADMIN_DATABASE_URL, TEST_PASSWORD, testServiceConfig, uniqueName } from '@atrium/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { startAtriumStack } from '../src/atrium-stack';
import { freePort, replicaGatewayConfig, startEmbedded, stopProcess } from '../test/test-stack';

const ROOT = resolve(__dirname, '../../..');

/** `npm run <script> -- args` as a user runs it, from the checkout. */
function npmRun(script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string; ms: number }>((done) => {
    const started = Date.now();
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.DATABASE_URL;
    if (!env.ATRIUM_DATA_DIR) delete childEnv.ATRIUM_DATA_DIR;
    execFile(
      'npm',
      ['run', '-s', script, '--', ...args],
      { cwd: ROOT, env: childEnv, timeout: 180_000 },
      (err, stdout, stderr) =>
        done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

interface Http {
  (): ReturnType<typeof request>;
}

/**
 * Backups of the embedded mode (issue 17): `npm run backup` while `npm start`'s Atrium serves
 * writes gives one consistent snapshot; `npm run restore` brings exactly that snapshot back, into
 * a new PGlite data directory and into a PostgreSQL server.
 */
describe('npm run backup / restore (embedded Atrium)', () => {
  const work = mkdtempSync(join(tmpdir(), 'atrium-backup-'));
  const dataDir = join(work, 'data');
  const backupFile = join(work, 'backup.sql');
  let atrium: Awaited<ReturnType<typeof startEmbedded>> | undefined;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  let alice: { accessToken: string; id: string };
  let bobToken: string;
  let apiToken: string;
  let datasetId: string;
  /** Items acknowledged (201) by the API, in push order: item n carries { n }. */
  let acked = 0;
  let snapshotItems = 0;
  const INITIAL = 50;

  const push = (http: Http, n: number) =>
    http().post(`/v2/datasets/${datasetId}/items`).set(auth(alice.accessToken)).send({ n }).expect(201);

  beforeAll(async () => {
    atrium = await startEmbedded(dataDir, await freePort(), 150_000);
    const http: Http = () => request(atrium!.url);
    const signUp = async (username: string) =>
      (
        await http()
          .post('/v2/auth/signup')
          .send({ email: `${username}@example.com`, username, password: TEST_PASSWORD })
          .expect(201)
      ).body.data as { user: { id: string }; accessToken: string };
    const a = await signUp('alice');
    alice = { accessToken: a.accessToken, id: a.user.id };
    bobToken = (await signUp('bob')).accessToken;
    datasetId = (await http().post('/v2/datasets?name=results').set(auth(alice.accessToken)).expect(201)).body
      .data.id;
    for (; acked < INITIAL; acked++) await push(http, acked);
    await http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(auth(alice.accessToken))
      .send({ user: 'bob', permissions: ['READ'] })
      .expect(201);
    apiToken = (
      await http()
        .post('/v2/users/me/tokens')
        .set(auth(alice.accessToken))
        .send({ name: 'backup-test' })
        .expect(201)
    ).body.data.token;
  }, 300_000);

  afterAll(async () => {
    if (atrium) await stopProcess(atrium.child);
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a second Atrium on the same data directory (two PGlites on one directory corrupt it)', async () => {
    await expect(startEmbedded(dataDir, await freePort(), 150_000)).rejects.toThrow(
      `${dataDir} is in use by Atrium (npm start) (pid ${atrium!.child.pid})`,
    );
  }, 180_000);

  it('backs up one snapshot while a writer keeps pushing, in a file only its owner can read', async () => {
    const http: Http = () => request(atrium!.url);
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await push(http, acked);
        acked++;
      }
    })();
    while (acked < INITIAL + 20) await new Promise((r) => setTimeout(r, 50));
    const ackedBefore = acked;
    const backup = await npmRun('backup', ['--out', backupFile], { ATRIUM_DATA_DIR: dataDir });
    const ackedAfter = acked;
    expect(backup).toMatchObject({ code: 0, stderr: '' });
    expect(backup.stdout).toContain(`running Atrium (pid ${atrium!.child.pid})`);
    // Writes go on after the backup.
    while (acked < ackedAfter + 20) await new Promise((r) => setTimeout(r, 50));
    writing = false;
    await writer;

    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    const info = await readBackupFileInfo(backupFile);
    snapshotItems = info.rows['resources.dataset_item'];
    // The snapshot holds every item acknowledged before the backup started, none pushed after it
    // ended, and (checked after the restore) exactly the first `snapshotItems` pushed.
    expect(snapshotItems).toBeGreaterThanOrEqual(ackedBefore);
    expect(snapshotItems).toBeLessThanOrEqual(ackedAfter);
    expect(acked).toBeGreaterThan(snapshotItems);
    const dataset = await http().get(`/v2/datasets/${datasetId}`).set(auth(alice.accessToken)).expect(200);
    expect(dataset.body.data.itemCount).toBe(acked);
    expect(readFileSync(backupFile, 'utf8')).toContain('password hashes, token hashes, signing keys');
    console.log(
      `backup: ${snapshotItems} items (${acked} pushed in all), ${statSync(backupFile).size} bytes, ${backup.ms} ms; ` +
        `${ackedAfter - ackedBefore} writes acknowledged during it`,
    );
  }, 180_000);

  /** The restored installation holds exactly the snapshot, and its users, grants and tokens work. */
  async function expectSnapshot(http: Http): Promise<void> {
    const dataset = await http().get(`/v2/datasets/${datasetId}`).set(auth(alice.accessToken)).expect(200);
    expect(dataset.body.data.itemCount).toBe(snapshotItems);
    const items = await http()
      .get(`/v2/datasets/${datasetId}/items?limit=${snapshotItems + 100}`)
      .set(auth(alice.accessToken))
      .expect(200);
    const ns = (items.body as { n: number }[]).map((i) => i.n).sort((x, y) => x - y);
    expect(ns).toEqual(Array.from({ length: snapshotItems }, (_, i) => i));
    // Password login, the session's JWT (same secret), the API token (its hash) and bob's grant.
    await http().post('/v2/auth/login').send({ login: 'alice', password: TEST_PASSWORD }).expect(200);
    await http().get('/v2/users/me').set(auth(alice.accessToken)).expect(200);
    const me = await http().get('/v2/users/me').set(auth(apiToken)).expect(200);
    expect(me.body.data.id).toBe(alice.id);
    await http().get(`/v2/datasets/${datasetId}`).set(auth(bobToken)).expect(200);
    // Writes work on the restored data (sequences and keys came back too).
    await push(http, -1);
  }

  it('restores into a new embedded data directory: exactly the snapshot, and refuses to overwrite', async () => {
    const target = join(work, 'restored');
    const restore = await npmRun('restore', [backupFile], { ATRIUM_DATA_DIR: target });
    expect(restore).toMatchObject({ code: 0, stderr: '' });
    console.log(`restore into PGlite: ${restore.ms} ms`);
    // Not over a database, and never under a running Atrium.
    const again = await npmRun('restore', [backupFile], { ATRIUM_DATA_DIR: target });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already holds an embedded database');
    expect(again.stderr).toContain('--force');
    const running = await npmRun('restore', [backupFile], { ATRIUM_DATA_DIR: dataDir });
    expect(running.code).not.toBe(0);
    expect(running.stderr).toContain(`(pid ${atrium!.child.pid}) is running on ${dataDir}`);

    const restored = await startEmbedded(target, await freePort(), 150_000);
    try {
      await expectSnapshot(() => request(restored.url));
    } finally {
      await stopProcess(restored.child);
    }
  }, 400_000);

  it('restores into a PostgreSQL server, which the services then run on', async () => {
    const name = `backup_${uniqueName('r')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')}`;
    const admin = new Client({ connectionString: TEST_ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(TEST_ADMIN_DATABASE_URL);
    url.pathname = `/${name}`;
    try {
      const restore = await npmRun('restore', [backupFile, '--database-url', url.toString()]);
      expect(restore).toMatchObject({ code: 0, stderr: '' });
      console.log(`restore into PostgreSQL: ${restore.ms} ms`);
      const refused = await npmRun('restore', [backupFile, '--database-url', url.toString()]);
      expect(refused.stderr).toContain('is not empty (identity, issues, permissions, resources)');
      // The change versions are restored with their triggers: a change still moves them.
      const restored = new Client({ connectionString: url.toString() });
      await restored.connect();
      try {
        const version = async () =>
          (await restored.query(`SELECT sum("version")::text AS v FROM resources.change_version`)).rows[0].v;
        const { rows: triggers } = await restored.query(
          `SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE 'change\\_version\\_%'`,
        );
        expect(triggers[0].n).toBe(16); // 8 tables, each on change and on truncation
        const before = await version();
        await restored.query(
          `UPDATE resources.resource SET modified_at = modified_at WHERE id = (SELECT min(id) FROM resources.resource)`,
        );
        expect(await version()).not.toBe(before);
      } finally {
        await restored.end();
      }

      // The embedded installation's JWT secret, from the backup: sessions signed by it stay valid.
      const secret = /^-- atrium-backup: jwt-secret (\S+)$/m.exec(readFileSync(backupFile, 'utf8'))![1];
      expect(secret).toBe(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim());
      const stack = await startAtriumStack(
        testServiceConfig(url.toString(), { AMQP_URL: '', JWT_SECRET: secret }),
        replicaGatewayConfig({ AMQP_URL: '', JWT_SECRET: secret }),
      );
      try {
        await stack.gateway.getHttpAdapter().getInstance().ready();
        await expectSnapshot(() => request(stack.gateway.getHttpServer()));
        // Replacing the database under a running Atrium is refused, --force or not.
        const inUse = await npmRun('restore', [backupFile, '--database-url', url.toString(), '--force']);
        expect(inUse.code).toBe(1);
        expect(inUse.stderr).toMatch(/is in use \(atrium-/);
        expect(inUse.stderr).toContain('stop Atrium (every service and replica) before restoring into it');
      } finally {
        await stack.close();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, 400_000);

  it('backs up a stopped installation by opening its data directory: every acknowledged item', async () => {
    await stopProcess(atrium!.child);
    atrium = undefined;
    const file = join(work, 'stopped.sql');
    const backup = await npmRun('backup', ['--out', file], { ATRIUM_DATA_DIR: dataDir });
    expect(backup).toMatchObject({ code: 0, stderr: '' });
    expect(backup.stdout).toContain(`stopped Atrium's ${dataDir}`);
    expect((await readBackupFileInfo(file)).rows['resources.dataset_item']).toBe(acked);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 180_000);
});
