import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo, connect, createServer as createTcpServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliResult } from './cli-harness';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'atrium.js');
/** The unmodified Apify SDK + Crawlee Actor of the platform's own end-to-end test. */
export const CRAWLEE_ACTOR = join(
  __dirname,
  '..',
  '..',
  'atrium',
  'test',
  'fixtures',
  'crawlee-actor',
  'main.mjs',
);
/** Records its pid, start and end (as JSON lines) into RECORD_FILE, sleeping SLEEP_MS between. */
export const RECORDING_COMMAND = join(__dirname, 'fixtures', 'record-execution.mjs');

/** The CLI as a subprocess that the test holds (to signal it, or read its output while it runs). */
export interface CliProcess {
  child: ChildProcess;
  result: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
}

/** `atrium …` signed in through ATRIUM_URL / ATRIUM_TOKEN, in a scratch directory of its own. */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const cwd = mkdtempSync(join(tmpdir(), 'atrium-runner-'));
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: cwd,
      ATRIUM_CONFIG_DIR: cwd,
      NO_COLOR: '1',
      CRAWLEE_LOG_LEVEL: 'INFO',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.end();
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, result, stdout: () => stdout, stderr: () => stderr };
}

/** Resolves once `check` holds on the process's output (or rejects with the output so far). */
export async function waitForOutput(cli: CliProcess, check: (all: string) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check(cli.stdout() + cli.stderr())) {
    if (Date.now() > deadline || cli.child.exitCode !== null)
      throw new Error(`the CLI did not print what was awaited:\n${cli.stdout()}\n${cli.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether the process still runs (a zombie, dead but not yet reaped by its new parent, does not). */
export function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A small site of `pages` pages linked to each other, as the SDK + Crawlee spec crawls. */
export async function startSite(pages: number): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const n = Number(/^\/page\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
    if (n < 0 || n >= pages) {
      res.writeHead(404).end('not found');
      return;
    }
    const links = [n + 1, 2 * n, 3 * n + 1].map((to) => `<a href="/page/${to % pages}">p</a>`).join('\n');
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><html><head><title>Page ${n}</title></head><body>${links}</body></html>`);
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * A TCP proxy to `target` that the test can cut (Atrium unreachable from the CLI, as on a lost
 * network), and that holds back what `delayMs` names (a request, by its first bytes), in order.
 */
export async function startProxy(
  target: string,
  delayMs: (chunk: Buffer) => number = () => 0,
): Promise<{ url: string; cut(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    let forwarded = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      const ms = delayMs(chunk);
      forwarded = forwarded
        .then(() => (ms ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : undefined))
        .then(() => void upstream.write(chunk));
    });
    client.on('end', () => void forwarded.then(() => upstream.end()));
    upstream.pipe(client);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: async () => {
      const closed = new Promise((done) => server.close(done));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
