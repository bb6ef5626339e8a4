import { Logger } from '@nestjs/common';
import { ClientRMQ, RmqRecordBuilder } from '@nestjs/microservices';
import { SERVICES, ServiceName } from '@atrium/contracts';
import { lastValueFrom, Observable, race, Subject, timeout, TimeoutError } from 'rxjs';
import {
  AMQP_RECONNECT_SECONDS,
  amqpConnectionOptions,
  backOffReconnects,
  rpcQueue,
  rpcQueueOptions,
} from './topology';
import { currentRequestId, REQUEST_ID_HEADER } from './request-context';
import { RpcTransport, timeoutError, toAppError } from './rpc-transport';
import { rpcSpan, traceHeaders } from './tracing';
import { schemaVersionHeaders } from './schema-version';
import { IDEMPOTENCY_KEY_HEADER, rpcCallHeaders } from './idempotency';

/**
 * Nest's RMQ client, whose channel wrapper's 'error' (its setup failing because the connection
 * went away: seen under the fault tests) was an unhandled 'error' event, which ends the process.
 * The wrapper sets the channel up again when the connection is back, which is retried with
 * backoff (`backOffReconnects`). The calls on their way when the connection goes fail at once
 * (`connectionLost`): their replies come back on direct reply-to, which is the lost channel's, so
 * they could only wait for their deadline.
 */
class WatchedClientRMQ extends ClientRMQ {
  private readonly channelLogger = new Logger('RmqRpcTransport');
  private lost = new Subject<never>();

  /** Errors when the connection in use now is lost. */
  get connectionLost(): Observable<never> {
    return this.lost;
  }

  override createClient(): ReturnType<ClientRMQ['createClient']> {
    const connection = backOffReconnects(super.createClient());
    connection.on('disconnect', () => {
      const lost = this.lost;
      this.lost = new Subject<never>();
      lost.error(new Error('the connection to RabbitMQ was lost before the answer came'));
    });
    return connection;
  }

  override createChannel(): Promise<void> {
    const created = super.createChannel();
    (this.channel as { on?(event: 'error', listener: (err: Error) => void): void } | null)?.on?.(
      'error',
      (err) => this.channelLogger.warn(`RPC client channel setup failed: ${err.message}`),
    );
    return created;
  }
}

/** RPC over @nestjs/microservices RMQ: persistent write requests, direct reply-to, a deadline per call. */
export class RmqRpcTransport implements RpcTransport {
  private readonly clients = new Map<ServiceName, WatchedClientRMQ>();

  constructor(private readonly url: string) {}

  private client(service: ServiceName): WatchedClientRMQ {
    let client = this.clients.get(service);
    if (!client) {
      client = new WatchedClientRMQ({
        urls: [this.url],
        queue: rpcQueue(service),
        queueOptions: rpcQueueOptions(service),
        persistent: true,
        socketOptions: {
          connectionOptions: amqpConnectionOptions,
          reconnectTimeInSeconds: AMQP_RECONNECT_SECONDS,
        },
      });
      this.clients.set(service, client);
    }
    return client;
  }

  send(service: ServiceName, pattern: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return rpcSpan('client', service, pattern, () => this.sendNow(service, pattern, payload, timeoutMs));
  }

  private async sendNow(service: ServiceName, pattern: string, payload: unknown, timeoutMs: number) {
    if (!SERVICES.includes(service)) throw new Error(`Unknown service ${service}`);
    // The broker drops a request nobody took before the caller gave up on it.
    const requestId = currentRequestId();
    const callHeaders = rpcCallHeaders(pattern, timeoutMs);
    const record = new RmqRecordBuilder(payload)
      .setOptions({
        expiration: String(timeoutMs),
        // A write's call (it carries the write's idempotency key) is persistent, as DESIGN.md's
        // at-least-once rule says. Any other call — a check, a read — is not: its answer can only
        // go to this connection's direct reply-to, so after a broker restart nobody would be there
        // to take it (this call has already failed with the connection), and delivering it again
        // changes nothing. On a classic queue, persisting it cost the broker 2.4× the CPU and the
        // hop 1.6–2× its p50 (docs/SCALING.md, RabbitMQ); a quorum queue stores every message alike.
        persistent: IDEMPOTENCY_KEY_HEADER in callHeaders,
        headers: {
          ...schemaVersionHeaders(),
          ...(requestId && { [REQUEST_ID_HEADER]: requestId }),
          ...traceHeaders(),
          ...callHeaders,
        },
      })
      .build();
    try {
      const client = this.client(service);
      return await lastValueFrom(
        race(client.send(pattern, record), client.connectionLost).pipe(timeout(timeoutMs)),
      );
    } catch (err) {
      if (err instanceof TimeoutError) throw timeoutError(service, pattern, timeoutMs);
      throw toAppError(service, err);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
