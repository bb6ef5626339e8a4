import { handleInContext } from './event-bus';
import { Logger } from '@nestjs/common';
import { EventEnvelope } from '@atrium/contracts';
import * as amqp from 'amqp-connection-manager';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { EventBus, EventHandler, PoisonMessageError } from './event-bus';
import {
  AMQP_RECONNECT_SECONDS,
  amqpConnectionOptions,
  DEAD_LETTER_EXCHANGE,
  deadLetterQueue,
  EVENT_PREFETCH,
  eventQueue,
  EVENTS_EXCHANGE,
  eventRetryDelayMs,
  MAX_EVENT_RETRIES,
  backOffReconnects,
} from './topology';
import { isDatabaseUnavailable } from './database-unavailable';

const PUBLISH_TIMEOUT_MS = 5000;
/** How long `stopConsuming` waits for running handlers before their events are left to redelivery. */
const DRAIN_TIMEOUT_MS = 10_000;

/** Declares the exchanges every service relies on: events (topic) and dead letters (direct). */
export async function assertExchanges(channel: Channel): Promise<void> {
  await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  await channel.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
}

/** A durable queue whose rejected messages go to its own dead-letter queue. */
export async function assertQueueWithDeadLetters(
  channel: Channel,
  queue: string,
  options: { arguments?: Record<string, unknown> } = {},
): Promise<void> {
  await channel.assertQueue(queue, {
    durable: true,
    arguments: {
      'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
      'x-dead-letter-routing-key': queue,
      ...options.arguments,
    },
  });
  await channel.assertQueue(deadLetterQueue(queue), { durable: true });
  await channel.bindQueue(deadLetterQueue(queue), DEAD_LETTER_EXCHANGE, queue);
}

/**
 * Events over RabbitMQ: a topic exchange, a durable queue per consuming service, persistent
 * messages with publisher confirms, manual acks after the handler, bounded redelivery with
 * backoff, then the dead-letter queue. Reconnects by itself (amqp-connection-manager).
 */
export class AmqpEventBus implements EventBus {
  private readonly connection: amqp.AmqpConnectionManager;
  private readonly publisher: amqp.ChannelWrapper;
  private readonly consumers: amqp.ChannelWrapper[] = [];
  /** The live consumer of each subscribed queue, to cancel it on shutdown. */
  private readonly consumerTags = new Map<string, { channel: Channel; tag: string }>();
  private readonly running = new Set<Promise<void>>();
  private stopping: Promise<void> | undefined;
  private readonly logger = new Logger('AmqpEventBus');

  constructor(url: string) {
    this.connection = backOffReconnects(
      amqp.connect([url], {
        connectionOptions: amqpConnectionOptions,
        reconnectTimeInSeconds: AMQP_RECONNECT_SECONDS,
      }),
    );
    this.connection.on('disconnect', ({ err }) =>
      this.logger.warn(`Disconnected from RabbitMQ: ${err?.message}`),
    );
    this.publisher = this.watched(
      this.connection.createChannel({
        confirm: true,
        setup: (ch: ConfirmChannel) => assertExchanges(ch),
      }),
    );
  }

  /**
   * A connection lost while a channel is being set up makes its wrapper emit 'error', which ends
   * the process if nobody listens (seen under the fault tests); the wrapper sets the channel up
   * again when the connection is back.
   */
  private watched<W extends amqp.ChannelWrapper>(wrapper: W): W {
    wrapper.on('error', (err: Error) => this.logger.warn(`Channel setup failed: ${err.message}`));
    return wrapper;
  }

  get connected(): boolean {
    return this.connection.isConnected();
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.connection.on('connect', () => listener(true));
    this.connection.on('disconnect', () => listener(false));
  }

  async subscribeBroadcast(eventNames: readonly string[], handler: EventHandler): Promise<void> {
    const wrapper = this.watched(
      this.connection.createChannel({
        setup: async (ch: ConfirmChannel) => {
          await assertExchanges(ch);
          // A fresh server-named queue per connection: it exists only while this replica listens.
          const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
          for (const name of eventNames) await ch.bindQueue(queue, EVENTS_EXCHANGE, name);
          await ch.consume(
            queue,
            (msg) => {
              if (!msg) return;
              try {
                void handleInContext(handler, JSON.parse(msg.content.toString()) as EventEnvelope).catch(
                  (err: Error) => this.logger.warn(`Broadcast handler failed: ${err.message}`),
                );
              } catch (err) {
                this.logger.warn(`Unparseable broadcast message: ${(err as Error).message}`);
              }
            },
            { noAck: true },
          );
        },
      }),
    );
    this.consumers.push(wrapper);
    await wrapper.waitForConnect();
  }

