import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Runs: when a resurrected run became RUNNING again (its run time counts from there, not a
 * second time from its start).
 */
export class RunLifecycle1796320000000 implements MigrationInterface {
  name = 'RunLifecycle1796320000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "resources"."actor_run" ADD "resurrected_at" TIMESTAMP WITH TIME ZONE`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" DROP COLUMN "resurrected_at"`);
  }
}
