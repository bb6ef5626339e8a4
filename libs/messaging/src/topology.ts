import { ServiceName } from '@atrium/contracts';

export const EVENTS_EXCHANGE = 'atrium.events';
export const DEAD_LETTER_EXCHANGE = 'atrium.dlx';
export const RPC_PREFETCH = 32;
export const EVENT_PREFETCH = 16;
export const MAX_EVENT_RETRIES = 5;
/** The wait before an event's n-th retry: 100 ms doubling, at most 5 s (a database outage is retried for as long as it lasts). */
export const eventRetryDelayMs = (retry: number): number => Math.min(100 * 2 ** retry, 5000);

export const rpcQueue = (service: ServiceName): string => `${service}.rpc`;
export const eventQueue = (consumer: string): string => `${consumer}.events`;
export const deadLetterQueue = (queue: string): string => `${queue}.dlq`;

/** Identical on server and client: RabbitMQ refuses a re-declaration with other arguments. */
export function rpcQueueOptions(service: ServiceName) {
  return {
    durable: true,
    arguments: {
      'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
      'x-dead-letter-routing-key': rpcQueue(service),
    },
  };
}

/** Nagle's algorithm adds ~40 ms per round trip on small AMQP frames. */
export const amqpConnectionOptions = { noDelay: true };

/**
 * Seconds before the first reconnection attempt after a connection to the broker is lost
 * (amqp-connection-manager's default is 5): a reset connection (a broker restart, a proxy or load
 * balancer cutting it) is mended in ~0.1 s instead of callers getting 503s for a second. Each
 * failed attempt doubles the wait, up to AMQP_RECONNECT_MAX_SECONDS (`backOffReconnects`).
 */
export const AMQP_RECONNECT_SECONDS = 0.1;
/** The wait between attempts while the broker stays unreachable. */
export const AMQP_RECONNECT_MAX_SECONDS = 1;

/** What `backOffReconnects` needs of amqp-connection-manager's connection. */
interface ReconnectingConnection {
  reconnectTimeInSeconds: number;
  on(event: 'connect' | 'connectFailed', listener: () => void): unknown;
}

/**
 * Makes a connection's reconnection attempts back off: the first AMQP_RECONNECT_SECONDS after it
 * is lost, doubled after each failure up to AMQP_RECONNECT_MAX_SECONDS, and quick again once it
 * connects. amqp-connection-manager reads `reconnectTimeInSeconds` before every attempt.
 */
export function backOffReconnects<C extends ReconnectingConnection>(connection: C): C {
  connection.reconnectTimeInSeconds = AMQP_RECONNECT_SECONDS;
  connection.on('connect', () => (connection.reconnectTimeInSeconds = AMQP_RECONNECT_SECONDS));
  connection.on('connectFailed', () => {
    connection.reconnectTimeInSeconds = Math.min(
      connection.reconnectTimeInSeconds * 2,
      AMQP_RECONNECT_MAX_SECONDS,
    );
  });
  return connection;
}
