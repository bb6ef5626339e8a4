/**
 * Restores a file made by `npm run backup`:
 *   npm run restore -- <file> [--database-url postgres://…] [--force]
 * Target: the PostgreSQL server at --database-url, or else the embedded data directory
 * ATRIUM_DATA_DIR (default ./data). It refuses a data directory Atrium is running on, and a
 * target that already holds data unless --force (which keeps the embedded database it replaces
 * as pglite.replaced-<time>, and drops the server's schemas). All or nothing: one transaction.
 */
import {
  claimEmbeddedDataDir,
  readBackupFileInfo,
  readEmbeddedLock,
  restoreDump,
  startEmbeddedPostgres,
} from '@atrium/persistence';
import { createReadStream, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Paths given on the command line are the user's: npm runs scripts from the package root. */
const fromUser = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);
import { createInterface } from 'node:readline';
import { Client } from 'pg';

const USAGE = 'usage: npm run restore -- <file> [--database-url postgres://…] [--force]';

function parseArgs(argv: string[]): { file: string; databaseUrl?: string; force: boolean } {
  let file: string | undefined;
  let databaseUrl: string | undefined;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--force') force = true;
    else if (a === '--database-url') databaseUrl = argv[++i];
    else if (a.startsWith('--database-url=')) databaseUrl = a.slice('--database-url='.length);
    else if (a.startsWith('-')) throw new Error(`Unknown option ${a} (${USAGE})`);
    else if (file) throw new Error(`One backup file only (${USAGE})`);
    else file = a;
  }
  if (!file) throw new Error(`Which backup file? (${USAGE})`);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('--database-url must be a postgres:// URL');
  }
  return { file: fromUser(file), databaseUrl, force };
}

async function jwtSecretOf(file: string): Promise<string | null> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const l of lines) {
    const m = /^-- atrium-backup: jwt-secret (\S+)$/.exec(l);
    if (m) return (lines.close(), m[1]);
    if (!l.startsWith('--')) break;
  }
  lines.close();
  return null;
}

/** The schemas (and public tables) holding data, which a restore would collide with. */
async function existingData(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT n.nspname || coalesce('.' || c.relname, '') AS name FROM pg_catalog.pg_namespace n
       LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'S', 'p')
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_%'
        AND (n.nspname <> 'public' OR c.oid IS NOT NULL) ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

async function restoreInto(url: string, file: string, force: boolean, label: string): Promise<void> {
  const client = new Client({ connectionString: url, application_name: 'atrium-restore' });
  await client.connect();
  try {
    // A running Atrium keeps serving what it cached (tokens, decisions) from a database replaced
    // under it: refused, --force or not.
    const { rows: sessions } = await client.query<{ name: string; n: number }>(
      `SELECT coalesce(nullif(application_name, ''), 'unnamed') AS name, count(*)::int AS n
         FROM pg_catalog.pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        GROUP BY 1 ORDER BY 1`,
    );
    if (sessions.length) {
      throw new Error(
        `${label} is in use (${sessions.map((s) => `${s.name} ×${s.n}`).join(', ')}); stop Atrium (every service and replica) before restoring into it`,
      );
    }
    const existing = await existingData(client);
    if (existing.length && !force) {
      throw new Error(
        `${label} is not empty (${existing.join(', ')}); restore into an empty one, or pass --force to replace it`,
      );
    }
    if (existing.length) {
      console.log(`--force: dropping ${existing.join(', ')} in ${label}`);
      await client.query('BEGIN');
      for (const name of existing) {
        const [schema, table] = name.split('.');
        const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
        await client.query(
          table
            ? `DROP TABLE IF EXISTS ${q(schema)}.${q(table)} CASCADE`
            : `DROP SCHEMA ${q(schema)} CASCADE`,
        );
      }
      await client.query('COMMIT');
    }
    await restoreDump(client, file);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  // The embedded database it may make is the owner's alone, as Atrium's own (npm start).
  process.umask(0o077);
  const { file, databaseUrl, force } = parseArgs(process.argv.slice(2));
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  const info = await readBackupFileInfo(file);
  const rows = Object.values(info.rows).reduce((a, b) => a + b, 0);
  const started = Date.now();
  const secret = await jwtSecretOf(file);
  if (databaseUrl) {
    const shown = new URL(databaseUrl);
    shown.password = shown.password ? '***' : '';
    await restoreInto(databaseUrl, file, force, `the database ${shown.toString()}`);
    console.log(
      `Restored ${file} (${rows} rows) into ${shown.toString()} in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
    );
    console.log(
      'Run Atrium on it with DATABASE_URL (and AMQP_URL for RabbitMQ): see README "Configuration".',
    );
    if (secret) {
      console.log(
        'Sessions and JWTs were signed with the embedded JWT secret, which is in the backup (its line ' +
          '"-- atrium-backup: jwt-secret …"): set JWT_SECRET to it to keep them valid, or users sign in again.',
      );
    }
    return;
  }
  const dataDir = resolve(process.env.ATRIUM_DATA_DIR || 'data');
  const live = readEmbeddedLock(dataDir);
  if (live)
    throw new Error(`${live.holder} (pid ${live.pid}) is running on ${dataDir}: stop it before restoring`);
  const pgDir = join(dataDir, 'pglite');
  const release = claimEmbeddedDataDir(dataDir, 'npm run restore');
  try {
    if (existsSync(pgDir)) {
      if (!force) {
        throw new Error(
          `${dataDir} already holds an embedded database (${pgDir}); restore into an empty ATRIUM_DATA_DIR, ` +
            'or pass --force to replace it (it is kept as pglite.replaced-<time>)',
        );
      }
      const kept = `${pgDir}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(pgDir, kept);
      console.log(`--force: the database it replaces is kept in ${kept}`);
    }
    try {
      const pg = await startEmbeddedPostgres(pgDir, 2);
      try {
        await restoreInto(pg.url, file, false, `the embedded database in ${dataDir}`);
      } finally {
        await pg.stop();
      }
    } catch (err) {
      rmSync(pgDir, { recursive: true, force: true });
      throw err;
    }
    if (secret) writeFileSync(join(dataDir, 'jwt-secret'), secret, { mode: 0o600 });
  } finally {
    release();
  }
  console.log(
    `Restored ${file} (${rows} rows) into ${dataDir} in ${((Date.now() - started) / 1000).toFixed(1)} s; start Atrium with npm start.`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`restore failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
