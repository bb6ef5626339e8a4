import { RmqOptions, Transport } from '@nestjs/microservices';
import { amqpConnectionOptions, DEAD_LETTER_EXCHANGE, RPC_PREFETCH } from '@atrium/messaging';

/**
 * The baseline's RPC queue: the same settings as a service's (`rmqServerOptions`, `RmqRpcTransport`
 * in libs/messaging) on a queue of its own, so the baseline pays what an Atrium hop pays —
 * persistent messages, manual acks, bounded prefetch, direct reply-to, TCP_NODELAY.
 */
export const BENCH_RPC_QUEUE = 'bench.rpc';
export const BENCH_ECHO_PATTERN = 'bench.echo';

export const benchQueueOptions = {
  durable: true,
  arguments: {
    'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
    'x-dead-letter-routing-key': BENCH_RPC_QUEUE,
  },
};

export function benchServerOptions(url: string): RmqOptions {
  return {
    transport: Transport.RMQ,
    options: {
      urls: [url],
      queue: BENCH_RPC_QUEUE,
      queueOptions: benchQueueOptions,
      noAck: false,
      prefetchCount: RPC_PREFETCH,
      persistent: true,
      socketOptions: { connectionOptions: amqpConnectionOptions },
    },
  };
}

export function benchClientOptions(url: string): NonNullable<RmqOptions['options']> {
  return {
    urls: [url],
    queue: BENCH_RPC_QUEUE,
    queueOptions: benchQueueOptions,
    persistent: true,
    socketOptions: { connectionOptions: amqpConnectionOptions },
  };
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`${name} is required\n`);
    process.exit(1);
  }
  return value;
}
