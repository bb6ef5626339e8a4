import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Client } from 'pg';

/**
 * A plain-SQL dump of a PostgreSQL database (PGlite or a server) made over an ordinary
 * connection, for `npm run backup` and `npm run restore`. The machine's pg_dump cannot serve:
 * pg_dump refuses servers of a newer major version (Debian 12's is 15, PGlite is 17), and
 * @electric-sql/pglite-tools' WASM pg_dump pins an older PGlite than Atrium's.
 *
 * - Consistent: everything is read in one REPEATABLE READ READ ONLY transaction, so one snapshot
 *   across every schema while writers go on (on PGlite, whose one session serves every
 *   connection, the other connections' statements wait for the dump's transaction to end).
 * - Restorable by `psql -f` as well as by `restore`: schemas, enum types, sequences, tables,
 *   rows (INSERT), then keys, constraints and indexes, then sequence positions, in one
 *   transaction (BEGIN … COMMIT in the file).
 * - One statement per line: every literal is written E'…' with newlines escaped, so splitting
 *   the file at newlines never cuts a statement (a row cannot smuggle SQL past the splitter).
 * - Ends with END_MARKER; a file without it is truncated and `restore` refuses it.
 * Objects it does not reproduce (views, functions, triggers, domains, composite types,
 * partitioned tables, identity columns) fail the dump with their names rather than going missing.
 */
export const END_MARKER = '-- atrium-backup: complete';
const FORMAT_LINE = '-- atrium-backup: format 1';
const ROWS_PREFIX = '-- atrium-backup: rows ';

export interface DumpSummary {
  /** Rows per table (`schema.table`) in the snapshot. */
  rows: Record<string, number>;
  tables: number;
  bytes: number;
  serverVersion: string;
}

export interface DumpOptions {
  /** Extra comment lines for the header (without the leading `-- `). */
  header?: string[];
  /** Rows per INSERT statement. */
  batchRows?: number;
}

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;
const oneLine = (sql: string) => sql.replace(/\s*[\r\n]+\s*/g, ' ');

