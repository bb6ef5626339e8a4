import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `actor_run.is_status_message_terminal`: set with the status message (Apify's
 * `isStatusMessageTerminal`, which the SDK and Crawlee send with their last message).
 */
export class RunStatusMessageTerminal1796321552702 implements MigrationInterface {
  name = 'RunStatusMessageTerminal1796321552702';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "resources"."actor_run" ADD "is_status_message_terminal" boolean NOT NULL DEFAULT false`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" DROP COLUMN "is_status_message_terminal"`);
  }
}
