import { RpcRoute } from '@atrium/contracts';

/** Where `RpcHandler` keeps a handler's contract route (on the method itself). */
export const RPC_ROUTE_METADATA = 'atrium:rpc-route';

/**
 * Binds a controller method to a contract route: the service's server (`RpcDispatcher`) calls it
 * with the request's payload, validated against the route's schema and read tolerantly. The
 * method takes the payload as its only parameter, through `@Payload()` (checked at start).
 */
export function RpcHandler(route: RpcRoute): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(RPC_ROUTE_METADATA, route, descriptor.value as object);
  };
}
