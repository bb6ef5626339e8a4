// Only what starts the embedded database is loaded before it starts (on its own thread); the
// rest loads meanwhile.
import type { Logger } from '@nestjs/common';
import {
  assertOwnDataDir,
  claimEmbeddedDataDir,
  startEmbeddedPostgres,
  StartRefused,
  updateEmbeddedLock,
} from '@atrium/persistence/embedded';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The JWT secret of an embedded installation, made once and kept in its data directory. */
function embeddedJwtSecret(dataDir: string, randomBase62: (length: number) => string): string {
  const file = join(dataDir, 'jwt-secret');
  if (!existsSync(file)) writeFileSync(file, randomBase62(48), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * Builds the web console once when its build is missing (an install that skipped scripts, a fresh
 * checkout): the gateway serves dist/console, and answers a page saying how to build it meanwhile.
 */
async function buildConsoleIfMissing(logger: Logger): Promise<void> {
  if (process.env.CONSOLE_DIR) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tool = require('../../../tools/build-console.js') as {
    CONSOLE_INDEX: string;
    cannotBuild(): string | null;
    buildConsole(options: { quiet: boolean }): Promise<number>;
  };
  if (existsSync(tool.CONSOLE_INDEX)) return;
  const why = tool.cannotBuild();
  if (why) return logger.warn(`The web console is not built (${why}); the API works without it`);
  logger.log('The web console is not built (dist/console/index.html is missing): building it once now');
  const started = Date.now();
  const code = await tool.buildConsole({ quiet: true }).catch(() => 1);
  if (code === 0) logger.log(`The web console is built (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  else logger.error('Building the web console failed; run `npm run console:build` to see why');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The host a browser should use for a listen address (any-address binds get `localhost`). */
function displayHost(host = '127.0.0.1'): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/**
 * Refuses a port another process listens on before anything starts (a data directory migrated and
 * "started" logged, then EADDRINUSE). PORT=0 (any free port) and values the configuration will
 * refuse itself are left to it.
 */
async function assertPortFree(portSetting: string | undefined, host = '127.0.0.1'): Promise<void> {
  const port = Number(portSetting || 3000);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return;
  const { createServer } = await import('node:net');
  await new Promise<void>((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new StartRefused(
              `Port ${port} on ${host} is already in use (another Atrium, or another program): stop it, or set PORT to a free port`,
            )
          : err,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolvePort()));
  });
}

/**
 * All of Atrium in one process. Without DATABASE_URL it runs on PGlite persisted under
 * ATRIUM_DATA_DIR (default ./data); without AMQP_URL on the in-process bus.
 */
async function main(): Promise<void> {
  // The data directory holds the database, its socket, the JWT secret and mail (reset links):
  // the owner's alone, whatever the umask or the modes of a directory made before.
  process.umask(0o077);
  const dataDir = resolve(process.env.ATRIUM_DATA_DIR || 'data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Refused when another user owns it or could swap it; claiming it checks that first.
  // One process per embedded data directory; `npm run backup` finds the database through the lock.
  const release = process.env.DATABASE_URL ? null : claimEmbeddedDataDir(dataDir, 'Atrium (npm start)');
  if (!release) assertOwnDataDir(dataDir);
  chmodSync(dataDir, 0o700);
  // Whichever way the process exits (a crash leaves a lock whose process is gone: taken over).
  if (release) process.once('exit', release);
  await assertPortFree(process.env.PORT, process.env.HOST);
  // Where a start's time goes (printed once ready): the side-by-side steps end at their own times.
  const phases: string[] = [`node and the first modules ${seconds(performance.now())}`];
  const timed = async <T>(label: string, work: Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work;
    phases.push(`${label} ${seconds(performance.now() - started)}`);
    return result;
  };
  // PGlite starts first, on its own thread (a new data directory is a copy of the pristine one,
  // or initdb in a child process); the services' modules load on this one meanwhile.
  const freshDb = !process.env.DATABASE_URL && !existsSync(join(dataDir, 'pglite', 'PG_VERSION'));
  const startingDb = process.env.DATABASE_URL
    ? null
    : timed(
        `PGlite${freshDb ? ' (new data directory)' : ''}`,
        startEmbeddedPostgres(join(dataDir, 'pglite')),
      );
  // Not left unhandled while the modules load: awaited below.
  startingDb?.catch(() => undefined);
  const { Logger } = await import('@nestjs/common');
  const logger = new Logger('Atrium');
  // The console is built meanwhile when it is missing (first start without an install build).
  const consoleBuilt = buildConsoleIfMissing(logger);
  const [
    embeddedDb,
    { startAtriumStack },
    { flushTracing, startTracing },
    { gatewayConfigSchema, loadConfig, servicesConfigSchema },
    { randomBase62 },
  ] = await Promise.all([
    startingDb,
    timed("the services' modules", import('./atrium-stack')),
    import('@atrium/messaging'),
    import('@atrium/config'),
    import('@atrium/auth'),
  ]);
  // Before the services start (OTEL_EXPORTER_OTLP_ENDPOINT unset: no SDK is loaded).
  if (startTracing('atrium')) logger.log(`Tracing to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}`);
  if (embeddedDb) {
    updateEmbeddedLock(dataDir, embeddedDb.url);
    // Its thread ended by itself (a crash): nothing answers queries any more.
    embeddedDb.ended.catch((err: unknown) => {
      logger.error(`The embedded database stopped: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
  }
  // An empty PORT is no PORT (3000); one that is not a port number is named by the config check
  // alone (the links' address below then keeps the default rather than failing as a URL too).
  const port = process.env.PORT?.trim() || undefined;
  const env: NodeJS.ProcessEnv = {
    DB_POOL_SIZE: embeddedDb ? '4' : undefined,
    // One connection to PGlite: a check reads it as fast as a copy in memory would be kept fresh.
    PERMISSIONS_FACTS_IN_MEMORY: embeddedDb ? 'false' : undefined,
    ...process.env,
    PORT: port,
    DATABASE_URL: process.env.DATABASE_URL || embeddedDb?.url,
    JWT_SECRET: process.env.JWT_SECRET || embeddedJwtSecret(dataDir, randomBase62),
    // Links in responses and mails point at this process unless told otherwise (a proxy in front).
    // The address it listens on (and prints), so links lead to the same origin as the console's
    // cookies: `localhost` and `127.0.0.1` are two origins to a browser.
    PUBLIC_BASE_URL:
      process.env.PUBLIC_BASE_URL ||
      `http://${displayHost(process.env.HOST)}:${port && /^[0-9]+$/.test(port) ? port : 3000}`,
    // Without SMTP, mail (verification, password reset, invitations) is kept for the operator here.
    MAIL_DIR: process.env.MAIL_DIR || (process.env.SMTP_URL ? undefined : join(dataDir, 'mail')),
  };
  const gatewayConfig = loadConfig(gatewayConfigSchema, env);
  const stack = await timed(
    'services (migrations included) and gateway',
    startAtriumStack(loadConfig(servicesConfigSchema, env), gatewayConfig),
  );
  await consoleBuilt;
  await stack.gateway.listen(gatewayConfig.PORT, gatewayConfig.HOST);
  const cpu = process.cpuUsage();
  logger.log(
    `ready in ${seconds(performance.now())} (CPU ${seconds((cpu.user + cpu.system) / 1000)}): ${phases.join(', ')}`,
  );
  const url = `http://${displayHost(gatewayConfig.HOST)}:${gatewayConfig.PORT}`;
  logger.log(
    `database: ${embeddedDb ? `embedded PGlite in ${dataDir}` : 'PostgreSQL'}; bus: ${gatewayConfig.AMQP_URL ? 'RabbitMQ' : 'in-process'}`,
  );
  // eslint-disable-next-line no-console
  console.log(
    `\nAtrium is running at ${url}  (console: ${url}/, API: ${url}/v2, health: ${url}/health/ready, docs: ${url}/docs)\n`,
  );

  const shutdown = async () => {
    await stack.close();
    await embeddedDb?.stop();
    await flushTracing().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch(async (err: unknown) => {
  const { Logger } = await import('@nestjs/common');
  const said =
    err instanceof StartRefused
      ? err.message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
  new Logger('Atrium').error(said);
  process.exit(1);
});
