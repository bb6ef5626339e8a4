import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `dataset.clean_item_count`: the items `clean=true` returns (with a field not starting with
 * `#`), kept by every push; existing datasets are counted once here.
 */
export class DatasetCleanItemCount1796311100000 implements MigrationInterface {
  name = 'DatasetCleanItemCount1796311100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "resources"."dataset" ADD "clean_item_count" integer NOT NULL DEFAULT '0'`,
    );
    await queryRunner.query(
      `UPDATE "resources"."dataset" d SET "clean_item_count" = (
         SELECT count(*) FROM "resources"."dataset_item" i
         WHERE i."dataset_id" = d."id"
           AND EXISTS (SELECT 1 FROM jsonb_object_keys(i."data") k WHERE k NOT LIKE '#%'))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "resources"."dataset" DROP COLUMN "clean_item_count"`);
  }
}
