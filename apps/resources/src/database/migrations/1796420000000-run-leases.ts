import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A runner's lease on a run (`atrium run` / `atrium worker`): its id, holder (worker name and
 * user), expiry, the attempt count (a lost worker's run is retried once) and the lease's run token.
 */
export class RunLeases1796420000000 implements MigrationInterface {
  name = 'RunLeases1796420000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" ADD "lease_id" uuid`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" ADD "lease_holder" character varying(100)`);
    await queryRunner.query(
      `ALTER TABLE "resources"."actor_run" ADD "lease_holder_user_id" character varying(17)`,
    );
    await queryRunner.query(
      `ALTER TABLE "resources"."actor_run" ADD "lease_expires_at" TIMESTAMP WITH TIME ZONE`,
    );
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" ADD "attempt" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(
      `ALTER TABLE "resources"."actor_run" ADD "lease_token_hash" character varying(64)`,
    );
    await queryRunner.query(
      `CREATE INDEX "actor_run_lease_expiry_idx" ON "resources"."actor_run" ("lease_expires_at") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "resources"."actor_run_lease_expiry_idx"`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" DROP COLUMN "lease_token_hash"`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" DROP COLUMN "attempt"`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" DROP COLUMN "lease_expires_at"`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" DROP COLUMN "lease_holder_user_id"`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" DROP COLUMN "lease_holder"`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_run" DROP COLUMN "lease_id"`);
  }
}
