import { Logger } from '@nestjs/common';
import { randomBase62 } from '@atrium/auth';
import { gatewayConfigSchema, loadConfig, servicesConfigSchema } from '@atrium/config';
import { startEmbeddedPostgres } from '@atrium/persistence';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The JWT secret of an embedded installation, made once and kept in its data directory. */
function embeddedJwtSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (!existsSync(file)) writeFileSync(file, randomBase62(48), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * All of Atrium in one process. Without DATABASE_URL it runs on PGlite persisted under
 * ATRIUM_DATA_DIR (default ./data); without AMQP_URL on the in-process bus.
 */
async function main(): Promise<void> {
  const logger = new Logger('Atrium');
  const dataDir = resolve(process.env.ATRIUM_DATA_DIR || 'data');
  mkdirSync(dataDir, { recursive: true });
  // The services' modules load while a new data directory is made (initdb, in a child process).
  const [embeddedDb, { startAtriumStack }] = await Promise.all([
    process.env.DATABASE_URL ? null : startEmbeddedPostgres(join(dataDir, 'pglite')),
    import('./atrium-stack'),
  ]);
  const env: NodeJS.ProcessEnv = {
    DB_POOL_SIZE: embeddedDb ? '4' : undefined,
    ...process.env,
    DATABASE_URL: process.env.DATABASE_URL || embeddedDb?.url,
    JWT_SECRET: process.env.JWT_SECRET || embeddedJwtSecret(dataDir),
    // Links in responses and mails point at this process unless told otherwise (a proxy in front).
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL || `http://localhost:${process.env.PORT || 3000}`,
    // Without SMTP, mail (verification, password reset, invitations) is kept for the operator here.
    MAIL_DIR: process.env.MAIL_DIR || (process.env.SMTP_URL ? undefined : join(dataDir, 'mail')),
  };
  const gatewayConfig = loadConfig(gatewayConfigSchema, env);
  const stack = await startAtriumStack(loadConfig(servicesConfigSchema, env), gatewayConfig);
  await stack.gateway.listen(gatewayConfig.PORT, gatewayConfig.HOST);
  const url = `http://${gatewayConfig.HOST === '0.0.0.0' ? 'localhost' : gatewayConfig.HOST}:${gatewayConfig.PORT}`;
  logger.log(
    `database: ${embeddedDb ? `embedded PGlite in ${dataDir}` : 'PostgreSQL'}; bus: ${gatewayConfig.AMQP_URL ? 'RabbitMQ' : 'in-process'}`,
  );
  // eslint-disable-next-line no-console
  console.log(
    `\nAtrium is running at ${url}  (API: ${url}/v2, health: ${url}/health/ready, docs: ${url}/docs)\n`,
  );

  const shutdown = async () => {
    await stack.close();
    await embeddedDb?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((err: unknown) => {
  new Logger('Atrium').error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
