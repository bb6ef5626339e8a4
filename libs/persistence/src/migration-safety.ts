import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Migrations are expand-then-contract (README, "Rolling upgrades"): while a release's migrations
 * run and its pods roll out, the previous release's pods still read and write the same tables. A
 * migration may add (tables, nullable columns, columns with a default, indexes), not take away or
 * change what the previous release uses. These are the contract steps, found in a migration's
 * `up` SQL; one is allowed only in a later release, once no release still running uses what it
 * removes, and listed with its reason in deploy/contract-migrations.json.
 */
export interface ContractStep {
  migration: string;
  statement: string;
  problem: string;
}

const RULES: { pattern: RegExp; problem: string }[] = [
  { pattern: /\bDROP\s+TABLE\b/i, problem: 'drops a table the previous release may use' },
  { pattern: /\bDROP\s+COLUMN\b/i, problem: 'drops a column the previous release may read or write' },
  {
    pattern: /\bDROP\s+(SCHEMA|TYPE|VIEW|SEQUENCE|FUNCTION)\b/i,
    problem: 'drops an object the previous release may use',
  },
  {
    pattern: /\bRENAME\b(?!\s+CONSTRAINT\b)/i,
    problem: 'renames what the previous release refers to by name',
  },
  {
    pattern: /\bALTER\s+COLUMN\s+("[^"]+"|\w+)\s+(SET\s+DATA\s+)?TYPE\b/i,
    problem: 'changes a column type under the previous release',
  },
  { pattern: /\bDROP\s+DEFAULT\b/i, problem: "drops a default the previous release's inserts rely on" },
];

const SET_NOT_NULL = /\bALTER\s+COLUMN\s+("[^"]+"|\w+)\s+SET\s+NOT\s+NULL\b/i;
const ADD_COLUMN = /\bALTER\s+TABLE\b[\s\S]*?\bADD\s+(?!CONSTRAINT\b)(COLUMN\s+)?("[^"]+"|\w+)\s+([\s\S]*)$/i;

/** The contract steps among one migration's `up` statements. */
export function contractSteps(migration: string, statements: readonly string[]): ContractStep[] {
  const found: ContractStep[] = [];
  const sql = statements.map((s) => s.replace(/\s+/g, ' ').trim());
  const hasDefault = (column: string) =>
    sql.some((s) => new RegExp(`ALTER\\s+COLUMN\\s+${escape(column)}\\s+SET\\s+DEFAULT\\b`, 'i').test(s));
  for (const statement of sql) {
    for (const rule of RULES) {
      if (rule.pattern.test(statement)) found.push({ migration, statement, problem: rule.problem });
    }
    const notNull = SET_NOT_NULL.exec(statement);
    if (notNull && !hasDefault(notNull[1])) {
      found.push({
        migration,
        statement,
        problem: "makes a column required without a default: the previous release's inserts without it fail",
      });
    }
    const added = ADD_COLUMN.exec(statement);
    if (added && /\bNOT\s+NULL\b/i.test(added[3]) && !/\bDEFAULT\b/i.test(added[3])) {
      found.push({
        migration,
        statement,
        problem: "adds a required column without a default: the previous release's inserts fail",
      });
    }
  }
  return found;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The SQL a migration's `up` runs, recorded without a database. A migration that uses the query
 * runner for more than `query` (schema builders, reads that decide what to run) is refused: its
 * SQL cannot be checked this way, so it must be written as plain statements.
 */
export async function recordUpStatements(migration: MigrationInterface): Promise<string[]> {
  const statements: string[] = [];
  const recorder = new Proxy(
    {},
    {
      get(_, property) {
        if (property === 'query')
          return async (sql: string) => {
            statements.push(sql);
            return [];
          };
        if (property === 'then') return undefined;
        throw new Error(
          `${migration.name ?? migration.constructor.name} uses queryRunner.${String(property)}: write it as plain SQL statements so that it can be checked`,
        );
      },
    },
  ) as QueryRunner;
  await migration.up(recorder);
  return statements;
}
