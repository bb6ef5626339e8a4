import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Client, QueryConfig } from 'pg';
import {
  bumpFunctionStatement,
  CHANGE_VERSION_FUNCTION,
  changeVersionTriggerStatements,
} from './change-version-sql';
import {
  CHANGE_LOG_FUNCTION,
  CHANGE_LOG_TABLE,
  changeLogFunctionStatement,
  changeLogTriggerStatements,
  KEY_COLUMN,
} from './change-log-sql';

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
 * - A schema's change version (its function and triggers, `changeVersionMigration`) and change
 *   log (`changeLogMigration`) are written as the code makes them, after the rows, and `restore`
 *   accepts only exactly those statements. The change log's rows are not written: they name
 *   transactions of the database dumped, not of the one restored.
 * Objects it does not reproduce (views, other functions and triggers, domains, composite types,
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
      if (columns.length && t.relname !== CHANGE_LOG_TABLE) {
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
    // The change versions' function and triggers, after the rows (which must not bump them).
    const { rows: versioned } = await client.query<{ nspname: string; tables: string[] }>(
      `SELECT n.nspname, array_agg(DISTINCT c.relname::text ORDER BY c.relname::text) AS tables
         FROM ${CHANGE_VERSION_TRIGGERS} WHERE n.nspname = ANY($1) GROUP BY n.nspname ORDER BY 1`,
      [schemas],
    );
    for (const v of versioned) {
      await line(bumpFunctionStatement(v.nspname));
      for (const table of v.tables)
        for (const t of changeVersionTriggerStatements(v.nspname, table)) await line(t);
    }
    const { rows: logged } = await client.query<{ nspname: string; relname: string; args: string }>(
      `SELECT n.nspname, c.relname, encode(t.tgargs, 'escape') AS args FROM ${CHANGE_LOG_TRIGGERS}
        WHERE n.nspname = ANY($1) AND t.tgname = 'change_log_' || c.relname ORDER BY 1, 2`,
      [schemas],
    );
    for (const schema of new Set(logged.map((l) => l.nspname)))
      await line(changeLogFunctionStatement(schema));
    for (const l of logged) {
      // tgargs: each argument followed by a NUL byte (`\000` in the escape encoding)
      const keyColumns = l.args.split('\\000').filter((a) => a !== '');
      for (const t of changeLogTriggerStatements(l.nspname, l.relname, keyColumns)) await line(t);
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

/**
 * The triggers of the change versions (`changeVersionMigration`), as `t` on `c` in `n`: named
 * after their table, calling the schema's bump function.
 */
const CHANGE_VERSION_TRIGGERS = `pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid AND p.pronamespace = n.oid AND p.proname = '${CHANGE_VERSION_FUNCTION}'
    AND t.tgname IN ('change_version_' || c.relname, 'change_version_truncate_' || c.relname)`;

/** The triggers of the change logs (`changeLogMigration`), as `t` on `c` in `n`, as above. */
const CHANGE_LOG_TRIGGERS = `pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid AND p.pronamespace = n.oid AND p.proname = '${CHANGE_LOG_FUNCTION}'
    AND t.tgname IN ('change_log_' || c.relname, 'change_log_truncate_' || c.relname)`;

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
         JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY($1) AND p.proname NOT IN ('${CHANGE_VERSION_FUNCTION}', '${CHANGE_LOG_FUNCTION}')
       UNION ALL
       SELECT 'trigger', t.tgname FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND NOT t.tgisinternal
          AND t.oid NOT IN (SELECT t.oid FROM ${CHANGE_VERSION_TRIGGERS})
          AND t.oid NOT IN (SELECT t.oid FROM ${CHANGE_LOG_TRIGGERS})
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

/** The schemas of Atrium's services: the only ones a restore creates or writes. */
export const SERVICE_SCHEMAS = ['identity', 'resources', 'permissions', 'issues'];

export interface RestoreOptions {
  /** Schemas the file may create and write (default SERVICE_SCHEMAS). */
  schemas?: string[];
}

/*
 * What `restore` accepts: exactly the statement shapes dumpDatabase writes, one per line, on the
 * allowed schemas; anything else (UPDATE, CREATE FUNCTION, COPY … TO PROGRAM, DO, a second
 * statement, a sub-select or call in a row) refuses the whole file before anything runs.
 * Residual trust: column defaults, generated columns, CHECK constraints and index expressions
 * come from pg_get_expr/pg_get_constraintdef/pg_get_indexdef and may call functions; they are
 * checked token by token (no `;`, no dollar quotes, no sub-selects, calls only to SAFE_CALLS,
 * qualified names only in the allowed schemas or pg_catalog), so an edited file can still
 * change a default or a check to another expression of that small vocabulary — a backup file
 * is as trusted as code: restore only files you made.
 */
const IDENT = String.raw`(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_]*)`;
const E_LITERAL = String.raw`E'(?:[^'\\\r\n]|''|\\[^\r\n])*'`;
const INT = String.raw`-?\d+`;

/** Words that may stand before `(`: keywords, type names with modifiers, and safe functions. */
const SAFE_CALLS = new Set([
  // the change log's default (`changeLogMigration`)
  'pg_current_xact_id',
  // keywords and type names
  'key',
  'unique',
  'check',
  'as',
  'in',
  'any',
  'all',
  'include',
  'where',
  'and',
  'or',
  'not',
  'using',
  'btree',
  'hash',
  'gist',
  'gin',
  'brin',
  'numeric',
  'decimal',
  'varchar',
  'varying',
  'character',
  'char',
  'bit',
  'timestamp',
  'time',
  'interval',
  'float',
  'with',
  'zone',
  'is',
  'null',
  'then',
  'else',
  'when',
  'case',
  'array',
  'on',
  'by',
  'distinct',
  'nulls',
  'row',
  'exclude',
  'references',
  // immutable or harmless functions the schemas use
  'nextval',
  'now',
  'gen_random_uuid',
  'upper',
  'lower',
  'length',
  'char_length',
  'octet_length',
  'btrim',
  'coalesce',
  'array_length',
  'cardinality',
  'jsonb_typeof',
  'jsonb_array_length',
  'to_tsvector',
  'date_trunc',
  'abs',
  'md5',
  'left',
  'right',
  'nullif',
  'greatest',
  'least',
  'statement_timestamp',
  'transaction_timestamp',
  'clock_timestamp',
  'current_timestamp',
]);
const FORBIDDEN_WORDS = new Set(['select', 'from', 'into', 'returning', 'values', 'table']);

type Token = { kind: 'ident' | 'qident' | 'string' | 'number' | 'op'; text: string };
const TOKEN =
  /\s+|("(?:[^"]|"")+")|([eE]'(?:[^'\\\r\n]|''|\\[^\r\n])*'|'(?:[^'\r\n]|'')*')|(\d+(?:\.\d+)?(?:e[+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(::|<=|>=|<>|!=|\|\||!~~\*?|~~\*?|!~\*?|@>|<@|&&|[()[\],.=<>+\-*/%~])/y;

function tokens(sql: string): Token[] | string {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < sql.length) {
    const at = TOKEN.lastIndex;
    if (sql.startsWith('--', at) || sql.startsWith('/*', at)) return 'a comment';
    const m = TOKEN.exec(sql);
    if (!m) return `unexpected ${JSON.stringify(sql.slice(at, at + 20))}`;
    if (m[1]) out.push({ kind: 'qident', text: m[1] });
    else if (m[2]) out.push({ kind: 'string', text: m[2] });
    else if (m[3]) out.push({ kind: 'number', text: m[3] });
    else if (m[4]) out.push({ kind: 'ident', text: m[4].toLowerCase() });
    else if (m[5]) out.push({ kind: 'op', text: m[5] });
  }
  return out;
}

const unquote = (t: Token) => (t.kind === 'qident' ? t.text.slice(1, -1).replace(/""/g, '"') : t.text);

/** Checks a catalog-made expression (table body, constraint, index tail); returns why not. */
function checkExpression(sql: string, schemas: Set<string>): string | null {
  const ts = tokens(sql);
  if (typeof ts === 'string') return ts;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    if (t.kind === 'ident' && FORBIDDEN_WORDS.has(t.text)) {
      return `"${t.text}" is not allowed here`;
    }
    const name = t.kind === 'ident' || t.kind === 'qident';
    if (!name) continue;
    const qualified =
      ts[i + 1]?.text === '.' && (ts[i + 2]?.kind === 'ident' || ts[i + 2]?.kind === 'qident');
    if (qualified) {
      const schema = unquote(t);
      const target = ts[i + 2];
      if (schema === 'pg_catalog') {
        if (ts[i + 3]?.text === '(' && !SAFE_CALLS.has(unquote(target).toLowerCase())) {
          return `call to pg_catalog.${unquote(target)}`;
        }
      } else if (!schemas.has(schema)) return `schema ${schema} is not one of ${[...schemas].join(', ')}`;
      i += 2;
      continue;
    }
    if (ts[i + 1]?.text === '(' && ts[i - 1]?.text !== '.') {
      if (t.kind === 'qident' || !SAFE_CALLS.has(t.text)) return `call to ${unquote(t)}`;
    }
  }
  return null;
}

