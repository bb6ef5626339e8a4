/**
 * Baseline HTTP route: NestJS on Fastify (the gateway's adapter), one GET that makes one RabbitMQ
 * RPC to the echo service — sent as `RmqRpcTransport` sends (persistent, expiring, with a
 * deadline) — and answers `{ data }`. No authentication, no authorization.
 *   AMQP_URL=amqp://… PORT=… node -r ./tools/register.js bench/baseline/baseline-gateway.ts
 */
import { Controller, Get, Inject, Module, OnApplicationShutdown, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientRMQ, RmqRecordBuilder } from '@nestjs/microservices';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { logLevels } from '@atrium/messaging';
import { lastValueFrom, timeout } from 'rxjs';
import { BENCH_ECHO_PATTERN, benchClientOptions, requiredEnv } from './bench-rpc';

const ECHO_CLIENT = Symbol('ECHO_CLIENT');
const RPC_TIMEOUT_MS = 5000;

@Controller()
class BaselineController implements OnApplicationShutdown {
  constructor(@Inject(ECHO_CLIENT) private readonly client: ClientRMQ) {}

  @Get('bench/echo/:id')
  async echo(@Param('id') id: string): Promise<{ data: unknown }> {
    const record = new RmqRecordBuilder({ id }).setOptions({ expiration: String(RPC_TIMEOUT_MS) }).build();
    const data = await lastValueFrom(
      this.client.send(BENCH_ECHO_PATTERN, record).pipe(timeout(RPC_TIMEOUT_MS)),
    );
    return { data };
  }

  @Get('health/ready')
  async ready(): Promise<{ status: string }> {
    await this.echo('ready');
    return { status: 'ready' };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

@Module({
  controllers: [BaselineController],
  providers: [
    { provide: ECHO_CLIENT, useFactory: () => new ClientRMQ(benchClientOptions(requiredEnv('AMQP_URL'))) },
  ],
})
class BaselineModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(BaselineModule, new FastifyAdapter(), {
    logger: logLevels('warn'),
  });
  app.enableShutdownHooks();
  await app.listen(Number(requiredEnv('PORT')), '127.0.0.1');
}

main().catch((err: unknown) => {
  process.stderr.write(`baseline gateway failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
