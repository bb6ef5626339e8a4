/**
 * The statements of a schema's change version (`changeVersionMigration`), each on one line: the
 * migration runs them, and the backup writes and accepts exactly these (sql-dump), so a restored
 * database bumps its version as the original did.
 */
export const CHANGE_VERSION_TABLE = 'change_version';
export const CHANGE_VERSION_FUNCTION = 'bump_change_version';
/** Rows the version is spread over: concurrent changes rarely bump the same one. */
export const CHANGE_VERSION_SHARDS = 16;

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** The trigger function: once per transaction, on the row of its transaction id's shard. */
export function bumpFunctionStatement(schema: string): string {
  const setting = `atrium.${schema.replace(/[^a-z0-9_]/gi, '_')}_changed`;
  return (
    `CREATE FUNCTION ${q(schema)}.${q(CHANGE_VERSION_FUNCTION)}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ` +
    `IF current_setting('${setting}', true) IS DISTINCT FROM 'y' THEN ` +
    `PERFORM set_config('${setting}', 'y', true); ` +
    `UPDATE ${q(schema)}.${q(CHANGE_VERSION_TABLE)} SET "version" = "version" + 1 ` +
    `WHERE "shard" = txid_current() % ${CHANGE_VERSION_SHARDS}; END IF; RETURN NULL; END $$;`
  );
}

/** A table's two triggers: every row change, deferred to commit; and a truncation. */
export function changeVersionTriggerStatements(schema: string, table: string): [string, string] {
  const on = `${q(schema)}.${q(table)}`;
  const run = `EXECUTE FUNCTION ${q(schema)}.${q(CHANGE_VERSION_FUNCTION)}();`;
  return [
    `CREATE CONSTRAINT TRIGGER ${q(`${CHANGE_VERSION_TABLE}_${table}`)} AFTER INSERT OR UPDATE OR DELETE ON ${on} ` +
      `DEFERRABLE INITIALLY DEFERRED FOR EACH ROW ${run}`,
    `CREATE TRIGGER ${q(`${CHANGE_VERSION_TABLE}_truncate_${table}`)} AFTER TRUNCATE ON ${on} FOR EACH STATEMENT ${run}`,
  ];
}
