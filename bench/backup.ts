/**
 * Backup and restore of the embedded mode, timed: `npm start`'s Atrium with ITEMS dataset items,
 * `npm run backup` while a writer pushes one item at a time (the slowest write during the backup
 * shows how long the dump's snapshot holds PGlite's one session), then `npm run restore` into a
 * new data directory and into a PostgreSQL database:
 *   node -r ./tools/register.js bench/backup.ts        (ITEMS=10000, ADMIN_DATABASE_URL)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { freePort, startEmbedded, stopProcess } from '../apps/atrium/test/test-stack';
import { print } from './lib/log';

const ITEMS = Number(process.env.ITEMS ?? 10_000);
const ADMIN = process.env.ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = resolve(__dirname, '..');

function npmRun(script: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  const started = Date.now();
  return new Promise((done, fail) =>
    execFile(
      'npm',
      ['run', '-s', script, '--', ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
      (err, out, errOut) =>
        err ? fail(new Error(`${script}: ${errOut || out}`)) : done(Date.now() - started),
    ),
  );
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'atrium-bench-backup-'));
  const dataDir = join(work, 'data');
  const atrium = await startEmbedded(dataDir, await freePort(), 300_000);
  const api = async (path: string, init: RequestInit & { token?: string } = {}) => {
    const res = await fetch(`${atrium.url}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ data: Record<string, unknown> }>;
  };
  try {
    const signup = await api('/v2/auth/signup', {
      method: 'POST',
      body: JSON.stringify({
        email: 'alice@example.com',
        username: 'alice',
        password: 'correct horse battery',
      }),
    });
    const token = signup.data.accessToken as string;
    const dataset = (await api('/v2/datasets?name=bench', { method: 'POST', token })).data.id as string;
    for (let n = 0; n < ITEMS; n += 500) {
      const batch = Array.from({ length: Math.min(500, ITEMS - n) }, (_, i) => ({
        url: `https://example.com/products/${n + i}`,
        title: `Product number ${n + i}, with a "quoted" name`,
        price: (n + i) / 100,
        tags: ['new', `t${(n + i) % 10}`],
      }));
      await api(`/v2/datasets/${dataset}/items`, { method: 'POST', token, body: JSON.stringify(batch) });
    }
    let writing = true;
    let backingUp = false;
    let slowest = 0;
    let writes = 0;
    /** Writes that failed (503: waited past the RPC timeout), while the backup ran and otherwise. */
    const failed = { duringBackup: 0, otherwise: 0 };
    const writer = (async () => {
      while (writing) {
        const started = Date.now();
        const during = backingUp;
        try {
          await api(`/v2/datasets/${dataset}/items`, {
            method: 'POST',
            token,
            body: JSON.stringify({ n: writes }),
          });
          writes++;
        } catch {
          if (during || backingUp) failed.duringBackup++;
          else failed.otherwise++;
        }
        if (during) slowest = Math.max(slowest, Date.now() - started);
      }
    })();
    await new Promise((r) => setTimeout(r, 1000));
    const file = join(work, 'backup.sql');
    backingUp = true;
    const backupMs = await npmRun('backup', ['--out', file], { ATRIUM_DATA_DIR: dataDir });
    backingUp = false;
    await new Promise((r) => setTimeout(r, 1000));
    writing = false;
    await writer;
    const size = statSync(file).size;
    const pgliteMs = await npmRun('restore', [file], { ATRIUM_DATA_DIR: join(work, 'restored') });
    const name = `backup_bench_${Date.now()}`;
    const admin = new Client({ connectionString: ADMIN });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(ADMIN);
    url.pathname = `/${name}`;
    try {
      const postgresMs = await npmRun('restore', [file, '--database-url', url.toString()]);
      print(
        JSON.stringify({
          items: ITEMS,
          backupMs,
          bytes: size,
          slowestWriteDuringBackupMs: slowest,
          writes,
          failed,
          pgliteMs,
          postgresMs,
        }),
      );
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  } finally {
    await stopProcess(atrium.child);
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    print(String(err instanceof Error ? err.stack : err));
    process.exit(1);
  },
);
