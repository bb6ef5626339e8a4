import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  CHANGE_LOG_FUNCTION,
  CHANGE_LOG_TABLE,
  changeLogFunctionStatement,
  changeLogTableStatements,
  changeLogTriggerStatements,
} from './change-log-sql';

export { CHANGE_LOG_TABLE } from './change-log-sql';

/**
 * A schema's change log (see change-log-sql.ts) on `tables`, each with the columns of the key a
 * reader keeps its rows by.
 */
export function changeLogMigration(
  schema: string,
  tables: Readonly<Record<string, readonly string[]>>,
  timestamp: number,
) {
  return class implements MigrationInterface {
    name = `ChangeLog${timestamp}`;

    async up(queryRunner: QueryRunner): Promise<void> {
      for (const statement of changeLogTableStatements(schema)) await queryRunner.query(statement);
      await queryRunner.query(changeLogFunctionStatement(schema));
      for (const [table, keyColumns] of Object.entries(tables))
        for (const statement of changeLogTriggerStatements(schema, table, keyColumns))
          await queryRunner.query(statement);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      for (const table of Object.keys(tables)) {
        await queryRunner.query(`DROP TRIGGER "${CHANGE_LOG_TABLE}_${table}" ON "${schema}"."${table}"`);
        await queryRunner.query(
          `DROP TRIGGER "${CHANGE_LOG_TABLE}_truncate_${table}" ON "${schema}"."${table}"`,
        );
      }
      await queryRunner.query(`DROP FUNCTION "${schema}"."${CHANGE_LOG_FUNCTION}"()`);
      await queryRunner.query(`DROP TABLE "${schema}"."${CHANGE_LOG_TABLE}"`);
    }
  };
}
