import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Actor versions and their environment variables as rows of their own (they were a `jsonb` array
 * on `actor`), so that a secret's value sits in a column no reader's query selects. Builds keep a
 * log and the input schema and Actor definition they were built with.
 */
export class ActorVersions1796321523965 implements MigrationInterface {
  name = 'ActorVersions1796321523965';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "resources"."actor_version" ("actor_id" character varying(17) NOT NULL, "version_number" character varying(7) NOT NULL, "source_type" character varying(20) NOT NULL, "apply_env_vars_to_build" boolean NOT NULL DEFAULT false, "build_tag" character varying(100), "source_files" jsonb, "git_repo_url" character varying(2000), "tarball_url" character varying(2000), "git_hub_gist_url" character varying(2000), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_actor_version" PRIMARY KEY ("actor_id", "version_number"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "resources"."actor_env_var" ("actor_id" character varying(17) NOT NULL, "version_number" character varying(7) NOT NULL, "name" character varying(100) NOT NULL, "position" integer NOT NULL, "is_secret" boolean NOT NULL DEFAULT false, "value" text, "secret_value" text, CONSTRAINT "PK_actor_env_var" PRIMARY KEY ("actor_id", "version_number", "name"))`,
    );
    await queryRunner.query(
      `INSERT INTO "resources"."actor_version" ("actor_id", "version_number", "source_type", "apply_env_vars_to_build", "build_tag", "source_files", "git_repo_url", "tarball_url", "git_hub_gist_url")
       SELECT a."id", v->>'versionNumber', v->>'sourceType', COALESCE((v->>'applyEnvVarsToBuild')::boolean, false),
              CASE WHEN v ? 'buildTag' THEN v->>'buildTag' ELSE 'latest' END,
              v->'sourceFiles', v->>'gitRepoUrl', v->>'tarballUrl', v->>'gitHubGistUrl'
       FROM "resources"."actor" a, jsonb_array_elements(a."versions") v
       ON CONFLICT DO NOTHING`,
    );
    await queryRunner.query(
      `INSERT INTO "resources"."actor_env_var" ("actor_id", "version_number", "name", "position", "is_secret", "value", "secret_value")
       SELECT a."id", v->>'versionNumber', e->>'name', (x.ord - 1)::integer, COALESCE((e->>'isSecret')::boolean, false),
              CASE WHEN COALESCE((e->>'isSecret')::boolean, false) THEN NULL ELSE e->>'value' END,
              CASE WHEN COALESCE((e->>'isSecret')::boolean, false) THEN e->>'value' ELSE NULL END
       FROM "resources"."actor" a, jsonb_array_elements(a."versions") v,
            jsonb_array_elements(COALESCE(v->'envVars', '[]'::jsonb)) WITH ORDINALITY AS x(e, ord)
       ON CONFLICT DO NOTHING`,
    );
    await queryRunner.query(`ALTER TABLE "resources"."actor" DROP COLUMN "versions"`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_build" ADD "log" text NOT NULL DEFAULT ''`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_build" ADD "input_schema" text`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_build" ADD "actor_definition" jsonb`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "resources"."actor_build" DROP COLUMN "actor_definition"`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_build" DROP COLUMN "input_schema"`);
    await queryRunner.query(`ALTER TABLE "resources"."actor_build" DROP COLUMN "log"`);
    await queryRunner.query(
      `ALTER TABLE "resources"."actor" ADD "versions" jsonb NOT NULL DEFAULT '[]'::jsonb`,
    );
    await queryRunner.query(
      `UPDATE "resources"."actor" a SET "versions" = COALESCE((
         SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'versionNumber', v."version_number", 'sourceType', v."source_type",
           'applyEnvVarsToBuild', v."apply_env_vars_to_build", 'buildTag', v."build_tag",
           'sourceFiles', v."source_files", 'gitRepoUrl', v."git_repo_url",
           'tarballUrl', v."tarball_url", 'gitHubGistUrl', v."git_hub_gist_url",
           'envVars', (SELECT jsonb_agg(jsonb_build_object('name', e."name",
                         'value', COALESCE(e."value", e."secret_value"), 'isSecret', e."is_secret")
                         ORDER BY e."position")
                       FROM "resources"."actor_env_var" e
                       WHERE e."actor_id" = v."actor_id" AND e."version_number" = v."version_number")))
           ORDER BY v."version_number")
         FROM "resources"."actor_version" v WHERE v."actor_id" = a."id"), '[]'::jsonb)`,
    );
    await queryRunner.query(`DROP TABLE "resources"."actor_env_var"`);
    await queryRunner.query(`DROP TABLE "resources"."actor_version"`);
  }
}
