import { z } from 'zod';
import { rpc } from './rpc-route';
import { idSchema } from './validation';

/** Build tag (`latest`, `beta`) or build number (`0.1.23`). */
export const buildRefSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-zA-Z0-9._-]+$/, 'may contain only letters, digits, ".", "_" and "-"');

/** Apify's `MAJOR.MINOR`: each 0–99, without leading zeros (so "0.1" and "0.01" cannot both exist). */
export const versionNumberSchema = z
  .string()
  .regex(/^([0-9]|[1-9][0-9])\.([0-9]|[1-9][0-9])$/, 'must be "MAJOR.MINOR", each 0 to 99, e.g. "0.1"');

export const ACTOR_SOURCE_TYPES = ['SOURCE_FILES', 'GIT_REPO', 'TARBALL', 'GITHUB_GIST'] as const;
export type ActorSourceType = (typeof ACTOR_SOURCE_TYPES)[number];
/** The field that holds a version's source, per source type. */
export const SOURCE_FIELD = {
  SOURCE_FILES: 'sourceFiles',
  GIT_REPO: 'gitRepoUrl',
  TARBALL: 'tarballUrl',
  GITHUB_GIST: 'gitHubGistUrl',
} as const;

export const MAX_VERSIONS_PER_ACTOR = 100;
export const MAX_ENV_VARS_PER_VERSION = 100;
export const MAX_ENV_VAR_VALUE_CHARS = 50_000;

export const envVarNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'must start with a letter or "_" and contain only letters, digits and "_"',
  );
const envVarValueSchema = z.string().max(MAX_ENV_VAR_VALUE_CHARS);

/**
 * An environment variable in a version's list. `value` may be left out only for a variable that
 * is already secret in that version: it keeps its stored value (a client that read the version
 * got no value to send back).
 */
export const envVarEntrySchema = z
  .object({
    name: envVarNameSchema,
    value: envVarValueSchema.optional(),
    isSecret: z.boolean().nullable().optional(),
  })
  .strict();
export type EnvVarEntry = z.infer<typeof envVarEntrySchema>;

/** Names unique within one list, the duplicate named by its index. */
const envVarListSchema = z
  .array(envVarEntrySchema)
  .max(MAX_ENV_VARS_PER_VERSION)
  .superRefine((vars, ctx) => {
    const seen = new Set<string>();
    vars.forEach((v, i) => {
      if (seen.has(v.name))
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'name'], message: `duplicates "${v.name}"` });
      seen.add(v.name);
    });
  });

const sourceUrl = z.string().url().max(2000);
const versionFields = {
  versionNumber: versionNumberSchema,
  sourceType: z.enum(ACTOR_SOURCE_TYPES),
  envVars: envVarListSchema.nullable().optional(),
  applyEnvVarsToBuild: z.boolean().nullable().optional(),
  buildTag: buildRefSchema.nullable().optional(),
  sourceFiles: z
    .array(
      z
        .object({
          name: z.string().min(1).max(500),
          format: z.enum(['TEXT', 'BASE64']).optional(),
          content: z.string().max(2_000_000).optional(),
          folder: z.boolean().optional(),
        })
        .strict(),
    )
    .max(500)
    .nullable()
    .optional(),
  gitRepoUrl: sourceUrl.nullable().optional(),
  tarballUrl: sourceUrl.nullable().optional(),
  gitHubGistUrl: sourceUrl.nullable().optional(),
};

/** POST /v2/acts/:actorId/versions, and each of an Actor's `versions`: Apify's Version object. */
export const createVersionBody = z
  .object(versionFields)
  .strict()
  .superRefine((v, ctx) => {
    const field = SOURCE_FIELD[v.sourceType];
    if (v[field] === undefined || v[field] === null) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [field],
        message: `is required for sourceType ${v.sourceType}`,
      });
    }
  });
export type CreateVersionBody = z.infer<typeof createVersionBody>;

/** PUT /v2/acts/:actorId/versions/:versionNumber: what is given replaces; `envVars` replaces the list. */
export const updateVersionBody = z.object(versionFields).partial().strict();
export type UpdateVersionBody = z.infer<typeof updateVersionBody>;

