import { DynamicModule, INestMicroservice, Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { ServiceName } from '@atrium/contracts';
import * as amqplib from 'amqplib';
import { AckInterceptor } from './ack.interceptor';
import { assertExchanges } from './amqp.event-bus';
import { InProcessServer, inProcessRegistry } from './in-process.transport';
import { RpcErrorFilter } from './rpc-error.filter';
import {
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
export function rmqServerOptions(url: string, service: ServiceName): MicroserviceOptions {
  return {
    transport: Transport.RMQ,
    options: {
      urls: [url],
      queue: rpcQueue(service),
      queueOptions: rpcQueueOptions(service),
      noAck: false,
      prefetchCount: RPC_PREFETCH,
      persistent: true,
      socketOptions: { connectionOptions: amqpConnectionOptions },
    },
  };
}

export function logLevels(level: LogLevel): LogLevel[] {
  const order: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];
  return order.slice(0, order.indexOf(level) + 1);
}

/** Starts a service's Nest app on RabbitMQ (when `amqpUrl` is set) or on the in-process transport. */
export async function startServiceApp(
  rootModule: DynamicModule,
  service: ServiceName,
  options: { amqpUrl?: string; logLevel?: LogLevel },
): Promise<INestMicroservice> {
  if (options.amqpUrl) await assertRpcTopology(options.amqpUrl, service);
  const transport: MicroserviceOptions = options.amqpUrl
    ? rmqServerOptions(options.amqpUrl, service)
    : { strategy: new InProcessServer(service, inProcessRegistry) };
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(rootModule, {
    ...transport,
    logger: logLevels(options.logLevel ?? 'log'),
  });
  app.useGlobalFilters(new RpcErrorFilter());
  app.useGlobalInterceptors(new AckInterceptor());
  await app.listen();
  return app;
}

/**
 * Entry point of a service running as its own process: RabbitMQ is required, and SIGTERM or
 * SIGINT closes the app (stops consuming, lets in-flight handlers finish, closes connections).
 */
export async function runServiceProcess(
  rootModule: DynamicModule,
  service: ServiceName,
  config: { AMQP_URL?: string; LOG_LEVEL: LogLevel },
): Promise<void> {
  const logger = new Logger(service);
  if (!config.AMQP_URL) {
    logger.error(
      'AMQP_URL is required when a service runs as its own process (use `npm start` for the embedded mode)',
    );
    process.exit(1);
  }
  try {
    const app = await startServiceApp(rootModule, service, {
      amqpUrl: config.AMQP_URL,
      logLevel: config.LOG_LEVEL,
    });
    logger.log(`${service} service is consuming ${rpcQueue(service)}`);
    const shutdown = (signal: string) => {
      logger.log(`${signal} received, shutting down`);
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error(err);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  } catch (err) {
    logger.error(`${service} failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
}
