import { z, ZodTypeAny } from 'zod';

export const SERVICES = ['identity', 'resources', 'permissions', 'issues'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * One RPC message pattern: the service that handles it, its pattern string, the request schema
 * (validated by the handler whatever the transport) and, as a type only, the response.
 */
export interface RpcRoute<Req extends ZodTypeAny = ZodTypeAny, Res = unknown> {
  readonly service: ServiceName;
  readonly pattern: string;
  readonly request: Req;
  /** Phantom field carrying the response type; never set at run time. */
  readonly response?: Res;
}

/** What a caller sends (defaults may be left out). */
export type RpcRequest<R> = R extends RpcRoute<infer Req, unknown> ? z.input<Req> : never;
/** What a handler receives, after validation applied the defaults. */
export type RpcPayload<R> = R extends RpcRoute<infer Req, unknown> ? z.output<Req> : never;
export type RpcResponse<R> = R extends RpcRoute<ZodTypeAny, infer Res> ? Res : never;

export function rpc<Res>() {
  return <Req extends ZodTypeAny>(
    service: ServiceName,
    pattern: string,
    request: Req,
  ): RpcRoute<Req, Res> => ({
    service,
    pattern,
    request,
  });
}

export const healthRequest = z.object({}).strict();
export interface HealthResponse {
  service: ServiceName;
  ok: true;
}

/**
 * A service's change version: the same while nothing it keeps has changed (see
 * `changeVersionMigration`); what a cache revalidates with.
 */
export interface ChangeVersionResponse {
  version: string;
}
