/**
 * Baseline echo handler: a NestJS RMQ microservice with Atrium's server options (manual ack via
 * the project's AckInterceptor, persistent, bounded prefetch) answering `bench.echo` with its payload.
 *   AMQP_URL=amqp://… node -r ./tools/register.js bench/baseline/echo-service.ts
 */
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, MicroserviceOptions, Payload } from '@nestjs/microservices';
import { AckInterceptor, logLevels, RpcErrorFilter } from '@atrium/messaging';
import { BENCH_ECHO_PATTERN, benchServerOptions, requiredEnv } from './bench-rpc';

@Controller()
class EchoController {
  @MessagePattern(BENCH_ECHO_PATTERN)
  echo(@Payload() payload: unknown): unknown {
    return payload;
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(EchoModule, {
    ...benchServerOptions(requiredEnv('AMQP_URL')),
    logger: logLevels('warn'),
  });
  app.useGlobalFilters(new RpcErrorFilter());
  app.useGlobalInterceptors(new AckInterceptor());
  await app.listen();
  const stop = () => void app.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`echo service failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
