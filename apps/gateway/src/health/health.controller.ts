import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { IdentityRpc, IssuesRpc, PermissionsRpc, ResourcesRpc } from '@atrium/contracts';
import { EVENT_BUS, EventBus, RpcClient } from '@atrium/messaging';
import type { FastifyReply } from 'fastify';
import { Public } from '../authorization/authorize.decorator';
import { GatewayMetrics } from './metrics';
import { Returns } from '../http/validated';
import { anyObject, rawBody } from '../http/views';
import { z } from 'zod';

const READY_TIMEOUT_MS = 2000;
const HEALTH_ROUTES = [IdentityRpc.health, ResourcesRpc.health, PermissionsRpc.health, IssuesRpc.health];

@Controller()
@Public()
export class HealthController {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  @Get('health/live')
  @Returns(z.object({ status: z.literal('ok') }), { envelope: false })
  live() {
    return { status: 'ok' };
  }

  /**
   * Ready only when every service answers its health RPC (each answers only with its database up)
   * and the gateway's own event bus connection (RabbitMQ; always up in memory), which carries its
   * cache invalidations, is up.
   */
  @Get('health/ready')
  @Returns(anyObject, { envelope: false })
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const results = await Promise.allSettled(
      HEALTH_ROUTES.map((route) => this.rpc.call(route, {}, READY_TIMEOUT_MS)),
    );
    const services = Object.fromEntries(
      HEALTH_ROUTES.map((route, i) => [route.service, results[i].status === 'fulfilled' ? 'up' : 'down']),
    );
    const bus = this.bus.connected ? 'up' : 'down';
    const ready = results.every((r) => r.status === 'fulfilled') && this.bus.connected;
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'unavailable', services, bus };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  @Returns(rawBody, { envelope: false, contentType: 'text/plain' })
  metricsText(): Promise<string> {
    return this.metrics.text();
  }
}
