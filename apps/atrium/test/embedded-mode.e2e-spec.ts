import { EMBEDDED_LOCK_FILE, type EmbeddedLock } from '@atrium/persistence';
import { uniqueName } from '@atrium/testing';
import type { ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { freePort, startEmbedded, stopProcess as stop } from './test-stack';

/** The TCP ports a process listens on (Linux: its socket inodes matched against /proc/net/tcp*). */
function listeningTcpPorts(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined; // closed meanwhile
        }
      })
      .filter((inode): inode is string => inode !== undefined),
  );
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex, st 0A is LISTEN, the inode is the 10th column.
      if (cols[3] === '0A' && inodes.has(cols[9])) ports.add(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return [...ports];
}

/** Paths under `dir` whose mode gives the group or others any access. */
function openToOthers(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(dir, entry))
    .filter((path) => (statSync(path).mode & 0o077) !== 0);
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

/** The default way to run: PGlite and the in-process bus, no servers involved. */
describe('embedded mode (npm start: PGlite + in-process bus)', () => {
  it('serves the API with no servers and keeps data across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atrium-embedded-'));
    const port = await freePort();
    try {
      let run = await startEmbedded(dataDir, port);
      await request(run.url).get('/health/ready').expect(200);
      const username = uniqueName('emb');
      const signup = await request(run.url)
        .post('/v2/auth/signup')
        .send({ email: `${username}@example.com`, username, password: 'embedded password' })
        .expect(201);
      const auth = { authorization: `Bearer ${signup.body.data.accessToken}` };
      const id = (await request(run.url).post('/v2/datasets?name=kept').set(auth).expect(201)).body.data.id;
      await request(run.url)
        .post(`/v2/datasets/${id}/items`)
        .set(auth)
        .send([{ a: 1 }, { a: 2 }])
        .expect(201);
      await request(run.url).get(`/v2/datasets/${id}`).expect(200);
      await request(run.url)
        .put('/v2/users/me/settings')
        .set(auth)
        .send({ generalResourceAccess: 'RESTRICTED' })
        .expect(200);
      await request(run.url).get(`/v2/datasets/${id}`).expect(404);
      await stop(run.child);

      run = await startEmbedded(dataDir, port);
      // Same data, same signing secret: the access token from before the restart still works.
      const items = await request(run.url).get(`/v2/datasets/${id}/items`).set(auth).expect(200);
      expect(items.body).toEqual([{ a: 1 }, { a: 2 }]);
      await request(run.url).get(`/v2/datasets/${id}`).expect(404);
      await stop(run.child);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('answers a request that arrives while it shuts down with an Apify error and closes the connection', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atrium-embedded-'));
    const port = await freePort();
    try {
      const run = await startEmbedded(dataDir, port);
      const exited = new Promise((done) => run.child.once('exit', done));
      // The request's headers are sent in two parts, SIGTERM in between: it is read while closing.
      const socket = connect(port, '127.0.0.1');
      await new Promise((done) => socket.once('connect', done));
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      const closed = new Promise((done) => socket.once('close', done));
      socket.write('POST /v2/datasets HTTP/1.1\r\nHost: atrium\r\nContent-Type: application/json\r\n');
      await new Promise((done) => setTimeout(done, 300));
      run.child.kill('SIGTERM');
      await new Promise((done) => setTimeout(done, 300));
      socket.write('Content-Length: 2\r\n\r\n{}');
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
        error: { type: 'service-unavailable', message: expect.stringMatching(/shutting down/) },
      });
      await exited;
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serves its database on a Unix socket in its own 0700 data directory, no TCP port', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atrium-embedded-'));
    // As a data directory made before this fix was: readable and traversable by everyone.
    chmodSync(dataDir, 0o755);
    const pgDir = join(dataDir, 'pglite');
    const port = await freePort();
    try {
      let run = await startEmbedded(dataDir, port);
      const lock = JSON.parse(readFileSync(join(dataDir, EMBEDDED_LOCK_FILE), 'utf8')) as EmbeddedLock;
      const url = new URL(lock.databaseUrl ?? '');
      expect(url.hostname).toBe('');
      expect(url.port).toBe('');
      expect(url.searchParams.get('host')).toBe(pgDir);
      expect(statSync(join(pgDir, '.s.PGSQL.5432')).isSocket()).toBe(true);
      // The gateway's HTTP port is the process's only TCP listener.
      expect(listeningTcpPorts(run.child.pid ?? 0)).toEqual([port]);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(statSync(pgDir).mode & 0o777).toBe(0o700);
      expect(openToOthers(dataDir)).toEqual([]);
      // Another process (as `npm run backup` does) reaches the database through the lock's URL.
      const client = new Client({ connectionString: lock.databaseUrl });
      await client.connect();
      expect((await client.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
      await client.end();

      // A crash leaves the socket file; the next start replaces it. Files opened up meanwhile
      // (as initdb's were, 0666) are the owner's again.
      await killed(run.child);
      chmodSync(dataDir, 0o755);
      chmodSync(join(pgDir, 'PG_VERSION'), 0o666);
      mkdirSync(join(pgDir, 'opened'), { mode: 0o777 });
      chmodSync(join(pgDir, 'opened'), 0o777);
      run = await startEmbedded(dataDir, port);
      await request(run.url).get('/health/ready').expect(200);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(openToOthers(dataDir)).toEqual([]);
      await stop(run.child);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a port another process listens on, in one line, before it starts the database', async () => {
    // Outside pass: on a taken port it migrated the data directory and said it started, then died.
    const dataDir = mkdtempSync(join(tmpdir(), 'atrium-embedded-'));
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((listening) => taken.listen(port, '127.0.0.1', listening));
    try {
      const refused = startEmbedded(dataDir, port);
      await expect(refused).rejects.toThrow(`Port ${port} on 127.0.0.1 is already in use`);
      await expect(refused).rejects.not.toThrow(/\n\s+at /); // no stack trace
      expect(readdirSync(dataDir)).not.toContain('pglite');
    } finally {
      taken.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a data directory another local user could have prepared (a shared /tmp)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atrium-embedded-'));
    const port = await freePort();
    try {
      // Mail (verification and reset links) would be written wherever the link points.
      const elsewhere = mkdtempSync(join(tmpdir(), 'atrium-elsewhere-'));
      symlinkSync(elsewhere, join(dataDir, 'mail'));
      await expect(startEmbedded(dataDir, port)).rejects.toThrow(/mail is a symbolic link/);
      rmSync(elsewhere, { recursive: true, force: true });
      rmSync(join(dataDir, 'mail'));
      // Made by another user: it could read what is written there, or plant the JWT secret.
      if (process.getuid?.() === 0) {
        chownSync(dataDir, 65534, 65534);
        await expect(startEmbedded(dataDir, port)).rejects.toThrow(/belongs to another user \(uid 65534\)/);
        chownSync(dataDir, 0, 0);
        writeFileSync(join(dataDir, 'jwt-secret'), 'planted');
        chownSync(join(dataDir, 'jwt-secret'), 65534, 65534);
        await expect(startEmbedded(dataDir, port)).rejects.toThrow(/jwt-secret is another user's/);
        rmSync(join(dataDir, 'jwt-secret'));
        // Under a directory of another user's, which could swap the data directory while it runs.
        const inner = join(dataDir, 'data');
        mkdirSync(inner, { mode: 0o700 });
        chownSync(dataDir, 65534, 65534);
        await expect(startEmbedded(inner, port)).rejects.toThrow(
          /above .* belongs to another user \(uid 65534\)/,
        );
        chownSync(dataDir, 0, 0);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
