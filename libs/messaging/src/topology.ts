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

/** Seconds between reconnection attempts after the broker goes away (amqp-connection-manager's default is 5). */
export const AMQP_RECONNECT_SECONDS = 1;
