import { Controller, Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { HealthResponse, RpcRoute } from '@atrium/contracts';
import { DataSource } from 'typeorm';
import { RpcHandler } from './rpc-handler.decorator';

/** The health RPC of a service: answers only when its database answers. */
export function healthControllerFor(route: RpcRoute): Type<unknown> {
  @Controller()
  class HealthMessageController {
    constructor(private readonly dataSource: DataSource) {}

    @RpcHandler(route)
    // The payload is taken (and so validated: `{}`) even though nothing in it is used.
    async health(@Payload() _payload: Record<string, never>): Promise<HealthResponse> {
      await this.dataSource.query('SELECT 1');
      return { service: route.service, ok: true };
    }
  }
  return HealthMessageController;
}
