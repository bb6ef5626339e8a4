import { dumpDatabase, readBackupFileInfo, restoreDump, startEmbeddedPostgres } from '@atrium/persistence';
import { createTestDatabase, TestDatabase } from '@atrium/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** Values a row can hold that a naive dump would break or a splitter would cut. */
const HOSTILE = [
  "it's \\ a \\\\ back\\slash",
  'two\nlines\r\nand a tab\there',
  "\n-- atrium-backup: complete\nCOMMIT; DROP SCHEMA edge CASCADE; --'",
  "E'not an escape' \\n",
  'NULL',
  '',
  'ünïcödé ✓ 🎉',
];

const SCHEMA = [
  'CREATE SCHEMA edge',
  "CREATE TYPE edge.mood AS ENUM ('ok', 'it''s bad', E'back\\\\slash\\nnewline')",
  `CREATE TABLE edge.parent (id serial PRIMARY KEY, name text NOT NULL UNIQUE, mood edge.mood DEFAULT 'ok',
     doc jsonb, tags text[], raw bytea, at timestamptz, amount numeric(12, 4), ratio double precision,
     upper_name text GENERATED ALWAYS AS (upper(name)) STORED, CHECK (amount IS NULL OR amount >= 0))`,
  // Created before its parent's rows are dumped (name order): keys come after the data.
  `CREATE TABLE edge."A child" (id bigserial PRIMARY KEY, parent_id int NOT NULL REFERENCES edge.parent(id) ON DELETE CASCADE,
     "weird ""col""" text)`,
  'CREATE INDEX child_parent ON edge."A child" (parent_id) WHERE "weird ""col""" IS NOT NULL',
];

async function rows(client: Client): Promise<unknown[]> {
  const parent = await client.query(
    `SELECT id, name, mood::text, doc, tags, encode(raw, 'hex') AS raw, at, amount::text, ratio, upper_name
       FROM edge.parent ORDER BY id`,
  );
  const child = await client.query('SELECT * FROM edge."A child" ORDER BY id');
  return [parent.rows, child.rows];
}

/**
 * The backup format (libs/persistence/src/sql-dump.ts): every value survives the round trip into
 * PostgreSQL and into PGlite, a row's content never escapes its literal, and the keys, defaults,
 * sequences, generated columns and indexes come back.
 */
describe('backup format: a round trip of awkward values', () => {
  let source: TestDatabase;
  let client: Client;
  const work = mkdtempSync(join(tmpdir(), 'atrium-backup-format-'));
  const file = join(work, 'edge.sql');
  let expected: unknown[];

  beforeAll(async () => {
    source = await createTestDatabase();
    client = new Client({ connectionString: source.url });
    await client.connect();
    for (const sql of SCHEMA) await client.query(sql);
    for (const [i, text] of HOSTILE.entries()) {
      const { rows: inserted } = await client.query<{ id: number }>(
        `INSERT INTO edge.parent (name, mood, doc, tags, raw, at, amount, ratio)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [
          text,
          ['ok', "it's bad", 'back\\slash\nnewline'][i % 3],
          JSON.stringify({ text, n: i, nested: [null, true, 1.5] }),
          [text, 'b,c', '{d}', null],
          Buffer.from([0, 10, 13, 39, 92, 255, i]),
          new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 123) + i),
          i === 0 ? null : `${i}.1234`,
          0.1 + i / 3,
        ],
      );
      await client.query(
        'INSERT INTO edge."A child" (parent_id, "weird ""col""") VALUES ($1, $2), ($1, NULL)',
        [inserted[0].id, text],
      );
    }
    expected = await rows(client);
    let text = '';
    await dumpDatabase(client, (chunk) => void (text += chunk), { batchRows: 3 });
    writeFileSync(file, text);
  });
  afterAll(async () => {
    await client.end();
    await source.drop();
    rmSync(work, { recursive: true, force: true });
  });

  async function expectRoundTrip(url: string): Promise<void> {
    const target = new Client({ connectionString: url });
    await target.connect();
    try {
      await restoreDump(target, file);
      expect(await rows(target)).toEqual(expected);
      // Sequences continue after the restored ids, the generated column and defaults work.
      const { rows: next } = await target.query(
        "INSERT INTO edge.parent (name) VALUES ('new') RETURNING id, mood::text, upper_name",
      );
      expect(next[0]).toEqual({ id: HOSTILE.length + 1, mood: 'ok', upper_name: 'NEW' });
      // Keys and constraints are enforced; the foreign key cascades.
      await expect(target.query("INSERT INTO edge.parent (name) VALUES ('new')")).rejects.toThrow(/unique/);
      await expect(target.query("INSERT INTO edge.parent (name, amount) VALUES ('neg', -1)")).rejects.toThrow(
        /check constraint/,
      );
      await expect(target.query('INSERT INTO edge."A child" (parent_id) VALUES (999)')).rejects.toThrow(
        /foreign key/,
      );
      await target.query('DELETE FROM edge.parent WHERE id = 1');
      const { rows: children } = await target.query('SELECT count(*)::int AS n FROM edge."A child"');
      expect(children[0].n).toBe(HOSTILE.length * 2 - 2);
      const { rows: indexes } = await target.query(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'edge' AND indexname = 'child_parent'",
      );
      expect(indexes[0].indexdef).toContain('WHERE ("weird ""col""" IS NOT NULL)');
    } finally {
      await target.end();
    }
  }

  it('writes one statement per line, ending with the completion marker, with its row counts', async () => {
    expect((await readBackupFileInfo(file)).rows).toEqual({
      'edge.A child': HOSTILE.length * 2,
      'edge.parent': HOSTILE.length,
    });
  });

  it('restores into PostgreSQL', async () => {
    const target = await createTestDatabase();
    try {
      await expectRoundTrip(target.url);
    } finally {
      await target.drop();
    }
  });

  it('restores into PGlite', async () => {
    const pg = await startEmbeddedPostgres(join(work, 'pglite'), 2);
    try {
      await expectRoundTrip(pg.url);
    } finally {
      await pg.stop();
    }
  }, 120_000);

  it('refuses a truncated file, and a database holding objects it would not reproduce', async () => {
    const truncated = join(work, 'truncated.sql');
    const { readFileSync } = await import('node:fs');
    writeFileSync(truncated, readFileSync(file, 'utf8').split('\n').slice(0, 20).join('\n'));
    await expect(readBackupFileInfo(truncated)).rejects.toThrow(/is incomplete/);
    await client.query('CREATE VIEW edge.names AS SELECT name FROM edge.parent');
    try {
      await expect(dumpDatabase(client, () => undefined)).rejects.toThrow(
        'The database has objects the backup does not reproduce: view edge.names',
      );
    } finally {
      await client.query('DROP VIEW edge.names');
    }
  });
});