function schemaOf(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident;
}

const ROW = new RegExp(String.raw`\((?:${E_LITERAL}|NULL)(?:,(?:${E_LITERAL}|NULL))*\)`, 'y');

/** Why `line` is not a statement dumpDatabase writes, or null when it is. */
export function checkStatement(line: string, schemas: Set<string>): string | null {
  const inSchema = (ident: string) =>
    schemas.has(schemaOf(ident))
      ? null
      : `schema ${schemaOf(ident)} is not one of ${[...schemas].join(', ')}`;
  if (
    line === "SET client_encoding = 'UTF8';" ||
    line === 'SET standard_conforming_strings = on;' ||
    line === "SELECT pg_catalog.set_config('search_path', '', false);" ||
    line === 'BEGIN;' ||
    line === 'COMMIT;'
  ) {
    return null;
  }
  let m: RegExpExecArray | null;
  if ((m = new RegExp(String.raw`^CREATE SCHEMA (${IDENT});$`).exec(line))) return inSchema(m[1]);
  if (
    (m = new RegExp(
      String.raw`^CREATE TYPE (${IDENT})\.${IDENT} AS ENUM \(${E_LITERAL}(?:, ${E_LITERAL})*\);$`,
    ).exec(line))
  ) {
    return inSchema(m[1]);
  }
  if (
    (m = new RegExp(
      String.raw`^CREATE SEQUENCE (${IDENT})\.${IDENT} AS (?:smallint|integer|bigint) INCREMENT BY ${INT} ` +
        String.raw`MINVALUE ${INT} MAXVALUE ${INT} START WITH ${INT} CACHE \d+(?: CYCLE)?;$`,
    ).exec(line))
  ) {
    return inSchema(m[1]);
  }
  if (
    (m = new RegExp(
      String.raw`^ALTER SEQUENCE (${IDENT})\.${IDENT} OWNED BY (${IDENT})\.${IDENT}\.${IDENT};$`,
    ).exec(line))
  ) {
    return inSchema(m[1]) ?? inSchema(m[2]);
  }
  if (
    (m = new RegExp(
      String.raw`^SELECT pg_catalog\.setval\('(${IDENT})\.${IDENT}', ${INT}, (?:true|false)\);$`,
    ).exec(line.replace(/''/g, "'")))
  ) {
    return inSchema(m[1]);
  }
  if (
    (m = new RegExp(String.raw`^INSERT INTO (${IDENT})\.${IDENT} \(${IDENT}(?:, ${IDENT})*\) VALUES `).exec(
      line,
    ))
  ) {
    const bad = inSchema(m[1]);
    if (bad) return bad;
    ROW.lastIndex = m[0].length;
    for (;;) {
      if (!ROW.test(line)) return "a row holds something other than E'…' literals and NULL";
      if (line[ROW.lastIndex] === ',') ROW.lastIndex++;
      else return line.slice(ROW.lastIndex) === ';' ? null : 'text after the rows';
    }
  }
  if ((m = new RegExp(String.raw`^CREATE (?:UNLOGGED )?TABLE (${IDENT})\.${IDENT} \((.*)\);$`).exec(line))) {
    return inSchema(m[1]) ?? checkExpression(m[2], schemas);
  }
  if (
    (m = new RegExp(
      String.raw`^ALTER TABLE (${IDENT})\.${IDENT} ADD CONSTRAINT ${IDENT} ((?:PRIMARY KEY|UNIQUE|CHECK|FOREIGN KEY|EXCLUDE) .*);$`,
    ).exec(line))
  ) {
    return inSchema(m[1]) ?? checkExpression(m[2], schemas);
  }
  if (
    (m = new RegExp(
      String.raw`^CREATE (?:UNIQUE )?INDEX ${IDENT} ON (?:ONLY )?(${IDENT})\.${IDENT} (USING .*);$`,
    ).exec(line))
  ) {
    return inSchema(m[1]) ?? checkExpression(m[2], schemas);
  }
  if (
    (m = new RegExp(String.raw`^CREATE FUNCTION (${IDENT})\."${CHANGE_VERSION_FUNCTION}"\(\) `).exec(line))
  ) {
    return (
      inSchema(m[1]) ??
      (line === bumpFunctionStatement(schemaOf(m[1])) ? null : 'not the change version function Atrium makes')
    );
  }
  if ((m = new RegExp(String.raw`^CREATE FUNCTION (${IDENT})\."${CHANGE_LOG_FUNCTION}"\(\) `).exec(line))) {
    return (
      inSchema(m[1]) ??
      (line === changeLogFunctionStatement(schemaOf(m[1]))
        ? null
        : 'not the change log function Atrium makes')
    );
  }
  if (
    (m = new RegExp(
      String.raw`^CREATE TRIGGER ${IDENT} AFTER .* ON (${IDENT})\.(${IDENT}) .*"${CHANGE_LOG_FUNCTION}"\(((?:'[a-z0-9_]+'(?:, )?)*)\);$`,
    ).exec(line))
  ) {
    const keyColumns = m[3] ? m[3].split(', ').map((c) => c.slice(1, -1)) : [];
    return (
      inSchema(m[1]) ??
      (keyColumns.every((c) => KEY_COLUMN.test(c)) &&
      changeLogTriggerStatements(schemaOf(m[1]), schemaOf(m[2]), keyColumns).includes(line)
        ? null
        : 'not a change log trigger Atrium makes')
    );
  }
  if (
    (m = new RegExp(
      String.raw`^CREATE (?:CONSTRAINT )?TRIGGER ${IDENT} AFTER .* ON (${IDENT})\.(${IDENT}) `,
    ).exec(line))
  ) {
    return (
      inSchema(m[1]) ??
      (changeVersionTriggerStatements(schemaOf(m[1]), schemaOf(m[2])).includes(line)
        ? null
        : 'not a change version trigger Atrium makes')
    );
  }
  return 'not a statement npm run backup writes';
}

