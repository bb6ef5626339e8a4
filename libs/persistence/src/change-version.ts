import { Controller, Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ChangeVersionResponse, RpcRoute } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  bumpFunctionStatement,
  CHANGE_VERSION_FUNCTION,
  CHANGE_VERSION_SHARDS,
  CHANGE_VERSION_TABLE,
  changeVersionTriggerStatements,
} from './change-version-sql';
import { preparedQuery } from './prepared-query';

/**
 * A schema's change version: bumped, in the same transaction, by every one that inserts, updates,
 * deletes or truncates a row of the given tables — so a read made after the version was read
 * shows the tables as they are for as long as the version stays the same. The gateway's caches
 * revalidate what they keep with it (`ChangeVersions`) instead of reading it all again.
 *
 * The row-level triggers are deferred to commit and bump once per transaction (a transaction-local
 * setting), so a transaction holds the lock of its version row only while it commits, and only one
 * row (the shard of its transaction id): bumps neither serialize whole transactions nor deadlock.
 * The version read is the rows' sum, which every bump increases, after an epoch drawn when the
 * table was made (a schema made again does not repeat an earlier version).
 */
export function changeVersionMigration(schema: string, tables: readonly string[], timestamp: number) {
  const table = `"${schema}"."${CHANGE_VERSION_TABLE}"`;
  return class implements MigrationInterface {
    name = `ChangeVersion${timestamp}`;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(
        `CREATE TABLE ${table} ("shard" smallint PRIMARY KEY, "epoch" text NOT NULL, "version" bigint NOT NULL DEFAULT 0)`,
      );
      await queryRunner.query(
        `INSERT INTO ${table} ("shard", "epoch") SELECT s, e.epoch FROM generate_series(0, ${CHANGE_VERSION_SHARDS - 1}) s, (SELECT md5(random()::text || clock_timestamp()::text) AS epoch) e`,
      );
      await queryRunner.query(bumpFunctionStatement(schema));
      for (const name of tables)
        for (const statement of changeVersionTriggerStatements(schema, name))
          await queryRunner.query(statement);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      for (const name of tables) {
        await queryRunner.query(`DROP TRIGGER "${CHANGE_VERSION_TABLE}_${name}" ON "${schema}"."${name}"`);
        await queryRunner.query(
          `DROP TRIGGER "${CHANGE_VERSION_TABLE}_truncate_${name}" ON "${schema}"."${name}"`,
        );
      }
      await queryRunner.query(`DROP FUNCTION "${schema}"."${CHANGE_VERSION_FUNCTION}"()`);
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  };
}

/** The schema's change version as an SQL expression (`epoch:count`), to read with other things in one statement. */
export function changeVersionExpression(schema: string): string {
  return `(SELECT min("epoch") || ':' || sum("version") FROM "${schema}"."${CHANGE_VERSION_TABLE}")`;
}

/** The schema's change version now (see `changeVersionMigration`). */
export async function readChangeVersion(dataSource: DataSource, schema: string): Promise<string> {
  const [row] = await preparedQuery<{ version: string }>(
    dataSource,
    `${schema}.change-version`,
    `SELECT ${changeVersionExpression(schema)} AS "version"`,
    [],
  );
  return row.version;
}

/** The change-version RPC of a service (its schema's `readChangeVersion`). */
export function changeVersionControllerFor(route: RpcRoute, schema: string): Type<unknown> {
  @Controller()
  class ChangeVersionMessageController {
    constructor(private readonly dataSource: DataSource) {}

    @RpcHandler(route)
    async version(@Payload() _payload: Record<string, never>): Promise<ChangeVersionResponse> {
      return { version: await readChangeVersion(this.dataSource, schema) };
    }
  }
  return ChangeVersionMessageController;
}
