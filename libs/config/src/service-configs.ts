import { z } from 'zod';

/*
 * Each process's configuration holds only what it reads: a variable a service does not read is
 * not asked of it (JWT_SECRET only where tokens are signed or verified: identity and the gateway).
 */

const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.string().url().optional())
  .optional();

/** The bus and the logs: every process, the gateway too. */
const busAndLogs = {
  /** Unset: the in-process bus (embedded mode only). */
  AMQP_URL: optionalUrl,
  RPC_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug']).default('log'),
  /** Unset: readable lines on a terminal, JSON lines anywhere else (a file, a pipe, a collector). */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
};

/** A service process's Prometheus `/metrics` port (unset: not served; the gateway serves its own). */
const METRICS_PORT = z.coerce.number().int().min(1).max(65535).optional();

/** Where tokens are signed (identity) and verified (the gateway). */
const JWT_SECRET = z.string().min(32, { message: 'JWT_SECRET must be at least 32 characters' });
/** The address clients reach the gateway at, for links in responses and mails. */
const PUBLIC_BASE_URL = z.string().url().default('http://localhost:3000');

/** Variables every RPC service reads (permissions and issues read nothing more). */
export const serviceConfigSchema = z.object({
  ...busAndLogs,
  METRICS_PORT,
  DATABASE_URL: z.string().url({ message: 'DATABASE_URL must be a postgres:// URL' }),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  RUN_MIGRATIONS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});
export type ServiceConfig = z.output<typeof serviceConfigSchema>;

/** Identity signs tokens and sends mail. */
export const identityConfigSchema = serviceConfigSchema.extend({
  JWT_SECRET,
  PUBLIC_BASE_URL,
  /** Unset: identity keeps outgoing mail in the dev mailbox (the `dev_mail` table, and MAIL_DIR). */
  SMTP_URL: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(
      z
        .string()
        .url()
        .refine((v) => /^smtps?:\/\//.test(v), { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
        .optional(),
    )
    .optional(),
  MAIL_FROM: z.string().min(3).max(300).default('Atrium <no-reply@localhost>'),
  /** The dev mailbox's directory: each mail kept also as a `.eml` file there (unset: database only). */
  MAIL_DIR: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .optional(),
});
export type IdentityConfig = z.output<typeof identityConfigSchema>;

/** Resources enforces the deployment's limits and calls webhooks. */
export const resourcesConfigSchema = serviceConfigSchema.extend({
  /** Deployment limits of every account (the resources service enforces them); an account may set lower ones. */
  QUOTA_MAX_RESOURCES_PER_TYPE: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(10_000),
  QUOTA_MAX_STORAGE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .default(10 * 1024 ** 3),
  QUOTA_MAX_RUN_TIME_SECS: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .default(1000 * 3600),
  /**
   * Webhooks may call loopback and private addresses (127.0.0.0/8, 10/8, 172.16/12, 192.168/16,
   * fc00::/7, …): for a deployment whose webhook receivers live on its own network, and for tests.
   * Link-local addresses (169.254.0.0/16, fe80::/10: cloud metadata) stay blocked whatever this says.
   */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** How long one webhook call may take, connecting to the end of its response. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Calls per dispatch at most (1 = no retry); a webhook with doNotRetry makes one. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** The wait before the first retry; each next one waits twice as long. */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
});
export type ResourcesConfig = z.output<typeof resourcesConfigSchema>;

/** Permissions answers the gateway's checks from a copy of their facts in memory (FactsMirror). */
export const permissionsConfigSchema = serviceConfigSchema.extend({
  /** `false`: every check reads the database (the embedded mode's default: one connection, no gain). */
  PERMISSIONS_FACTS_IN_MEMORY: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Rows of grants, resources, accounts and memberships at most in that copy; beyond, checks read the database. */
  PERMISSIONS_FACTS_MAX_ROWS: z.coerce.number().int().min(1).max(100_000_000).default(2_000_000),
});
export type PermissionsConfig = z.output<typeof permissionsConfigSchema>;

/** Every service in one process (the embedded launcher, tests): what any of them reads. */
export const servicesConfigSchema = identityConfigSchema
  .merge(resourcesConfigSchema)
  .merge(permissionsConfigSchema);
export type ServicesConfig = z.output<typeof servicesConfigSchema>;

/** The gateway verifies tokens and answers HTTP; it has no database. */
export const gatewayConfigSchema = z.object({
  ...busAndLogs,
  JWT_SECRET,
  PUBLIC_BASE_URL,
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(9 * 1024 * 1024),
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  /** The built web console (default: the repository's dist/console, written by `npm run console:build`). */
  CONSOLE_DIR: z.string().min(1).optional(),
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
