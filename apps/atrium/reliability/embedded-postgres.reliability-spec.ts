import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { EmbeddedPostgres, startEmbeddedPostgres } from '@atrium/persistence';

/**
 * The embedded PGlite behind its Unix socket, through node-postgres as the services use it: each
 * exchange passed whole, statements prepared by name shared by every connection of the one
 * session, transactions kept to their connection.
 */
describe('embedded PostgreSQL (PGlite on a Unix socket)', () => {
  let dir: string;
  let db: EmbeddedPostgres;
  let pool: Pool;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atrium-embedded-pg-'));
    db = await startEmbeddedPostgres(join(dir, 'pglite'));
    pool = new Pool({ connectionString: db.url, max: 4 });
    await pool.query('CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)');
    await pool.query("INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, 50) g");
  }, 120_000);

  afterAll(async () => {
    await pool?.end();
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a new data directory the owner’s alone', () => {
    expect(statSync(join(dir, 'pglite')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'pglite', 'PG_VERSION')).mode & 0o077).toBe(0);
  });

  it('answers concurrent parameterised queries on every connection, each with its own rows', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => 1 + (i % 50));
    const names = await Promise.all(
      ids.map(async (id) => (await pool.query('SELECT name FROM t WHERE id = $1', [id])).rows[0].name),
    );
    expect(names).toEqual(ids.map((id) => `n${id}`));
  });

  it('shares a statement prepared by name between the connections of the session', async () => {
    const query = (id: number) => ({
      name: 'spec.name-by-id',
      text: 'SELECT a.name FROM t a JOIN t b ON b.id = a.id WHERE a.id = $1',
      values: [id],
    });
    const ids = Array.from({ length: 100 }, (_, i) => 1 + (i % 50));
    const names = await Promise.all(ids.map(async (id) => (await pool.query(query(id))).rows[0].name));
    expect(names).toEqual(ids.map((id) => `n${id}`));
    // A connection of its own prepares it again: the session has it, the answer is the same.
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await client.query(query(7))).rows).toEqual([{ name: 'n7' }]);
      // Another text under the name fails as PostgreSQL fails it (duplicate_prepared_statement).
      await expect(
        client.query({ name: 'spec.other', text: 'SELECT 1 AS one', values: [] }),
      ).resolves.toMatchObject({ rows: [{ one: 1 }] });
      const other = new Client({ connectionString: db.url });
      await other.connect();
      try {
        await expect(
          other.query({ name: 'spec.other', text: 'SELECT 2 AS two', values: [] }),
        ).rejects.toMatchObject({ code: '42P05' });
        // The connection goes on after the error.
        expect((await other.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 50 }]);
      } finally {
        await other.end();
      }
    } finally {
      await client.end();
    }
  });

  it('reports a failing statement without disturbing the other connections', async () => {
    const [bad, good] = await Promise.allSettled([
      pool.query('SELECT name FROM t WHERE id = $1::int', ['not a number']),
      pool.query('SELECT name FROM t WHERE id = $1', [3]),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: '22P02' } });
    expect(good).toMatchObject({ status: 'fulfilled', value: { rows: [{ name: 'n3' }] } });
  });

  it('keeps a transaction to its connection while others query', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("UPDATE t SET name = 'changed' WHERE id = 1");
      const outside = pool.query('SELECT name FROM t WHERE id = 1');
      expect((await client.query('SELECT name FROM t WHERE id = 1')).rows).toEqual([{ name: 'changed' }]);
      await client.query('ROLLBACK');
      expect((await outside).rows).toEqual([{ name: 'n1' }]);
    } finally {
      client.release();
    }
  });
});

describe('the embedded database’s thread', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'atrium-embedded-thread-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('ends when stopped, after which its data directory opens again with what was written', async () => {
    const first = await startEmbeddedPostgres(join(dir, 'pglite'));
    const client = new Client({ connectionString: first.url });
    await client.connect();
    await client.query('CREATE TABLE kept (v text)');
    await client.query("INSERT INTO kept VALUES ('written')");
    await client.end();
    await first.stop();
    await expect(first.ended).resolves.toBeUndefined();
    await expect(new Client({ connectionString: first.url }).connect()).rejects.toThrow();

    const second = await startEmbeddedPostgres(join(dir, 'pglite'));
    const again = new Client({ connectionString: second.url });
    await again.connect();
    try {
      expect((await again.query('SELECT v FROM kept')).rows).toEqual([{ v: 'written' }]);
    } finally {
      await again.end();
      await second.stop();
    }
  }, 120_000);

  it('says why when PGlite cannot start on the data directory', async () => {
    const pglite = join(dir, 'pglite');
    mkdirSync(pglite, { mode: 0o700 });
    writeFileSync(join(pglite, 'PG_VERSION'), 'not a version\n');
    await expect(startEmbeddedPostgres(pglite)).rejects.toThrow(/The embedded database did not start/);
  }, 120_000);
});
