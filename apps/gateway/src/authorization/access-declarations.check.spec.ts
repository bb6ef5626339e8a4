import { Controller, Get, Module, Post, Put } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { GatewayConfig } from '@atrium/config';
import { GatewayModule } from '../gateway.module';
import type { GatewayMetrics } from '../health/metrics';
import { ChangesAccess, ChangesNoAccess } from './access-changes';
import { accessDeclarationProblems, AccessDeclarationsCheck } from './access-declarations.check';
import { Authorize, SignedIn } from './authorize.decorator';

@Controller('things')
class UndeclaredController {
  @Get()
  @SignedIn()
  list(): string[] {
    return [];
  }

  @Post()
  @SignedIn()
  @ChangesNoAccess()
  add(): void {}

  @Put(':thingId')
  @Authorize('DATASET', 'WRITE', 'thingId')
  update(): void {}
}

@Controller('misdeclared')
class MisdeclaredController {
  @Put(':accountId')
  @SignedIn()
  @ChangesAccess('resource')
  update(): void {}
}

@Module({
  imports: [DiscoveryModule],
  controllers: [UndeclaredController],
  providers: [AccessDeclarationsCheck],
})
class UndeclaredModule {}

describe('access declarations', () => {
  it('every write route of the gateway declares what it changes of access', () => {
    const { controllers } = GatewayModule.forRoot(
      { AMQP_URL: 'amqp://127.0.0.1', RPC_TIMEOUT_MS: 1000 } as GatewayConfig,
      {} as GatewayMetrics,
    );
    expect(controllers!.length).toBeGreaterThan(30);
    expect(accessDeclarationProblems(controllers!)).toEqual([]);
  });

  it('names a write route without a declaration, and a change of a resource the route does not authorize', () => {
    expect(accessDeclarationProblems([UndeclaredController, MisdeclaredController])).toEqual([
      expect.stringMatching(/^PUT :thingId \(UndeclaredController\.update\) declares no change of access/),
      expect.stringMatching(
        /^PUT :accountId \(MisdeclaredController\.update\) declares a change of the resource/,
      ),
    ]);
  });

  it('keeps an application with an undeclared write route from starting', async () => {
    const app = await NestFactory.create(UndeclaredModule, new FastifyAdapter(), {
      logger: false,
      abortOnError: false,
    });
    await expect(app.init()).rejects.toThrow(
      /PUT :thingId \(UndeclaredController\.update\) declares no change/,
    );
    await app.close();
  });
});
