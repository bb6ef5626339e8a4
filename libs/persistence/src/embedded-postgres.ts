import { execFile } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  cpSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BASELINE_WASM_ONLY, EmbeddedPostgres, restrictToOwner, startPgliteThread } from './pglite-thread';

export type { EmbeddedPostgres } from './pglite-thread';

/**
 * The embedded database: PGlite persisted in `dataDir` (made on first use: a copy of the pristine
 * data directory), on a thread of its own, served on a Unix socket in `dataDir` (see
 * pglite-thread.ts).
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections = 40): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initDataDir(dataDir);
  return startPgliteThread(dataDir, maxConnections);
}

/** PGlite's version: a new data directory is a copy of the pristine one this version made. */
function pgliteVersion(): string {
  const pkg = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** Where the pristine data directories are kept (the repository's dist/, like the console's build). */
const PRISTINE_ROOT = join(__dirname, '..', '..', '..', 'dist', 'pglite');

/**
 * A pristine data directory of the installed PGlite (initdb's output, shut down cleanly, the
 * owner's alone), made once; null when it cannot be kept (a read-only install). initdb takes some
 * 4 s of CPU and 750 MB; a copy of its output takes a tenth of a second, and is the same database
 * (only pg_control's system identifier, which nothing here reads, is shared between copies).
 */
export async function pristineDataDir(): Promise<string | null> {
  const dir = join(PRISTINE_ROOT, pgliteVersion());
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  const temp = `${dir}.${process.pid}.tmp`;
  try {
    mkdirSync(temp, { recursive: true, mode: 0o700 });
    await initDataDirInChildProcess(temp);
    restrictToOwner(temp);
    renameSync(temp, dir);
  } catch {
    rmSync(temp, { recursive: true, force: true });
  }
  // Another process may have made it meanwhile (then the rename failed and its copy is used).
  return existsSync(join(dir, 'PG_VERSION')) ? dir : null;
}

/**
 * Makes `dataDir` a new database: a copy of the pristine data directory, its PG_VERSION (by which
 * a data directory is known to be made) copied last; initdb in it when there is no pristine one.
 */
async function initDataDir(dataDir: string): Promise<void> {
  const pristine = await pristineDataDir();
  if (!pristine) return initDataDirInChildProcess(dataDir);
  const marker = join(pristine, 'PG_VERSION');
  cpSync(pristine, dataDir, { recursive: true, filter: (source) => source !== marker });
  copyFileSync(marker, join(dataDir, 'PG_VERSION'));
}

/**
 * Creates a new data directory (initdb) in a short-lived node process. In-process, PGlite runs
 * initdb in a second Postgres instance and copies its files over as a tarball: some 450 MB of
 * WASM memory and buffers that V8 frees only at some later full GC and that leave the malloc
 * heap fragmented, which more than doubled the resident memory of a first start.
 */
async function initDataDirInChildProcess(dataDir: string): Promise<void> {
  const script =
    'require(process.argv[1]).PGlite.create({ dataDir: process.argv[2] }).then((db) => db.close())';
  const pglite = require.resolve('@electric-sql/pglite');
  await promisify(execFile)(process.execPath, [BASELINE_WASM_ONLY, '-e', script, pglite, dataDir]);
}
/** The file by which the process using an embedded data directory says so, and where its database is served. */
export const EMBEDDED_LOCK_FILE = 'atrium.lock';

export interface EmbeddedLock {
  pid: number;
  /** The URL of the process's PGlite socket (a Unix socket in the data directory); absent while a tool (backup, restore) holds it. */
  databaseUrl?: string;
  holder: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock of the live process using `dataDir` (ATRIUM_DATA_DIR), or null when none does. */
export function readEmbeddedLock(dataDir: string): EmbeddedLock | null {
  // Not a lock someone else wrote (backup would dump the database its URL names).
  assertOwnDataDir(dataDir);
  const file = join(dataDir, EMBEDDED_LOCK_FILE);
  let lock: EmbeddedLock;
  try {
    lock = JSON.parse(readFileSync(file, 'utf8')) as EmbeddedLock;
  } catch {
    return null;
  }
  return Number.isInteger(lock.pid) && lock.pid !== process.pid && alive(lock.pid) ? lock : null;
}

/** What of a data directory holds secrets or is written to: checked with the directory itself. */
const DATA_DIR_ENTRIES = ['pglite', 'jwt-secret', 'mail', EMBEDDED_LOCK_FILE];

/** A start refused for a reason the user can fix: the launcher says it in one line, without a stack. */
export class StartRefused extends Error {}

/**
 * Refuses a data directory that another local user owns, or whose database, JWT secret, mail or
 * lock is another user's or a symbolic link: in a shared place (`/tmp`) one could have made it
 * first, to read the mail written there, plant the JWT secret, or point the mail elsewhere. And
 * one under a directory another user owns or may write to (save a sticky one, as `/tmp`): that
 * user could swap the data directory for one of theirs while Atrium runs. Nothing to check while
 * it does not exist.
 */
export function assertOwnDataDir(dataDir: string): void {
  const uid = process.getuid?.();
  if (uid === undefined || !existsSync(dataDir)) return; // no owners to compare (Windows)
  const refuse = (what: string): never => {
    throw new StartRefused(`${what}; use a directory of your own for ATRIUM_DATA_DIR`);
  };
  const owner = statSync(dataDir).uid;
  if (owner !== uid) refuse(`${dataDir} belongs to another user (uid ${owner})`);
  // Above the path as given (a symbolic link's own directory) and above where it leads.
  const above = new Set<string>();
  for (const path of [resolve(dataDir), realpathSync(dataDir)])
    for (let dir = dirname(path); !above.has(dir); dir = dirname(dir)) above.add(dir);
  for (const dir of above) {
    const { uid: dirOwner, mode } = statSync(dir);
    if (dirOwner !== uid && dirOwner !== 0)
      refuse(`${dir}, above ${dataDir}, belongs to another user (uid ${dirOwner})`);
    if (mode & 0o022 && !(mode & 0o1000)) refuse(`${dir}, above ${dataDir}, may be written by other users`);
  }
  for (const name of DATA_DIR_ENTRIES) {
    const path = join(dataDir, name);
    let entry;
    try {
      entry = lstatSync(path);
    } catch {
      continue; // not made yet
    }
    if (entry.isSymbolicLink()) refuse(`${path} is a symbolic link`);
    if (entry.uid !== uid) refuse(`${path} is another user's (uid ${entry.uid})`);
  }
}

/**
 * Claims `dataDir` for this process (PGlite is one process's: two on one directory corrupt it).
 * Fails naming the live holder; a lock left by a process that died is taken over. Returns the
 * release function (which `stop` of the claimed process calls).
 */
export function claimEmbeddedDataDir(dataDir: string, holder: string, databaseUrl?: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  assertOwnDataDir(dataDir);
  const file = join(dataDir, EMBEDDED_LOCK_FILE);
  const lock: EmbeddedLock = { pid: process.pid, holder, ...(databaseUrl ? { databaseUrl } : {}) };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeFileSync(fd, JSON.stringify(lock));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const live = readEmbeddedLock(dataDir);
      if (live) {
        throw new StartRefused(
          `${dataDir} is in use by ${live.holder} (pid ${live.pid}); stop it first, or use another ATRIUM_DATA_DIR ` +
            `(if that process is not Atrium, delete ${file})`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  return () => {
    const current = readFileSafe(file);
    if (current && (JSON.parse(current) as EmbeddedLock).pid === process.pid) rmSync(file, { force: true });
  };
}

/** Records the database URL in this process's lock of `dataDir`. */
export function updateEmbeddedLock(dataDir: string, databaseUrl: string): void {
  const file = join(dataDir, EMBEDDED_LOCK_FILE);
  const lock = JSON.parse(readFileSync(file, 'utf8')) as EmbeddedLock;
  writeFileSync(file, JSON.stringify({ ...lock, databaseUrl }), { mode: 0o600 });
}

function readFileSafe(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
