/**
 * The statements of a schema's change log (`changeLogMigration`), each on one line: the migration
 * runs them, and the backup writes and accepts exactly these (sql-dump), as the change version's.
 *
 * Every transaction that inserts, updates, deletes or truncates a row of a logged table writes,
 * in that transaction, the row's key (its key columns joined by `|`, the old key too when an
 * update moves it; null for a truncation) with the transaction's id. A reader that keeps a copy
 * of the tables learns from it which keys to read again (`FactsMirror` in the permissions service).
 */
export const CHANGE_LOG_TABLE = 'change_log';
export const CHANGE_LOG_FUNCTION = 'log_change';

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;
/** A key column's name: written into trigger statements, so only plain identifiers. */
export const KEY_COLUMN = /^[a-z_][a-z0-9_]*$/;

export function changeLogTableStatements(schema: string): string[] {
  const table = `${q(schema)}.${q(CHANGE_LOG_TABLE)}`;
  return [
    `CREATE TABLE ${table} ("xid" xid8 NOT NULL DEFAULT pg_current_xact_id(), "tbl" text NOT NULL, "key" text)`,
    `CREATE INDEX "${CHANGE_LOG_TABLE}_xid_idx" ON ${table} ("xid")`,
  ];
}

/** The trigger function: the row's key from the columns its trigger names (none: a truncation). */
export function changeLogFunctionStatement(schema: string): string {
  const table = `${q(schema)}.${q(CHANGE_LOG_TABLE)}`;
  const key = (row: string) =>
    `(SELECT string_agg(to_jsonb(${row}) ->> c, '|' ORDER BY i) FROM unnest(TG_ARGV) WITH ORDINALITY AS a(c, i))`;
  return (
    `CREATE FUNCTION ${q(schema)}.${q(CHANGE_LOG_FUNCTION)}() RETURNS trigger LANGUAGE plpgsql AS $$ ` +
    `DECLARE k text; BEGIN ` +
    `IF TG_LEVEL = 'STATEMENT' THEN INSERT INTO ${table} ("tbl", "key") VALUES (TG_TABLE_NAME, NULL); RETURN NULL; END IF; ` +
    `IF TG_OP <> 'DELETE' THEN k := ${key('NEW')}; INSERT INTO ${table} ("tbl", "key") VALUES (TG_TABLE_NAME, k); END IF; ` +
    `IF TG_OP <> 'INSERT' AND (TG_OP = 'DELETE' OR ${key('OLD')} IS DISTINCT FROM k) THEN ` +
    `INSERT INTO ${table} ("tbl", "key") VALUES (TG_TABLE_NAME, ${key('OLD')}); END IF; ` +
    `RETURN NULL; END $$;`
  );
}

/** A table's two triggers: every row change, with its key columns; and a truncation. */
export function changeLogTriggerStatements(
  schema: string,
  table: string,
  keyColumns: readonly string[],
): [string, string] {
  for (const c of keyColumns) if (!KEY_COLUMN.test(c)) throw new Error(`"${c}" is not a key column name`);
  const on = `${q(schema)}.${q(table)}`;
  const fn = `${q(schema)}.${q(CHANGE_LOG_FUNCTION)}`;
  return [
    `CREATE TRIGGER ${q(`${CHANGE_LOG_TABLE}_${table}`)} AFTER INSERT OR UPDATE OR DELETE ON ${on} ` +
      `FOR EACH ROW EXECUTE FUNCTION ${fn}(${keyColumns.map((c) => `'${c}'`).join(', ')});`,
    `CREATE TRIGGER ${q(`${CHANGE_LOG_TABLE}_truncate_${table}`)} AFTER TRUNCATE ON ${on} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();`,
  ];
}
