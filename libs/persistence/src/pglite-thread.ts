import type { PGlite } from '@electric-sql/pglite';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { parentPort, Worker, workerData } from 'node:worker_threads';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
  /**
   * Settles when the database's thread ends: resolves once `stop` ended it, rejects when it ended
   * by itself (a crash). Nothing answers queries after that: the process should end.
   */
  ended: Promise<void>;
}

/**
 * Postgres's WASM runs on V8's baseline compiler (Liftoff) only. By default V8 also recompiles
 * the functions that get hot with its optimising compiler: some 60 MB more resident code soon
 * after start, growing as more of Postgres runs, for no gain measured on PGlite's queries (and
 * initdb takes 30% less CPU without it).
 */
export const BASELINE_WASM_ONLY = '--liftoff-only';

/** The name node-postgres (like libpq) looks for in the socket directory given as `host`. */
const SOCKET_NAME = '.s.PGSQL.5432';
/** sun_path holds 108 bytes on Linux, 104 on macOS (with the terminating NUL). */
const MAX_SOCKET_PATH = 103;

/** Loads the .ts sources in a new thread, as in the process that started it. */
const REGISTER = join(__dirname, '..', '..', '..', 'tools', 'register.js');

/**
 * PGlite (Postgres in WASM) on a thread of its own, served on a Unix socket (see servePglite). Its
 * queries, start and recovery run beside the services' JavaScript instead of taking turns with it
 * on the main thread: a second core for the database, as a Postgres server process has, and a
 * start that loads the services while Postgres starts.
 */
