import { AppError, RpcRequest, RpcResponse, RpcRoute, ServiceName } from '@atrium/contracts';

/** Sends one request to a service and resolves with its answer; rejects with an AppError. */
export interface RpcTransport {
  send(service: ServiceName, pattern: string, payload: unknown, timeoutMs: number): Promise<unknown>;
  close(): Promise<void>;
}

/** Typed calls on contract routes, each with a timeout; failures surface as AppErrors. */
export class RpcClient {
  constructor(
    private readonly transport: RpcTransport,
    private readonly defaultTimeoutMs: number,
  ) {}

  async call<R extends RpcRoute>(
    route: R,
    payload: RpcRequest<R>,
    timeoutMs = this.defaultTimeoutMs,
  ): Promise<RpcResponse<R>> {
    return (await this.transport.send(route.service, route.pattern, payload, timeoutMs)) as RpcResponse<R>;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

export function toAppError(service: ServiceName, err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (AppError.isSerialized(err)) return AppError.from(err);
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : 'unknown error';
  return new AppError('service-unavailable', `The ${service} service could not answer: ${message}`);
}

export function timeoutError(service: ServiceName, pattern: string, timeoutMs: number): AppError {
  return new AppError(
    'service-unavailable',
    `The ${service} service did not answer ${pattern} within ${timeoutMs} ms`,
  );
}
