import { MigrationInterface, QueryRunner } from 'typeorm';

/** Webhooks and their dispatches (each dispatch's calls kept in it); a deleted webhook takes its dispatches along. */
export class Webhooks1796400000000 implements MigrationInterface {
  name = 'Webhooks1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "resources"."webhook" (
        "id" character varying(17) NOT NULL,
        "user_id" character varying(17) NOT NULL,
        "created_by" character varying(17) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "modified_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "is_ad_hoc" boolean NOT NULL,
        "event_types" jsonb NOT NULL,
        "condition_actor_id" character varying(17),
        "condition_actor_task_id" character varying(17),
        "condition_actor_run_id" character varying(17),
        "ignore_ssl_errors" boolean NOT NULL,
        "do_not_retry" boolean NOT NULL,
        "request_url" character varying(2000) NOT NULL,
        "payload_template" text NOT NULL,
        "headers_template" text,
        "description" character varying(1000),
        "should_interpolate_strings" boolean NOT NULL,
        "is_apify_integration" boolean NOT NULL,
        "idempotency_key" character varying(256),
        CONSTRAINT "PK_webhook" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_user_created_idx" ON "resources"."webhook" ("user_id", "created_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_condition_actor_idx" ON "resources"."webhook" ("condition_actor_id") WHERE condition_actor_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_condition_task_idx" ON "resources"."webhook" ("condition_actor_task_id") WHERE condition_actor_task_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_condition_run_idx" ON "resources"."webhook" ("condition_actor_run_id") WHERE condition_actor_run_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "webhook_user_idempotency_key_uq" ON "resources"."webhook" ("user_id", "idempotency_key") WHERE idempotency_key IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "resources"."webhook_dispatch" (
        "id" character varying(17) NOT NULL,
        "webhook_id" character varying(17) NOT NULL,
        "user_id" character varying(17) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "status" character varying(20) NOT NULL,
        "event_type" character varying(40) NOT NULL,
        "event_data" jsonb,
        "resource" jsonb,
        "calls" jsonb NOT NULL DEFAULT '[]',
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "claimed_until" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_webhook_dispatch" PRIMARY KEY ("id"),
        CONSTRAINT "FK_webhook_dispatch_webhook" FOREIGN KEY ("webhook_id")
          REFERENCES "resources"."webhook"("id") ON DELETE CASCADE)`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_dispatch_webhook_created_idx" ON "resources"."webhook_dispatch" ("webhook_id", "created_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_dispatch_due_idx" ON "resources"."webhook_dispatch" ("next_attempt_at") WHERE status = 'ACTIVE'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "resources"."webhook_dispatch"`);
    await queryRunner.query(`DROP TABLE "resources"."webhook"`);
  }
}
