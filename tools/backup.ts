/**
 * A consistent plain-SQL backup of Atrium's database, while Atrium runs or not:
 *   npm run backup [-- --out atrium.sql]
 * Source: DATABASE_URL when set (a PostgreSQL server), else the embedded data directory
 * ATRIUM_DATA_DIR (default ./data): through the running Atrium's PGlite socket (found in the
 * directory's atrium.lock), or, when Atrium is stopped, by opening the directory itself.
 * The file (mode 0600) holds every row, password and token hashes included. See README "Backups".
 */
import {
  claimEmbeddedDataDir,
  dumpDatabase,
  readEmbeddedLock,
  startEmbeddedPostgres,
} from '@atrium/persistence';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Paths given on the command line are the user's: npm runs scripts from the package root. */
const fromUser = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);
import { Client } from 'pg';

interface Source {
  url: string;
  label: string;
  header: string[];
  close(): Promise<void>;
}

async function openSource(): Promise<Source> {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, label: 'DATABASE_URL', header: [], close: async () => undefined };
  }
  const dataDir = resolve(process.env.ATRIUM_DATA_DIR || 'data');
  const secretFile = join(dataDir, 'jwt-secret');
  // The embedded installation's JWT secret: with it, sessions and JWTs stay valid after a restore.
  const header = existsSync(secretFile)
    ? [`atrium-backup: jwt-secret ${readFileSync(secretFile, 'utf8').trim()}`]
    : [];
  const live = readEmbeddedLock(dataDir);
  if (live) {
    if (!live.databaseUrl)
      throw new Error(`${dataDir} is in use by ${live.holder} (pid ${live.pid}); try again later`);
    return {
      url: live.databaseUrl,
      label: `running Atrium (pid ${live.pid}) on ${dataDir}`,
      header,
      close: async () => undefined,
    };
  }
  if (!existsSync(join(dataDir, 'pglite', 'PG_VERSION'))) {
    throw new Error(
      `${dataDir} holds no embedded database (no pglite/PG_VERSION); set ATRIUM_DATA_DIR or DATABASE_URL`,
    );
  }
  const release = claimEmbeddedDataDir(dataDir, 'npm run backup');
  try {
    const pg = await startEmbeddedPostgres(join(dataDir, 'pglite'), 2);
    return {
      url: pg.url,
      label: `stopped Atrium's ${dataDir}`,
      header,
      async close() {
        await pg.stop();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

function outPath(argv: string[]): string {
  const i = argv.findIndex((a) => a === '--out' || a.startsWith('--out='));
  const unknown = argv.filter((a, j) => j !== i && !(i >= 0 && j === i + 1 && !argv[i].includes('=')));
  if (unknown.length)
    throw new Error(`Unknown argument(s): ${unknown.join(' ')} (usage: npm run backup [-- --out file])`);
  const out = i < 0 ? undefined : argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  if (i >= 0 && !out) throw new Error('--out needs a file name');
  return fromUser(out ?? `atrium-backup-${new Date().toISOString().replace(/[:.]/g, '-')}.sql`);
}

async function main(): Promise<void> {
  const out = outPath(process.argv.slice(2));
  if (existsSync(out)) throw new Error(`${out} exists; choose another --out`);
  const started = Date.now();
  const source = await openSource();
  const partial = `${out}.partial`;
  const fd = openSync(partial, 'w', 0o600);
  try {
    const client = new Client({ connectionString: source.url, application_name: 'atrium-backup' });
    await client.connect();
    try {
      let pending: string[] = [];
      let size = 0;
      const flush = () => {
        writeSync(fd, pending.join(''));
        pending = [];
        size = 0;
      };
      const summary = await dumpDatabase(
        client,
        (chunk) => {
          pending.push(chunk);
          size += chunk.length;
          if (size > 1 << 20) flush();
        },
        { header: source.header },
      );
      flush();
      closeSync(fd);
      renameSync(partial, out);
      const rows = Object.values(summary.rows).reduce((a, b) => a + b, 0);
      console.log(
        `Backup of the ${source.label} written to ${out}: ${summary.tables} tables, ${rows} rows, ` +
          `${summary.bytes} bytes, in ${((Date.now() - started) / 1000).toFixed(1)} s (one snapshot; ` +
          'rows per table at the end of the file). It holds password and token hashes: keep it secret.',
      );
    } finally {
      await client.end();
    }
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(partial, { force: true });
    throw err;
  } finally {
    await source.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`backup failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