/**
 * The file's statements, in order with their line numbers; throws naming the first line that
 * is not a statement dumpDatabase writes, or out of its order (settings, BEGIN, …, COMMIT).
 */
async function* statements(file: string, schemas: Set<string>): AsyncGenerator<{ n: number; sql: string }> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  let state: 'prologue' | 'body' | 'done' = 'prologue';
  try {
    for await (const l of lines) {
      n++;
      if (l === '' || l.startsWith('--')) continue;
      let why = checkStatement(l, schemas);
      if (!why) {
        if (state === 'done') why = 'a statement after COMMIT';
        else if (l === 'BEGIN;') why = state === 'prologue' ? null : 'a second BEGIN';
        else if (
          state === 'prologue' &&
          !l.startsWith('SET ') &&
          !l.startsWith('SELECT pg_catalog.set_config(')
        ) {
          why = 'a statement before BEGIN';
        } else if (
          state === 'body' &&
          (l.startsWith('SET ') || l.startsWith('SELECT pg_catalog.set_config('))
        ) {
          why = 'a setting after BEGIN';
        }
      }
      if (why) {
        const start = l.length > 80 ? `${l.slice(0, 80)}…` : l;
        throw new Error(`${file} line ${n} is refused (${why}): ${start}`);
      }
      if (l === 'BEGIN;') state = 'body';
      else if (l === 'COMMIT;') state = 'done';
      yield { n, sql: l };
    }
    if (state !== 'done') throw new Error(`${file} has no BEGIN … COMMIT`);
  } finally {
    lines.close();
  }
}

/** A query sent with the extended protocol (pg's typings lack queryMode): one statement only. */
const extended = (text: string) => ({ text, queryMode: 'extended' }) as unknown as QueryConfig;

/**
 * Runs a backup file against `client`: first every line is checked against the statements
 * dumpDatabase writes (checkStatement; the whole file is refused before anything runs), then
 * each statement is sent alone with the extended query protocol (one statement per message, so a
 * line can never carry a second one), checked again as it is read. The file's own BEGIN … COMMIT
 * makes it all or nothing.
 */
export async function restoreDump(client: Client, file: string, options: RestoreOptions = {}): Promise<void> {
  await readBackupFileInfo(file);
  const schemas = new Set(options.schemas ?? SERVICE_SCHEMAS);
  for await (const _ of statements(file, schemas));
  try {
    // Unqualified names in the file's expressions resolve in pg_catalog only.
    await client.query(extended("SELECT pg_catalog.set_config('search_path', '', false)"));
    for await (const { sql } of statements(file, schemas)) {
      await client.query(extended(sql));
    }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