/** An Actor's `versions` (create, or replace all on update): version numbers unique. */
export const actorVersionListSchema = z
  .array(createVersionBody)
  .max(MAX_VERSIONS_PER_ACTOR)
  .superRefine((versions, ctx) => {
    const seen = new Set<string>();
    versions.forEach((v, i) => {
      if (seen.has(v.versionNumber))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [i, 'versionNumber'],
          message: `duplicates "${v.versionNumber}"`,
        });
      seen.add(v.versionNumber);
    });
  });

/** POST …/env-vars: Apify's EnvVarRequest (`value` required). */
export const createEnvVarBody = z
  .object({ name: envVarNameSchema, value: envVarValueSchema, isSecret: z.boolean().nullable().optional() })
  .strict();
/** PUT …/env-vars/:name: what is given changes; a secret becomes plain only with a new `value`. */
export const updateEnvVarBody = z
  .object({
    name: envVarNameSchema.optional(),
    value: envVarValueSchema.optional(),
    isSecret: z.boolean().nullable().optional(),
  })
  .strict();

/** A secret variable's `value` is present only for callers who may change the Actor. */
export interface EnvVarView {
  name: string;
  value?: string;
  isSecret: boolean;
}

export interface ActorVersionView {
  versionNumber: string;
  sourceType: ActorSourceType;
  envVars: EnvVarView[];
  applyEnvVarsToBuild: boolean;
  buildTag: string | null;
  sourceFiles?: NonNullable<CreateVersionBody['sourceFiles']>;
  gitRepoUrl?: string;
  tarballUrl?: string;
  gitHubGistUrl?: string;
}

/** Apify's ListOfVersions / ListOfEnvVars: every item at once (both lists are bounded). */
export interface ShortList<T> {
  total: number;
  items: T[];
}

const versionRef = { actorId: idSchema, versionNumber: versionNumberSchema };
/**
 * Set by the gateway only when the caller's decision on the Actor gives WRITE: without it, secret
 * values never leave the resources service (they are not even read from the database).
 */
const revealSecrets = { revealSecrets: z.boolean() };

export const ActorVersionsRpc = {
  listVersions: rpc<ShortList<ActorVersionView>>()(
    'resources',
    'resources.actor-versions.list',
    z.object({ actorId: idSchema, ...revealSecrets }).strict(),
  ),
  getVersion: rpc<ActorVersionView>()(
    'resources',
    'resources.actor-versions.get',
    z.object({ ...versionRef, ...revealSecrets }).strict(),
  ),
  /** Writers only: answers with secret values. A taken version number is a conflict. */
  createVersion: rpc<ActorVersionView>()(
    'resources',
    'resources.actor-versions.create',
    z.object({ actorId: idSchema, version: createVersionBody }).strict(),
  ),
  updateVersion: rpc<ActorVersionView>()(
    'resources',
    'resources.actor-versions.update',
    z.object({ ...versionRef, changes: updateVersionBody }).strict(),
  ),
  deleteVersion: rpc<{ ok: true }>()(
    'resources',
    'resources.actor-versions.delete',
    z.object(versionRef).strict(),
  ),
  listEnvVars: rpc<ShortList<EnvVarView>>()(
    'resources',
    'resources.actor-env-vars.list',
    z.object({ ...versionRef, ...revealSecrets }).strict(),
  ),
  getEnvVar: rpc<EnvVarView>()(
    'resources',
    'resources.actor-env-vars.get',
    z.object({ ...versionRef, name: envVarNameSchema, ...revealSecrets }).strict(),
  ),
  createEnvVar: rpc<EnvVarView>()(
    'resources',
    'resources.actor-env-vars.create',
    z.object({ ...versionRef, envVar: createEnvVarBody }).strict(),
  ),
  updateEnvVar: rpc<EnvVarView>()(
    'resources',
    'resources.actor-env-vars.update',
    z.object({ ...versionRef, name: envVarNameSchema, changes: updateEnvVarBody }).strict(),
  ),
  deleteEnvVar: rpc<{ ok: true }>()(
    'resources',
    'resources.actor-env-vars.delete',
    z.object({ ...versionRef, name: envVarNameSchema }).strict(),
  ),
} as const;
