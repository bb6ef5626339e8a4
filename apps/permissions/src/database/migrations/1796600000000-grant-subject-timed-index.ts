import { MigrationInterface, QueryRunner } from 'typeorm';

/** When time alone changes what is shared with a subject (`SharedWithQuery`): its grants that start or end. */
export class GrantSubjectTimedIndex1796600000000 implements MigrationInterface {
  name = 'GrantSubjectTimedIndex1796600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "grant_subject_timed_idx" ON "permissions"."grant" ("subject_id") WHERE "not_before" IS NOT NULL OR "expires_at" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "permissions"."grant_subject_timed_idx"`);
  }
}
