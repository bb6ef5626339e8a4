import { dumpDatabase, readBackupFileInfo, restoreDump, startEmbeddedPostgres } from '@atrium/persistence';
import { createTestDatabase, TestDatabase } from '@atrium/testing';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      await restoreDump(target, file, { schemas: ['edge'] });
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

  /** A line a crafted file adds after the first INSERT, and the start of the refusal it gets. */
  const CRAFTED: [string, string | ((insert: string) => string)][] = [
    ['an UPDATE', "UPDATE edge.parent SET name = 'owned';"],
    ['a CREATE FUNCTION', "CREATE FUNCTION edge.f() RETURNS int LANGUAGE sql AS 'SELECT 1';"],
    ['a COPY … TO PROGRAM', "COPY (SELECT 1) TO PROGRAM 'id';"],
    ['a DO block', 'DO $$BEGIN PERFORM 1; END$$;'],
    ['a second statement on an INSERT line', (insert) => `${insert} DELETE FROM edge.parent;`],
    ['a sub-select as a value', (insert) => insert.replace(/VALUES \(E'[^']*'/, "VALUES ((SELECT E'x')")],
    [
      'a function call as a value',
      (insert) => insert.replace(/VALUES \(E'[^']*'/, "VALUES (pg_read_file(E'/etc/passwd')"),
    ],
    ['a CREATE SCHEMA evil', 'CREATE SCHEMA "evil";'],
    ['a table on another schema', 'CREATE TABLE "public"."t" ("a" integer);'],
    ['an INSERT into another schema', `INSERT INTO "public"."t" ("a") VALUES (E'1');`],
    [
      'a default calling a function',
      `CREATE TABLE "edge"."t" ("a" text DEFAULT pg_catalog.pg_read_file('/etc/passwd'::text));`,
    ],
    [
      'a change log function of its own',
      `CREATE FUNCTION "edge"."log_change"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM edge.parent; RETURN NULL; END $$;`,
    ],
    [
      'a change log trigger with more after it',
      `CREATE TRIGGER "change_log_parent" AFTER INSERT OR UPDATE OR DELETE ON "edge"."parent" FOR EACH ROW EXECUTE FUNCTION "edge"."log_change"('name'); DELETE FROM edge.parent;`,
    ],
    [
      'a change log trigger on another event',
      `CREATE TRIGGER "change_log_parent" BEFORE INSERT ON "edge"."parent" FOR EACH ROW EXECUTE FUNCTION "edge"."log_change"('name');`,
    ],
    [
      'a check running a query',
      `ALTER TABLE "edge"."parent" ADD CONSTRAINT "c" CHECK ((query_to_xml('SELECT 1', true, true, '') IS NOT NULL));`,
    ],
  ];

  it.each(CRAFTED)('refuses a file with %s, naming the line, and changes nothing', async (_, crafted) => {
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.startsWith('INSERT INTO'));
    if (typeof crafted === 'string') lines.splice(at + 1, 0, crafted);
    else lines[at] = crafted(lines[at]);
    const line = typeof crafted === 'string' ? at + 2 : at + 1;
    const bad = join(work, 'crafted.sql');
    writeFileSync(bad, lines.join('\n'));
    const target = await createTestDatabase();
    const db = new Client({ connectionString: target.url });
    await db.connect();
    try {
      await db.query('CREATE SCHEMA edge');
      await db.query('CREATE TABLE edge.parent (name text)');
      await db.query("INSERT INTO edge.parent VALUES ('mine')");
      await expect(restoreDump(db, bad, { schemas: ['edge'] })).rejects.toThrow(
        `${bad} line ${line} is refused`,
      );
      const { rows: names } = await db.query('SELECT name FROM edge.parent');
      expect(names).toEqual([{ name: 'mine' }]);
      const { rows: schemas } = await db.query(
        "SELECT nspname FROM pg_namespace WHERE nspname IN ('edge', 'evil') ORDER BY 1",
      );
      expect(schemas).toEqual([{ nspname: 'edge' }]);
      const { rows: extra } = await db.query(
        "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('edge', 'public') AND c.relname <> 'parent'",
      );
      expect(extra[0].n).toBe(0);
    } finally {
      await db.end();
      await target.drop();
    }
  });

  it('refuses the genuine file for schemas other than the ones it was told (the service schemas by default)', async () => {
    const target = await createTestDatabase();
    const db = new Client({ connectionString: target.url });
    await db.connect();
    try {
      await expect(restoreDump(db, file)).rejects.toThrow(
        /line \d+ is refused \(schema edge is not one of identity/,
      );
      const { rows: schemas } = await db.query(
        "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'edge'",
      );
      expect(schemas[0].n).toBe(0);
    } finally {
      await db.end();
      await target.drop();
    }
  });

  it('refuses a truncated file, and a database holding objects it would not reproduce', async () => {
    const truncated = join(work, 'truncated.sql');
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
