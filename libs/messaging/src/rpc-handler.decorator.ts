import { applyDecorators, PipeTransform, UsePipes } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { parseInternal, RpcRoute } from '@atrium/contracts';
import { ZodTypeAny } from 'zod';

class RouteValidationPipe implements PipeTransform {
  constructor(private readonly schema: ZodTypeAny) {}
  transform(value: unknown, metadata: { type: unknown }): unknown {
    // Only the payload is validated; the transport context passes through. (Nest's pipes consumer
    // names RPC payload parameters 'body', as it does HTTP bodies.) Callers are Atrium's services,
    // maybe of another release: fields this release does not know are dropped, not refused.
    return metadata.type === 'body' ? parseInternal(this.schema, value, 'payload') : value;
  }
}

/**
 * Binds a handler to a contract route and validates its `@Payload()` against the route's schema
 * (handlers must take the payload through `@Payload()` for the pipe to apply), read tolerantly.
 * The request's schema version is noted by the server's interceptors (`startServiceApp`).
 */
export function RpcHandler(route: RpcRoute): MethodDecorator {
  return applyDecorators(MessagePattern(route.pattern), UsePipes(new RouteValidationPipe(route.request)));
}
