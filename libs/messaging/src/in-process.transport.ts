import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { AppError, ServiceName } from '@atrium/contracts';
import { from, lastValueFrom, timeout, TimeoutError } from 'rxjs';
import { RpcTransport, timeoutError, toAppError } from './rpc-transport';
import { rpcSpan } from './tracing';
import { deadlineError, deadlinePassed, rpcCallHeaders, withRpcHeaders } from './idempotency';
import { RpcDispatcher } from './rpc-dispatcher';

/** Copies a value as the wire would, so no caller shares objects with a handler. */
const overTheWire = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));

/**
 * The embedded mode's transport: the same handlers run as under RMQ (`RpcDispatcher`), but
 * requests are dispatched in memory. Several servers of one service take turns.
 */
export class InProcessServer extends Server implements CustomTransportStrategy {
  constructor(
    readonly service: ServiceName,
    private readonly registry: InProcessRegistry,
  ) {
    super();
  }

  private dispatcher: RpcDispatcher | undefined;

  /** The service's handlers (its app's, found once it is created). */
  useDispatcher(dispatcher: RpcDispatcher): void {
    this.dispatcher = dispatcher;
  }

  listen(callback: () => void): void {
    this.registry.register(this);
    callback();
  }

  close(): void {
    this.registry.unregister(this);
  }

  on(): void {
    /* no transport events in memory */
  }

  unwrap<T>(): T {
    return this as unknown as T;
  }

  async dispatch(pattern: string, payload: unknown): Promise<unknown> {
    if (deadlinePassed()) throw deadlineError();
    if (!this.dispatcher?.handles(pattern))
      throw new AppError('service-unavailable', `No handler for ${pattern} in ${this.service}`);
    const answer = await this.dispatcher.handle(pattern, overTheWire(payload));
    if (answer.err) throw answer.err;
    return overTheWire(answer.response);
  }
}

export class InProcessRegistry {
  private readonly servers = new Map<ServiceName, InProcessServer[]>();
  private turn = 0;

  register(server: InProcessServer): void {
    this.servers.set(server.service, [...(this.servers.get(server.service) ?? []), server]);
  }

  unregister(server: InProcessServer): void {
    this.servers.set(
      server.service,
      (this.servers.get(server.service) ?? []).filter((s) => s !== server),
    );
  }

  pick(service: ServiceName): InProcessServer | undefined {
    const servers = this.servers.get(service) ?? [];
    return servers.length ? servers[this.turn++ % servers.length] : undefined;
  }
}

/** One registry per process: the embedded mode is one process by definition. */
export const inProcessRegistry = new InProcessRegistry();

export class InProcessRpcTransport implements RpcTransport {
  constructor(private readonly registry: InProcessRegistry = inProcessRegistry) {}

  // The trace context crosses with the call itself (one process, one async context).
  send(service: ServiceName, pattern: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return rpcSpan('client', service, pattern, () => this.sendNow(service, pattern, payload, timeoutMs));
  }

  private async sendNow(service: ServiceName, pattern: string, payload: unknown, timeoutMs: number) {
    const server = this.registry.pick(service);
    if (!server) throw new AppError('service-unavailable', `The ${service} service is not running`);
    try {
      // The handler runs under its own derived key and the caller's deadline, as over RMQ.
      const headers = rpcCallHeaders(pattern, timeoutMs);
      const answer = withRpcHeaders(headers, () => server.dispatch(pattern, payload));
      return await lastValueFrom(from(answer).pipe(timeout(timeoutMs)));
    } catch (err) {
      if (err instanceof TimeoutError) throw timeoutError(service, pattern, timeoutMs);
      throw toAppError(service, err);
    }
  }

  async close(): Promise<void> {
    /* nothing to release */
  }
}
