import { REQUEST_ID_HEADER, requestIdFrom, withRequestId } from './request-context';
import { deadlinePassed, DEADLINE_HEADER, withRpcHeaders } from './idempotency';
import { Logger } from '@nestjs/common';
import { RmqContext, RmqOptions, ServerRMQ } from '@nestjs/microservices';
import type { Channel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { PatternRoutes } from './pattern-routes';
import { backOffReconnects } from './topology';

/** How long a closing server waits for the requests it already took before it closes anyway. */
export const RPC_DRAIN_TIMEOUT_MS = 10_000;
/** How long, and up to how many bytes, replies are kept to answer a request delivered again. */
export const RPC_REPLAY_WINDOW_MS = 60_000;
export const RPC_REPLAY_MAX_BYTES = 16 * 1024 * 1024;

interface Answer {
  at: number;
  /** The serialized reply, once sent. */
  reply?: { buffer: Buffer; options: object };
  sent: Promise<void>;
  settle(): void;
}

/**
 * NestJS's RMQ server with a graceful close. `ServerRMQ.close()` closes the channel at once: the
 * broker requeues the unacked requests, handlers still running fail to reply (replies still queued
 * in the channel wrapper are rejected unhandled, which crashes the process), so callers time out
 * on work that may have committed, and the work is done twice on redelivery.
 * This one cancels its consumer first (the broker sends the queue's next requests to the other
 * replicas), waits until every request it took has been answered, then closes.
 *
 * When the connection drops after a request was handled but before its ack reached the broker
 * (or a client re-sends a request whose publish it could not confirm), the broker delivers the
 * request again. The server remembers recent replies by correlation id and answers such a copy
 * with the first reply instead of running the handler twice (a push of items applied twice).
 * A copy that reaches another replica is not recognised (see docs/RELIABILITY.md).
 */
export class RmqRpcServer extends ServerRMQ {
  private readonly shutdownLogger = new Logger('RmqRpcServer');
  private readonly consumerTag: string;
  private readonly inFlight = new Set<unknown>();
  private readonly answers = new Map<string, Answer>();
  private answerBytes = 0;
  /** Requests delivered again and answered from a kept reply, since the server started. */
  replayed = 0;
  /** Requests taken after their caller's deadline, and so not run. */
  expired = 0;
  private consumerChannel: Channel | undefined;
  private draining = false;
  private wrapperWatched = false;

  constructor(
    options: Required<RmqOptions>['options'],
    private readonly drainTimeoutMs = RPC_DRAIN_TIMEOUT_MS,
  ) {
    const consumerTag = `${options.queue}.${process.pid}.${randomUUID()}`;
    super({ ...options, consumerTag });
    this.consumerTag = consumerTag;
  }

  /** Its connection, whose reconnection attempts back off (`backOffReconnects`). */
  override createClient<T = unknown>(): T {
    return backOffReconnects(super.createClient<Parameters<typeof backOffReconnects>[0]>()) as T;
  }

  private readonly patternRoutes = new PatternRoutes(
    (pattern) => super.getRouteFromPattern(pattern),
    (route) => this.messageHandlers.has(route),
  );

  override getRouteFromPattern(pattern: string): string {
    return this.patternRoutes.route(pattern);
  }

  override async setupChannel(channel: Channel, callback: () => void): Promise<void> {
    // A reconnect while draining must not start consuming again.
    if (this.draining) return;
    // A connection lost while its channel is being set up makes the wrapper emit 'error', which
    // ends the process if nobody listens; the wrapper sets the channel up again on reconnection.
    const wrapper = this.channel as unknown as { on?(event: 'error', listener: (err: Error) => void): void };
    if (wrapper?.on && !this.wrapperWatched) {
      this.wrapperWatched = true;
      wrapper.on('error', (err) => this.shutdownLogger.warn(`RPC channel setup failed: ${err.message}`));
    }
    this.consumerChannel = channel;
    // Nest starts consuming without awaiting it: a connection lost before the broker confirms it
    // rejected that promise unhandled, which ends the process (two resets ~0.1 s apart, a broker
    // blip). The wrapper starts consuming again on the next connection.
    const consume = channel.consume.bind(channel);
    channel.consume = (...args: Parameters<Channel['consume']>) => {
      const consuming = consume(...args);
      consuming.catch((err: Error) => this.shutdownLogger.warn(`Could not start consuming: ${err.message}`));
      return consuming;
    };
    await super.setupChannel(channel, callback);
  }

  override async handleMessage(message: Record<string, unknown>, channel: unknown): Promise<void> {
    if (!message) return super.handleMessage(message, channel);
    // Its handling (logs, further calls, events) is part of the request that sent it.
    const headers = (message as unknown as ConsumeMessage).properties.headers;
    const requestId = headers?.[REQUEST_ID_HEADER];
    // A request its caller gave up on is not started (its transactions also check before COMMIT).
    if (deadlinePassed(Number(headers?.[DEADLINE_HEADER]) || undefined)) return this.drop(message, channel);
    return withRequestId(typeof requestId === 'string' ? requestIdFrom(requestId) : undefined, () =>
      withRpcHeaders(headers, () => this.handleRequest(message, channel)),
    );
  }

  private async handleRequest(message: Record<string, unknown>, channel: unknown): Promise<void> {
    const { correlationId, replyTo } = (message as unknown as ConsumeMessage).properties as {
      correlationId?: string;
      replyTo?: string;
    };
    // Only requests (with a reply queue) are answered, and so remembered.
    if (!replyTo) return super.handleMessage(message, channel);
    const earlier = correlationId ? this.answers.get(correlationId) : undefined;
    if (earlier) return this.replay(earlier, message as unknown as ConsumeMessage, channel as Channel);
    if (correlationId) this.answers.set(correlationId, pendingAnswer());
    this.inFlight.add(message);
    try {
      await super.handleMessage(message, channel);
    } catch (err) {
      this.inFlight.delete(message);
      if (correlationId) this.forget(correlationId);
      throw err;
    }
  }

  /** Acks, unanswered, a request whose caller has stopped waiting. */
  private drop(message: Record<string, unknown>, channel: unknown): void {
    this.expired++;
    const { correlationId } = (message as unknown as ConsumeMessage).properties;
    this.shutdownLogger.warn(`Request ${correlationId} taken past its deadline: not run`);
    try {
      (channel as Channel).ack(message as unknown as ConsumeMessage);
    } catch (err) {
      this.shutdownLogger.warn(`Could not ack ${correlationId}: ${(err as Error).message}`);
    }
  }

  /** A request delivered again: answered with the first execution's reply once there is one. */
  private async replay(earlier: Answer, message: ConsumeMessage, channel: Channel): Promise<void> {
    this.inFlight.add(message);
    try {
      await earlier.sent;
      this.replayed++;
      const { replyTo, correlationId } = message.properties;
      this.shutdownLogger.warn(`Request ${correlationId} delivered again: answered, not run twice`);
      if (earlier.reply) this.reply(replyTo, correlationId, earlier.reply.buffer, earlier.reply.options);
      try {
        channel.ack(message);
      } catch (err) {
        this.shutdownLogger.warn(`Could not ack ${correlationId}: ${(err as Error).message}`);
      }
    } finally {
      this.inFlight.delete(message);
    }
  }

  // Every handler here answers once (value or error), so the reply ends the request. Nest's own
  // sendMessage drops the promise of the send: a reply lost with the connection would be an
  // unhandled rejection, which ends the process.
  override sendMessage<T = unknown>(
    message: T,
    replyTo: unknown,
    correlationId: string,
    context: RmqContext,
  ): void {
    try {
      const outgoing = this.serializer.serialize(message as never) as { options?: object };
      const options = outgoing.options ?? {};
      delete outgoing.options;
      const buffer = Buffer.from(JSON.stringify(outgoing));
      this.onProcessingEndHook?.(this.transportId, context);
      this.remember(correlationId, { buffer, options });
      this.reply(replyTo as string, correlationId, buffer, options);
    } finally {
      this.inFlight.delete(context.getMessage());
    }
  }

  private reply(replyTo: string, correlationId: string, buffer: Buffer, options: object): void {
    this.channel?.sendToQueue(replyTo, buffer, { correlationId, ...options }).catch((err: Error) => {
      this.shutdownLogger.warn(
        `Reply to ${correlationId} lost (${err.message}); the request is delivered again or times out`,
      );
    });
  }

  private remember(correlationId: string, reply: { buffer: Buffer; options: object }): void {
    const answer = this.answers.get(correlationId);
    if (!answer) return;
    answer.reply = reply;
    answer.settle();
    this.answerBytes += reply.buffer.length;
    const expired = Date.now() - RPC_REPLAY_WINDOW_MS;
    for (const [id, kept] of this.answers) {
      if (kept.at > expired && this.answerBytes <= RPC_REPLAY_MAX_BYTES) break;
      if (!kept.reply && kept.at > expired) continue; // still running
      this.forget(id);
    }
  }

  private forget(correlationId: string): void {
    const answer = this.answers.get(correlationId);
    if (!answer) return;
    this.answers.delete(correlationId);
    this.answerBytes -= answer.reply?.buffer.length ?? 0;
    answer.settle();
  }

  /** Replies handed to the channel wrapper but not yet written to the socket. */
  private get unsentReplies(): number {
    return this.channel?.queueLength() ?? 0;
  }

  override async close(): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      await this.consumerChannel?.cancel(this.consumerTag).catch((err: Error) => {
        this.shutdownLogger.warn(`Could not cancel the consumer: ${err.message}`);
      });
      if (this.inFlight.size > 0 || this.unsentReplies > 0) {
        const started = Date.now();
        const count = this.inFlight.size;
        // Closing the wrapper rejects the replies still queued in it: wait for those too.
        while (
          (this.inFlight.size > 0 || this.unsentReplies > 0) &&
          Date.now() - started < this.drainTimeoutMs
        ) {
          await new Promise((tick) => setTimeout(tick, 5));
        }
        const left = this.inFlight.size;
        const message = `Drained ${count - left} of ${count} in-flight requests in ${Date.now() - started} ms`;
        if (left) this.shutdownLogger.warn(`${message}; the broker redelivers the other ${left}`);
        else this.shutdownLogger.log(message);
      }
    }
    await super.close();
  }
}

function pendingAnswer(): Answer {
  let settle!: () => void;
  const sent = new Promise<void>((done) => (settle = done));
  return { at: Date.now(), sent, settle };
}