export function startPgliteThread(dataDir: string, maxConnections: number): Promise<EmbeddedPostgres> {
  const worker = new Worker(
    `require(${JSON.stringify(REGISTER)}); require(${JSON.stringify(__filename)}).servePgliteInThisThread();`,
    {
      eval: true,
      workerData: { dataDir, maxConnections },
      execArgv: [],
      // PGlite's JavaScript makes short-lived buffers only: a young generation of 4 MB instead of
      // V8's 16 keeps some 12 MB of heap out of the thread's share of resident memory.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    },
  );
  let stopping = false;
  const ended = new Promise<void>((resolve, reject) => {
    let failure: Error | undefined;
    worker.on('error', (err) => (failure = err));
    worker.on('exit', (code) =>
      stopping
        ? resolve()
        : reject(failure ?? new Error(`The embedded database's thread ended by itself (exit code ${code})`)),
    );
  });
  const stop = async () => {
    if (!stopping) {
      stopping = true;
      worker.postMessage('stop');
      // It answers once PGlite has closed: a clean shutdown, nothing to recover at the next start.
      await Promise.race([new Promise((answered) => worker.once('message', answered)), ended]);
      await worker.terminate();
    }
    return ended;
  };
  return new Promise((resolve, reject) => {
    ended.catch(reject); // before it was ready
    worker.once('message', (message: { url?: string; failed?: string }) => {
      if (message.url) return resolve({ url: message.url, stop, ended });
      stopping = true;
      void worker.terminate();
      reject(new Error(`The embedded database did not start: ${message.failed}`));
    });
  });
}

/** The thread's side of startPgliteThread: serves, answers `stop`. */
export function servePgliteInThisThread(): void {
  const port = parentPort!;
  const { dataDir, maxConnections } = workerData as { dataDir: string; maxConnections: number };
  servePglite(dataDir, maxConnections).then(
    (served) => {
      port.on('message', (message) => {
        if (message === 'stop') void served.stop().finally(() => port.postMessage({ stopped: true }));
      });
      port.postMessage({ url: served.url });
    },
    (err: unknown) =>
      port.postMessage({ failed: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}

/**
 * PGlite persisted in `dataDir` (a data directory already made), served on a Unix socket so that
 * every service uses TypeORM's ordinary `postgres` driver. The socket server multiplexes
 * connections and keeps each transaction on its own connection.
 *
 * PGlite accepts any user and password, so only the file system keeps other local users out:
 * the socket is in `dataDir`, which is made the owner's alone (0700, its files 0600), never on
 * a TCP port, which any local user could connect to.
 */
async function servePglite(
  dataDir: string,
  maxConnections: number,
): Promise<Omit<EmbeddedPostgres, 'ended'>> {
  // Loaded here, by the thread that runs it: the main thread has no use for PGlite's code.
  const [{ PGlite }, { PGLiteSocketHandler, PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ]);
  // V8 reads it when it compiles PGlite's WASM module, so before PGlite.create.
  setFlagsFromString(BASELINE_WASM_ONLY);
  const db = await PGlite.create({
    dataDir,
    // All of shared_buffers is resident from the start (initdb's 128 MB made 160 MB of WASM
    // memory resident, 16 MB made 31 MB). One installation's data is far smaller, and pages it
    // evicts stay in the OS's page cache: 8 MB read as fast in the embedded read benchmark
    // (1,458-1,938 req/s against 1,526 with 16 MB) and keep the thread's memory 8 MB smaller.
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=8MB'],
  });
  // initdb's files come out of a tarball as 0666 whatever the umask, Postgres writes its
  // relcache files (pg_internal.init) 0644 at start, a data directory made before this fix has
  // them all: `chmod -R go-rwx` (1000 files: 70 ms, 260 ms when it changes them all). The
  // directory's 0700 keeps out the files it writes later.
  restrictToOwner(dataDir);
  // A data directory whose path is too long for a socket's gets a private (0700) directory
  // of its own under the temporary directory, removed on stop. Never a TCP port.
  const ownSocketDir = Buffer.byteLength(join(dataDir, SOCKET_NAME)) > MAX_SOCKET_PATH;
  const socketDir = ownSocketDir ? mkdtempSync(join(tmpdir(), 'atrium-pg-')) : dataDir;
  const socketPath = join(socketDir, SOCKET_NAME);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(`${socketPath} is too long for a Unix socket; set TMPDIR to a shorter path`);
  }
  // Left by a process that died (the lock of the data directory says no live one uses it).
  rmSync(socketPath, { force: true });
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections });
  keepProtocolExchangesWhole((server as unknown as { queryQueue: QueryQueue }).queryQueue);
  passExchangesAtOnce(PGLiteSocketHandler.prototype as unknown as SocketHandler);
  await server.start();
  const url = `postgres:///postgres?host=${encodeURIComponent(socketDir)}&user=postgres&password=postgres`;
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
      if (ownSocketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/** Takes group's and others' permissions off everything under `dir` (`chmod -R go-rwx`). */
export function restrictToOwner(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    const mode = lstatSync(path).mode & 0o777;
    if (mode & 0o077) chmodSync(path, mode & 0o700);
    if (entry.isDirectory()) restrictToOwner(path);
  }
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(err: unknown): void;
  onData(data: Uint8Array): void;
}
interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

/** Message types that end an exchange: Sync, simple Query, Terminate, startup (0) and password. */
const EXCHANGE_ENDS = new Set([0x53, 0x51, 0x58, 0x00, 0x70]);
/** Terminate: PGlite answers it by itself (nothing), so it is never passed with other messages. */
const TERMINATE = 0x58;

/**
 * The type of the last of the whole protocol messages in `bytes` (a startup message, which has
 * no type byte, counts as 0: its first byte, the length's highest, is 0).
 */
function lastMessageType(bytes: Uint8Array): number {
  if (bytes[0] === 0) return 0;
  let at = 0;
  let type = bytes[0];
  while (at < bytes.length) {
    type = bytes[at];
    at += 1 + ((bytes[at + 1] << 24) | (bytes[at + 2] << 16) | (bytes[at + 3] << 8) | bytes[at + 4]);
  }
  return type;
}

/**
 * pglite-socket multiplexes connections onto PGlite's single session one protocol message at a
 * time, keeping a connection's turn only inside a transaction. node-postgres sends every
 * parameterised query as Parse/Bind/Execute/Sync, so two connections interleaving those
 * overwrite each other's unnamed statement ("unnamed prepared statement does not exist").
 * This keeps each connection's turn from its first message to the Sync (or the end of its
 * transaction), which makes concurrent pools safe.
 */
function keepProtocolExchangesWhole(queue: QueryQueue): void {
  let holder: number | null = null;
  const clear = queue.clearQueueForHandler.bind(queue);
  queue.clearQueueForHandler = (handlerId: number) => {
    if (holder === handlerId) holder = null;
    clear(handlerId);
  };
  queue.processQueue = async () => {
    if (queue.processing) return;
    queue.processing = true;
    try {
      while (queue.queue.length > 0) {
        const owner = holder ?? (queue.db.isInTransaction() ? queue.lastHandlerId : null);
        const index = owner === null ? 0 : queue.queue.findIndex((q) => q.handlerId === owner);
        if (index === -1) break; // the owner's next message has not arrived yet
        const [item] = queue.queue.splice(index, 1);
        let bytes = 0;
        try {
          await queue.db.runExclusive(() =>
            queue.db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
        } catch (err) {
          holder = null;
          item.reject(err);
          continue;
        }
        // An item holds one message or several of one exchange (passExchangesAtOnce).
        holder = EXCHANGE_ENDS.has(lastMessageType(item.message)) ? null : item.handlerId;
        queue.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      queue.processing = false;
    }
  };
}

interface SocketHandler {
  id: number;
  socket: import('node:net').Socket | null;
  active: boolean;
  messageBuffer: Buffer;
  queryQueue: {
    db: PGlite;
    enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
  };
  handleSslRequest(): boolean;
  handleCancelRequest(): boolean;
  dispatchEvent(event: Event): boolean;
  handleData(data: Buffer): Promise<number>;
}

/**
 * The length of the run of whole messages at the head of `buffer` that PGlite may take at once:
 * up to and including the first that ends an exchange; a startup message or a Terminate alone;
 * 0 while the first message is incomplete.
 */
function wholeMessagesAtHead(buffer: Buffer): number {
  if (buffer.length >= 8 && buffer.readInt32BE(4) === 196608) {
    const length = buffer.readInt32BE(0); // startup: length, protocol 3.0, parameters
    return buffer.length >= length ? length : 0;
  }
  let end = 0;
  while (buffer.length - end >= 5) {
    const type = buffer[end];
    const next = end + 1 + buffer.readInt32BE(end + 1);
    if (next > buffer.length) break;
    if (type === TERMINATE) return end > 0 ? end : next;
    end = next;
    if (EXCHANGE_ENDS.has(type)) break;
  }
  return end;
}

/** The answer to a Parse: ParseComplete. */
const PARSE_COMPLETE = new Uint8Array([0x31, 0, 0, 0, 4]);

/** Statements prepared by name in each PGlite's one session, by name: their text. */
const preparedStatements = new WeakMap<PGlite, Map<string, string>>();
function sessionStatements(db: PGlite): Map<string, string> {
  let statements = preparedStatements.get(db);
  if (!statements) preparedStatements.set(db, (statements = new Map()));
  return statements;
}

/** The name, text and length of the Parse message that `messages` start with, when it names its statement. */
function namedParse(messages: Uint8Array): { name: string; text: string; length: number } | null {
  if (messages[0] !== 0x50 || messages.length < 5) return null;
  const buffer = Buffer.from(messages.buffer, messages.byteOffset, messages.byteLength);
  const length = 1 + buffer.readInt32BE(1);
  const nameEnd = buffer.indexOf(0, 5);
  if (nameEnd <= 5 || nameEnd >= length) return null; // the unnamed statement
  const textEnd = buffer.indexOf(0, nameEnd + 1);
  if (textEnd === -1 || textEnd >= length) return null;
  // The parameter types follow the text: a statement is the same only with the same types.
  return {
    name: buffer.toString('utf8', 5, nameEnd),
    text: buffer.toString('latin1', nameEnd + 1, length),
    length,
  };
}

/**
 * pglite-socket passes each protocol message to PGlite on its own and writes each one's answer
 * to the socket on its own: a query (Parse, Bind, Describe, Execute, Sync) made five trips
 * through the queue, five calls into PGlite and five socket writes each way. PGlite runs every
 * message of what it is given in order, exactly as one by one, so the whole messages received
 * up to an exchange's end go in one call, and their answers out in one write. (SSL and cancel
 * requests are answered as pglite-socket does; socket errors end the connection there too.)
 *
 * Every connection shares PGlite's one session, so a statement that one connection prepared by
 * name (`preparedQuery`) exists for all: another connection's Parse of the same name and the
 * same text (and parameter types) is answered ParseComplete here instead of failing as a
 * duplicate, and the statement is planned once for the process instead of on every call. A
 * Parse of a known name with another text goes through (and fails as PostgreSQL fails it).
 */
function passExchangesAtOnce(handler: SocketHandler): void {
  handler.handleData = async function handleData(this: SocketHandler, data: Buffer) {
    if (!this.socket || !this.active) return 0;
    this.messageBuffer = this.messageBuffer.length ? Buffer.concat([this.messageBuffer, data]) : data;
    let outgoing = 0;
    while (this.messageBuffer.length > 0) {
      if (this.handleSslRequest() || this.handleCancelRequest()) continue;
      const length = wholeMessagesAtHead(this.messageBuffer);
      if (length === 0 || !this.active || !this.socket) break;
      let messages = new Uint8Array(this.messageBuffer.subarray(0, length));
      this.messageBuffer = this.messageBuffer.subarray(length);
      const write = (answer: Uint8Array) => {
        if (answer.length > 0 && this.socket?.writable && this.active) this.socket.write(Buffer.from(answer));
        outgoing += answer.length;
      };
      const parse = namedParse(messages);
      const statements = sessionStatements(this.queryQueue.db);
      const prepared = parse !== null && statements.get(parse.name) === parse.text;
      if (prepared) {
        // Prepared in the session already (by another connection): answered here.
        messages = messages.subarray(parse.length);
        if (messages.length === 0) {
          write(PARSE_COMPLETE);
          continue;
        }
      }
      let first = true;
      // PGlite hands over its answer when it flushes, once at the end of a call unless it is large.
      await this.queryQueue.enqueue(this.id, messages, (answer) => {
        if (first && prepared) write(PARSE_COMPLETE);
        else if (first && parse && answer[0] === PARSE_COMPLETE[0] && !statements.has(parse.name)) {
          statements.set(parse.name, parse.text);
        }
        first = false;
        write(answer);
      });
    }
    this.dispatchEvent(new CustomEvent('data', { detail: { incoming: data.length, outgoing } }));
    return outgoing;
  };
}