  async publish(envelope: EventEnvelope): Promise<void> {
    await this.publisher.publish(EVENTS_EXCHANGE, envelope.name, Buffer.from(JSON.stringify(envelope)), {
      persistent: true,
      messageId: envelope.id,
      type: envelope.name,
      contentType: 'application/json',
      timeout: PUBLISH_TIMEOUT_MS,
    });
  }

  async subscribe(consumer: string, eventNames: readonly string[], handler: EventHandler): Promise<void> {
    const queue = eventQueue(consumer);
    const wrapper = this.watched(
      this.connection.createChannel({
        setup: async (ch: ConfirmChannel) => {
          await assertExchanges(ch);
          await assertQueueWithDeadLetters(ch, queue);
          for (const name of eventNames) await ch.bindQueue(queue, EVENTS_EXCHANGE, name);
          await ch.prefetch(EVENT_PREFETCH);
          // A reconnect while stopping must not start consuming again.
          if (this.stopping) return;
          const { consumerTag } = await ch.consume(
            queue,
            (msg) => msg && this.track(this.handle(ch, queue, msg, handler)),
            {
              noAck: false,
            },
          );
          this.consumerTags.set(queue, { channel: ch, tag: consumerTag });
        },
      }),
    );
    this.consumers.push(wrapper);
    await wrapper.waitForConnect();
  }

  private track(work: Promise<void>): void {
    const settled = work.catch((err: Error) => this.logger.warn(`Event handling failed: ${err.message}`));
    this.running.add(settled);
    void settled.finally(() => this.running.delete(settled));
  }

  stopConsuming(): Promise<void> {
    this.stopping ??= this.cancelAndDrain();
    return this.stopping;
  }

  private async cancelAndDrain(): Promise<void> {
    await Promise.all(
      [...this.consumerTags.values()].map(({ channel, tag }) =>
        channel
          .cancel(tag)
          .catch((err: Error) => this.logger.warn(`Could not cancel ${tag}: ${err.message}`)),
      ),
    );
    if (!this.running.size) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise((done) => (timer = setTimeout(done, DRAIN_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (this.running.size)
      this.logger.warn(
        `${this.running.size} event handlers still running; the broker redelivers their events`,
      );
  }

  private async handle(
    ch: Channel,
    queue: string,
    msg: ConsumeMessage,
    handler: EventHandler,
  ): Promise<void> {
    let envelope: EventEnvelope;
    try {
      envelope = JSON.parse(msg.content.toString()) as EventEnvelope;
      if (typeof envelope?.id !== 'string' || typeof envelope?.name !== 'string')
        throw new Error('not an event envelope');
    } catch (err) {
      this.logger.error(`Unparseable message on ${queue}: ${(err as Error).message}; dead-lettered`);
      ch.nack(msg, false, false);
      return;
    }
    try {
      await handleInContext(handler, envelope);
      ch.ack(msg);
    } catch (err) {
      const retries = Number(msg.properties.headers?.['x-retries'] ?? 0);
      const outageRetries = Number(msg.properties.headers?.['x-outage-retries'] ?? 0);
      const reason = err instanceof Error ? err.message : String(err);
      // The database being away is not the event's fault: retried for as long as the outage
      // lasts, without spending the event's retries (an outage longer than their ~3 s of backoff
      // dead-lettered the events being handled: found by the soak).
      const outage = isDatabaseUnavailable(err);
      if (!outage && (err instanceof PoisonMessageError || retries >= MAX_EVENT_RETRIES)) {
        this.logger.error(
          `Dead-lettered ${envelope.name} ${envelope.id} on ${queue} after ${retries} retries: ${reason}`,
        );
        ch.nack(msg, false, false);
        return;
      }
      await new Promise((r) => setTimeout(r, eventRetryDelayMs(outage ? outageRetries : retries)));
      // Re-queue at the tail with a retry count; the original is acked only once the copy is queued.
      // If the channel closed meanwhile (shutdown, broker restart), neither happens: the broker
      // redelivers the unacked original to the next consumer.
      try {
        ch.sendToQueue(queue, msg.content, {
          ...msg.properties,
          headers: outage
            ? { ...msg.properties.headers, 'x-outage-retries': outageRetries + 1 }
            : { ...msg.properties.headers, 'x-retries': retries + 1 },
        });
        ch.ack(msg);
      } catch (closed) {
        this.logger.warn(
          `Could not requeue ${envelope.name} ${envelope.id}: ${(closed as Error).message}; the broker will redeliver it`,
        );
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.close()));
    await this.publisher.close();
    await this.connection.close();
  }
}
