import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dataset items as `json`, not `jsonb`: `jsonb` reorders an object's keys (shorter first), and
 * Apify returns items, and exports their columns, in the order they were pushed.
 * `dataset.clean_item_count`: the items `clean=true` returns (with a field not starting with
 * `#`), kept by every push; existing datasets are counted once here.
 */
export class DatasetItems1796311100000 implements MigrationInterface {
  name = 'DatasetItems1796311100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "resources"."dataset_item" ALTER COLUMN "data" TYPE json USING "data"::json`,
    );
    await queryRunner.query(
      `ALTER TABLE "resources"."dataset" ADD "clean_item_count" integer NOT NULL DEFAULT '0'`,
    );
    await queryRunner.query(
      `UPDATE "resources"."dataset" d SET "clean_item_count" = (
         SELECT count(*) FROM "resources"."dataset_item" i
         WHERE i."dataset_id" = d."id"
           AND EXISTS (SELECT 1 FROM json_object_keys(i."data") k WHERE k NOT LIKE '#%'))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "resources"."dataset" DROP COLUMN "clean_item_count"`);
    await queryRunner.query(
      `ALTER TABLE "resources"."dataset_item" ALTER COLUMN "data" TYPE jsonb USING "data"::jsonb`,
    );
  }
}
