import { DynamicModule, INestMicroservice, Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, RmqOptions, Transport } from '@nestjs/microservices';
import { ServiceName } from '@atrium/contracts';
import * as amqplib from 'amqplib';
import { serveMetrics } from './messaging-metrics';
import { flushTracing, startTracing } from './tracing';
import { AtriumLogger, LogFormat, logFormat } from './atrium-logger';
import { assertExchanges } from './amqp.event-bus';
import { InProcessServer, inProcessRegistry } from './in-process.transport';
import { RmqRpcServer } from './rmq-rpc.server';
import { RpcDispatcher } from './rpc-dispatcher';
import {
  AMQP_RECONNECT_SECONDS,
  amqpConnectionOptions,
  DEAD_LETTER_EXCHANGE,
  deadLetterQueue,
  RPC_PREFETCH,
  rpcQueue,
  rpcQueueOptions,
} from './topology';

/** Declares the exchanges and the RPC dead-letter queue a service needs before it consumes. */
export async function assertRpcTopology(url: string, service: ServiceName): Promise<void> {
  const connection = await amqplib.connect(url, amqpConnectionOptions);
  try {
    const channel = await connection.createChannel();
    await assertExchanges(channel);
    await channel.assertQueue(deadLetterQueue(rpcQueue(service)), { durable: true });
    await channel.bindQueue(deadLetterQueue(rpcQueue(service)), DEAD_LETTER_EXCHANGE, rpcQueue(service));
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** RMQ server options with NestJS's unsafe defaults (auto-ack, transient, unbounded prefetch) overridden. */
export function rmqServerOptions(url: string, service: ServiceName): Required<RmqOptions> {
  return {
    transport: Transport.RMQ,
    options: {
      urls: [url],
      queue: rpcQueue(service),
      queueOptions: rpcQueueOptions(service),
      noAck: false,
      prefetchCount: RPC_PREFETCH,
      persistent: true,
      socketOptions: {
        connectionOptions: amqpConnectionOptions,
        reconnectTimeInSeconds: AMQP_RECONNECT_SECONDS,
      },
    },
  };
}

/** Starts a service's Nest app on RabbitMQ (when `amqpUrl` is set) or on the in-process transport. */
export async function startServiceApp(
  rootModule: DynamicModule,
  service: ServiceName,
  options: {
    amqpUrl?: string;
    logLevel?: LogLevel;
    logFormat?: LogFormat;
    /** The `service` of its log lines (one process running every service names itself). */
    logName?: string;
  },
): Promise<INestMicroservice> {
  if (options.amqpUrl) await assertRpcTopology(options.amqpUrl, service);
  const server = options.amqpUrl
    ? new RmqRpcServer(rmqServerOptions(options.amqpUrl, service).options)
    : new InProcessServer(service, inProcessRegistry);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(rootModule, {
    strategy: server,
    // A module that fails to start (the database not answering in time) throws to the caller, as
    // any other start error does, instead of Nest ending the process: one process may hold more
    // than this service (the embedded mode, a test run that found every later file aborted).
    abortOnError: false,
    logger: new AtriumLogger(
      options.logName ?? service,
      options.logLevel ?? 'log',
      logFormat(options.logFormat),
    ),
  });
  // Requests are answered by the service's handlers directly, not through Nest's RPC pipeline.
  server.useDispatcher(RpcDispatcher.fromApp(app, service));
  await app.listen();
  return app;
}

/** A shutdown that takes longer than this (a stuck hook) ends the process anyway. */
const SHUTDOWN_DEADLINE_MS = 25_000;

/**
 * Entry point of a service running as its own process: RabbitMQ is required, and SIGTERM or
 * SIGINT closes the app: it stops consuming requests and events, lets the handlers already
 * running finish (up to 10 s each), publishes what they wrote to the outbox, then closes its
 * connections and exits.
 */
export async function runServiceProcess(
  rootModule: DynamicModule,
  service: ServiceName,
  config: { AMQP_URL?: string; LOG_LEVEL: LogLevel; LOG_FORMAT?: LogFormat; METRICS_PORT?: number },
): Promise<void> {
  const logger = new Logger(service);
  if (!config.AMQP_URL) {
    logger.error(
      'AMQP_URL is required when a service runs as its own process (use `npm start` for the embedded mode)',
    );
    process.exit(1);
  }
  // Before the app starts: its first query and RPC are traced (OTEL_EXPORTER_OTLP_ENDPOINT).
  if (startTracing(service)) logger.log(`Tracing to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}`);
  try {
    const app = await startServiceApp(rootModule, service, {
      amqpUrl: config.AMQP_URL,
      logLevel: config.LOG_LEVEL,
      logFormat: config.LOG_FORMAT,
    });
    logger.log(`${service} service is consuming ${rpcQueue(service)}`);
    if (config.METRICS_PORT) {
      // Served until the process exits.
      await serveMetrics(config.METRICS_PORT);
      logger.log(`Metrics on :${config.METRICS_PORT}/metrics`);
    }
    let closing = false;
    const shutdown = (signal: string) => {
      // A terminal's Ctrl+C reaches both a launcher and its children, which then forwards it too.
      if (closing) return;
      closing = true;
      logger.log(`${signal} received, shutting down`);
      const started = Date.now();
      setTimeout(() => {
        logger.error(`Shutdown did not finish in ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
      app.close().then(
        async () => {
          await flushTracing().catch(() => undefined);
          logger.log(`Shut down in ${Date.now() - started} ms`);
          process.exit(0);
        },
        (err: unknown) => {
          logger.error(err);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  } catch (err) {
    logger.error(`${service} failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
}
