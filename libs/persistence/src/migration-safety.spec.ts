import { MigrationInterface, QueryRunner } from 'typeorm';
import { contractSteps, recordUpStatements } from './migration-safety';

const problems = (...statements: string[]) => contractSteps('M1', statements).map((s) => s.problem);

describe('contract steps in migrations', () => {
  it('accepts expansions: new tables, nullable columns, columns with a default, indexes', () => {
    expect(
      problems(
        `CREATE TABLE "resources"."idempotency_key" ("key" character varying(64) NOT NULL, "reply" jsonb NOT NULL, CONSTRAINT "PK_x" PRIMARY KEY ("key"))`,
        `ALTER TABLE "resources"."actor_run" ADD "lease_id" uuid`,
        `ALTER TABLE "resources"."actor_run" ADD "attempt" integer NOT NULL DEFAULT '0'`,
        `CREATE INDEX "actor_run_lease_expiry_idx" ON "resources"."actor_run" ("lease_expires_at") `,
        `ALTER TABLE "resources"."actor_run" ADD CONSTRAINT "FK_1" FOREIGN KEY ("x") REFERENCES "resources"."y"("id")`,
        `ALTER TABLE "resources"."actor_run" ALTER COLUMN "attempt" SET DEFAULT 0`,
        `ALTER TABLE "a"."b" RENAME CONSTRAINT "x" TO "y"`,
        `DROP INDEX "resources"."old_idx"`,
      ),
    ).toEqual([]);
  });

  it.each([
    [`ALTER TABLE "resources"."dataset" DROP COLUMN "item_count"`, 'drops a column'],
    [`DROP TABLE "resources"."dataset_item"`, 'drops a table'],
    [`DROP TYPE "resources"."run_status_enum"`, 'drops an object'],
    [`ALTER TABLE "resources"."dataset" RENAME COLUMN "name" TO "title"`, 'renames'],
    [`ALTER TABLE "resources"."dataset" RENAME TO "datasets"`, 'renames'],
    [`ALTER TYPE "resources"."status" RENAME VALUE 'A' TO 'B'`, 'renames'],
    [`ALTER TABLE "resources"."dataset" ALTER COLUMN "size" TYPE bigint`, 'changes a column type'],
    [`ALTER TABLE "resources"."dataset" ALTER COLUMN "size" SET DATA TYPE bigint`, 'changes a column type'],
    [`ALTER TABLE "resources"."dataset" ALTER COLUMN "title" DROP DEFAULT`, 'drops a default'],
    [`ALTER TABLE "resources"."dataset" ALTER COLUMN "title" SET NOT NULL`, 'makes a column required'],
    [
      `ALTER TABLE "resources"."dataset" ADD "owner_ref" character varying NOT NULL`,
      'adds a required column',
    ],
    [`ALTER TABLE "resources"."dataset" ADD COLUMN owner_ref text NOT NULL`, 'adds a required column'],
  ])('finds %s', (statement, problem) => {
    const found = problems(statement);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(problem);
  });

  it('accepts SET NOT NULL when the migration gives the column a default', () => {
    expect(
      problems(
        `ALTER TABLE "r"."d" ALTER COLUMN "title" SET DEFAULT ''`,
        `UPDATE "r"."d" SET "title" = '' WHERE "title" IS NULL`,
        `ALTER TABLE "r"."d" ALTER COLUMN "title" SET NOT NULL`,
      ),
    ).toEqual([]);
  });

  it("records a migration's up statements, and refuses one that needs more than query", async () => {
    class Plain implements MigrationInterface {
      name = 'Plain1';
      async up(q: QueryRunner) {
        await q.query('CREATE TABLE "a"."b" ("c" int)');
        await q.query('ALTER TABLE "a"."b" DROP COLUMN "c"');
      }
      async down() {}
    }
    class Builder implements MigrationInterface {
      name = 'Builder1';
      async up(q: QueryRunner) {
        await q.dropColumn('a.b', 'c');
      }
      async down() {}
    }
    expect(await recordUpStatements(new Plain())).toEqual([
      'CREATE TABLE "a"."b" ("c" int)',
      'ALTER TABLE "a"."b" DROP COLUMN "c"',
    ]);
    await expect(recordUpStatements(new Builder())).rejects.toThrow('Builder1 uses queryRunner.dropColumn');
  });
});