/** An E'…' literal of `text`, newlines escaped (as literalExpr makes them on the server). */
const literal = (text: string) =>
  `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;

/** SQL (run by the server) turning a value into an E'…' literal without raw newlines. */
function literalExpr(column: string): string {
  const text = `${q(column)}::text`;
  return (
    `COALESCE('E''' || replace(replace(replace(replace(${text}, '\\', '\\\\'), '''', ''''''), ` +
    `E'\\n', '\\n'), E'\\r', '\\r') || '''', 'NULL')`
  );
}

/**
 * Writes the dump, line by line, to `write` (which may return a promise for back-pressure).
 * Leaves `client` outside any transaction.
 */
export async function dumpDatabase(
  client: Client,
  write: (chunk: string) => void | Promise<void>,
  options: DumpOptions = {},
): Promise<DumpSummary> {
  const batchRows = options.batchRows ?? 500;
  let bytes = 0;
  const line = async (text: string) => {
    bytes += Buffer.byteLength(text) + 1;
    await write(`${text}\n`);
  };
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    // Qualified names everywhere (format_type, pg_get_*def), exact timestamps and floats.
    await client.query(
      "SET LOCAL search_path = ''; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; " +
        "SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'",
    );
    const { rows: version } = await client.query<{ v: string }>('SELECT pg_catalog.version() AS v');
    const { rows: schemaRows } = await client.query<{ nspname: string }>(
      `SELECT nspname FROM pg_catalog.pg_namespace
        WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND nspname NOT LIKE 'pg\\_%' ORDER BY nspname`,
    );
    const schemas = schemaRows.map((r) => r.nspname);
    await refuseUnsupported(client, schemas);

    await line(FORMAT_LINE);
    await line(`-- Atrium backup, plain SQL, taken ${new Date().toISOString()} from ${version[0].v}`);
    for (const h of options.header ?? []) await line(`-- ${oneLine(h)}`);
    await line(
      '-- It holds every row: password hashes, token hashes, signing keys. Keep it as secret as the database.',
    );
    await line(
      '-- Restore: npm run restore -- <file> [--database-url postgres://…], or psql -v ON_ERROR_STOP=1 -f <file>',
    );
    await line("SET client_encoding = 'UTF8';");
    await line('SET standard_conforming_strings = on;');
    await line("SELECT pg_catalog.set_config('search_path', '', false);");
    await line('BEGIN;');
    for (const s of schemas) if (s !== 'public') await line(`CREATE SCHEMA ${q(s)};`);

    const { rows: enums } = await client.query<{ nspname: string; typname: string; labels: string[] }>(
      `SELECT n.nspname, t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
         FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
        WHERE n.nspname = ANY($1) GROUP BY n.nspname, t.typname ORDER BY 1, 2`,
      [schemas],
    );
    for (const e of enums) {
      const labels = e.labels.map(literal).join(', ');
      await line(`CREATE TYPE ${q(e.nspname)}.${q(e.typname)} AS ENUM (${labels});`);
    }

    const { rows: sequences } = await client.query<{
      schemaname: string;
      sequencename: string;
      data_type: string;
      start_value: string;
      min_value: string;
      max_value: string;
      increment_by: string;
      cycle: boolean;
      cache_size: string;
      owner: string | null;
    }>(
      `SELECT s.schemaname, s.sequencename, s.data_type::text, s.start_value, s.min_value, s.max_value,
              s.increment_by, s.cycle, s.cache_size,
              (SELECT pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(tc.relname) || '.' ||
                      pg_catalog.quote_ident(a.attname)
                 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
                 JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND d.objid = (pg_catalog.quote_ident(s.schemaname) || '.' || pg_catalog.quote_ident(s.sequencename))::pg_catalog.regclass
                  AND d.deptype = 'a') AS owner
         FROM pg_catalog.pg_sequences s WHERE s.schemaname = ANY($1) ORDER BY 1, 2`,
      [schemas],
    );
    for (const s of sequences) {
      await line(
        `CREATE SEQUENCE ${q(s.schemaname)}.${q(s.sequencename)} AS ${s.data_type} INCREMENT BY ${s.increment_by} ` +
          `MINVALUE ${s.min_value} MAXVALUE ${s.max_value} START WITH ${s.start_value} CACHE ${s.cache_size}` +
          `${s.cycle ? ' CYCLE' : ''};`,
      );
    }

    const { rows: tables } = await client.query<{
      oid: number;
      nspname: string;
      relname: string;
      unlogged: boolean;
    }>(
      `SELECT c.oid, n.nspname, c.relname, c.relpersistence = 'u' AS unlogged
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname = ANY($1) ORDER BY 2, 3`,
      [schemas],
    );
    const summary: DumpSummary = { rows: {}, tables: tables.length, bytes: 0, serverVersion: version[0].v };
    const columnsOf = new Map<number, { attname: string; generated: boolean }[]>();
    for (const t of tables) {
      const { rows: columns } = await client.query<{
        attname: string;
        type: string;
        attnotnull: boolean;
        def: string | null;
        attgenerated: string;
        collation: string | null;
      }>(
        `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
                pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def, a.attgenerated,
                CASE WHEN a.attcollation <> ty.typcollation AND a.attcollation <> 0
                     THEN (SELECT pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
                             FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                            WHERE co.oid = a.attcollation) END AS collation
           FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
           LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [t.oid],
      );
      columnsOf.set(
        t.oid,
        columns.map((c) => ({ attname: c.attname, generated: c.attgenerated !== '' })),
      );
      const defs = columns.map((c) => {
        let def = `${q(c.attname)} ${c.type}`;
        if (c.collation) def += ` COLLATE ${c.collation}`;
        if (c.attgenerated === 's') def += ` GENERATED ALWAYS AS (${c.def}) STORED`;
        else if (c.def !== null) def += ` DEFAULT ${c.def}`;
        if (c.attnotnull) def += ' NOT NULL';
        return def;
      });
      await line(
        oneLine(
          `CREATE ${t.unlogged ? 'UNLOGGED ' : ''}TABLE ${q(t.nspname)}.${q(t.relname)} (${defs.join(', ')});`,
        ),
      );
    }
    for (const s of sequences) {
      if (s.owner) await line(`ALTER SEQUENCE ${q(s.schemaname)}.${q(s.sequencename)} OWNED BY ${s.owner};`);
    }

    for (const t of tables) {
      const name = `${q(t.nspname)}.${q(t.relname)}`;
      const columns = columnsOf.get(t.oid)!.filter((c) => !c.generated);
      let count = 0;
      if (columns.length) {
        const insert = `INSERT INTO ${name} (${columns.map((c) => q(c.attname)).join(', ')}) VALUES `;
        const row = `'(' || ${columns.map((c) => literalExpr(c.attname)).join(" || ',' || ")} || ')'`;
        await client.query(`DECLARE atrium_dump NO SCROLL CURSOR FOR SELECT ${row} AS r FROM ${name}`);
        for (;;) {
          const { rows } = await client.query<{ r: string }>(`FETCH ${batchRows} FROM atrium_dump`);
          if (!rows.length) break;
          count += rows.length;
          await line(`${insert}${rows.map((r) => r.r).join(',')};`);
        }
        await client.query('CLOSE atrium_dump');
      }
      summary.rows[`${t.nspname}.${t.relname}`] = count;
    }

    for (const t of tables) {
      // Keys and checks before foreign keys, which need the referenced keys.
      const { rows: constraints } = await client.query<{ conname: string; def: string }>(
        `SELECT conname, pg_catalog.pg_get_constraintdef(oid) AS def FROM pg_catalog.pg_constraint
          WHERE conrelid = $1 AND contype IN ('p', 'u', 'c', 'x')
          ORDER BY CASE contype WHEN 'p' THEN 0 ELSE 1 END, conname`,
        [t.oid],
      );
      for (const c of constraints) {
        await line(
          oneLine(`ALTER TABLE ${q(t.nspname)}.${q(t.relname)} ADD CONSTRAINT ${q(c.conname)} ${c.def};`),
        );
      }
      const { rows: indexes } = await client.query<{ def: string }>(
        `SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS def FROM pg_catalog.pg_index i
          WHERE i.indrelid = $1 AND i.indexrelid NOT IN (
            SELECT conindid FROM pg_catalog.pg_constraint WHERE conrelid = $1 AND contype IN ('p', 'u', 'x'))
          ORDER BY i.indexrelid::pg_catalog.regclass::text`,
        [t.oid],
      );
      for (const i of indexes) await line(`${oneLine(i.def)};`);
    }
    for (const t of tables) {
      const { rows: foreign } = await client.query<{ conname: string; def: string }>(
        `SELECT conname, pg_catalog.pg_get_constraintdef(oid) AS def FROM pg_catalog.pg_constraint
          WHERE conrelid = $1 AND contype = 'f' ORDER BY conname`,
        [t.oid],
      );
      for (const c of foreign) {
        await line(
          oneLine(`ALTER TABLE ${q(t.nspname)}.${q(t.relname)} ADD CONSTRAINT ${q(c.conname)} ${c.def};`),
        );
      }
    }
    for (const s of sequences) {
      const name = `${q(s.schemaname)}.${q(s.sequencename)}`;
      const { rows } = await client.query<{ last_value: string; is_called: boolean }>(
        `SELECT last_value, is_called FROM ${name}`,
      );
      await line(
        `SELECT pg_catalog.setval('${name.replace(/'/g, "''")}', ${rows[0].last_value}, ${rows[0].is_called});`,
      );
    }
    await line('COMMIT;');
    for (const [table, n] of Object.entries(summary.rows)) await line(`${ROWS_PREFIX}${oneLine(table)} ${n}`);
    await line(END_MARKER);
    summary.bytes = bytes;
    return summary;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** Fails naming the objects of `schemas` this dump would not reproduce. */
async function refuseUnsupported(client: Client, schemas: string[]): Promise<void> {
  const { rows } = await client.query<{ what: string }>(
    `SELECT kind || ' ' || name AS what FROM (
       SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'p' THEN 'partitioned table'
                             WHEN 'f' THEN 'foreign table' END AS kind, n.nspname || '.' || c.relname AS name
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY($1) AND c.relkind IN ('v', 'm', 'p', 'f')
       UNION ALL
       SELECT 'function', n.nspname || '.' || p.proname FROM pg_catalog.pg_proc p
         JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1)
       UNION ALL
       SELECT 'trigger', t.tgname FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND NOT t.tgisinternal
       UNION ALL
       SELECT 'type', n.nspname || '.' || t.typname FROM pg_catalog.pg_type t
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = ANY($1) AND (t.typtype IN ('d', 'r', 'm') OR (t.typtype = 'c' AND NOT EXISTS
              (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')))
       UNION ALL
       SELECT 'identity column', n.nspname || '.' || c.relname || '.' || a.attname FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY($1) AND a.attidentity <> '' AND NOT a.attisdropped
       UNION ALL
       SELECT 'extension', extname FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'
     ) o ORDER BY 1`,
    [schemas],
  );
  if (rows.length) {
    throw new Error(
      `The database has objects the backup does not reproduce: ${rows.map((r) => r.what).join(', ')}`,
    );
  }
}

export interface BackupFileInfo {
  rows: Record<string, number>;
}

/** Checks that `file` is a whole Atrium backup (its first and last lines) and reads its row counts. */
export async function readBackupFileInfo(file: string): Promise<BackupFileInfo> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let first: string | undefined;
  let last = '';
  const rows: Record<string, number> = {};
  for await (const l of lines) {
    if (first === undefined) {
      first = l;
      if (l !== FORMAT_LINE) break;
    }
    if (l.startsWith(ROWS_PREFIX)) {
      const entry = l.slice(ROWS_PREFIX.length);
      const space = entry.lastIndexOf(' ');
      rows[entry.slice(0, space)] = Number(entry.slice(space + 1));
    }
    if (l !== '') last = l;
  }
  lines.close();
  if (first !== FORMAT_LINE) throw new Error(`${file} is not an Atrium backup (made by npm run backup)`);
  if (last !== END_MARKER) throw new Error(`${file} is incomplete (it does not end with "${END_MARKER}")`);
  return { rows };
}

/**
 * Runs a backup file against `client`, a batch of whole lines (statements) at a time; the file's
 * own BEGIN … COMMIT makes it all or nothing.
 */
export async function restoreDump(client: Client, file: string, batchBytes = 1 << 20): Promise<void> {
  await readBackupFileInfo(file);
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let batch: string[] = [];
  let size = 0;
  try {
    for await (const l of lines) {
      if (l === '' || l.startsWith('--')) continue;
      batch.push(l);
      size += l.length;
      if (size >= batchBytes) {
        await client.query(batch.join('\n'));
        batch = [];
        size = 0;
      }
    }
    if (batch.length) await client.query(batch.join('\n'));
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
