import { REQUEST_ID_HEADER, requestIdFrom, withRequestId } from './request-context';
import { deadlinePassed, DEADLINE_HEADER, withRpcHeaders } from './idempotency';
import { Logger } from '@nestjs/common';
import { RmqContext, RmqOptions, ServerRMQ } from '@nestjs/microservices';
import type { Channel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { RpcAnswer, RpcDispatcher } from './rpc-dispatcher';
import { serializeRpcError } from './rpc-error.filter';
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
 * NestJS's RMQ server, calling the service's handlers directly (`RpcDispatcher`: Nest's own
 * dispatch only answers requests no handler takes), with a graceful close. `ServerRMQ.close()` closes the channel at once: the
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
  private dispatcher: RpcDispatcher | undefined;

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

  /** The service's handlers (its app's, found once it is created); requests for others are dead-lettered. */
  useDispatcher(dispatcher: RpcDispatcher): void {
    this.dispatcher = dispatcher;
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
    const request = message as unknown as ConsumeMessage;
    const { correlationId, replyTo, headers } = request.properties as {
      correlationId?: string;
      replyTo?: string;
      headers?: Record<string, unknown>;
    };
    // Only requests (with a reply queue) are answered, and so remembered.
    if (!replyTo) return super.handleMessage(message, channel);
    const earlier = correlationId ? this.answers.get(correlationId) : undefined;
    if (earlier) return this.replay(earlier, request, channel as Channel);
    const packet = this.handledPacket(request);
    if (correlationId) this.answers.set(correlationId, pendingAnswer());
    this.inFlight.add(message);
    try {
      // Nest answers what no handler here takes (the error, and the request dead-lettered).
      if (!packet) return await super.handleMessage(message, channel);
      const answer = await this.dispatcher!.handle(packet.pattern, packet.data, headers);
      // Acked once the work is done (a crash mid-work leaves the request queued), then answered.
      this.ack(request, channel as Channel);
      this.answer(replyTo, correlationId, answer, request);
    } catch (err) {
      this.inFlight.delete(message);
      if (correlationId) this.forget(correlationId);
      throw err;
    }
  }

  /** The request's `{ pattern, data }` when a handler here takes it (Nest's RMQ client sends this JSON). */
  private handledPacket(message: ConsumeMessage): { pattern: string; data: unknown } | undefined {
    if (!this.dispatcher) return undefined;
    let packet: { pattern?: unknown; data?: unknown } | undefined;
    try {
      packet = JSON.parse(message.content.toString()) as typeof packet;
    } catch {
      return undefined;
    }
    const pattern = packet?.pattern;
    return typeof pattern === 'string' && this.dispatcher.handles(pattern)
      ? { pattern, data: packet!.data }
      : undefined;
  }

  /** Sends a handler's answer as Nest's server would (one packet, disposed). */
  private answer(
    replyTo: string,
    correlationId: string | undefined,
    answer: RpcAnswer,
    request: ConsumeMessage,
  ): void {
    let buffer: Buffer;
    try {
      buffer = Buffer.from(JSON.stringify({ ...answer, isDisposed: true }));
    } catch (err) {
      // A value JSON cannot write (a BigInt, a cycle): the handler's bug, answered as one.
      buffer = Buffer.from(JSON.stringify({ err: serializeRpcError(err), isDisposed: true }));
    }
    this.finish(replyTo, correlationId as string, buffer, {}, request);
  }

  private ack(message: ConsumeMessage, channel: Channel): void {
    try {
      channel.ack(message);
    } catch (err) {
      // The channel closed under the handler (a lost connection): the broker delivers the
      // request again, and the server answers that copy with this reply.
      this.shutdownLogger.warn(
        `Could not ack ${message.properties.correlationId}: ${(err as Error).message}`,
      );
    }
  }

  /** Acks, unanswered, a request whose caller has stopped waiting. */
  private drop(message: Record<string, unknown>, channel: unknown): void {
    this.expired++;
    this.shutdownLogger.warn(
      `Request ${(message as unknown as ConsumeMessage).properties.correlationId} taken past its deadline: not run`,
    );
    this.ack(message as unknown as ConsumeMessage, channel as Channel);
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
      this.ack(message, channel);
    } finally {
      this.inFlight.delete(message);
    }
  }

  // Nest's own sendMessage (for what no handler here takes) drops the promise of the send: a
  // reply lost with the connection would be an unhandled rejection, which ends the process.
  override sendMessage<T = unknown>(
    message: T,
    replyTo: unknown,
    correlationId: string,
    context: RmqContext,
  ): void {
    const outgoing = this.serializer.serialize(message as never) as { options?: object };
    const options = outgoing.options ?? {};
    delete outgoing.options;
    this.onProcessingEndHook?.(this.transportId, context);
    this.finish(
      replyTo as string,
      correlationId,
      Buffer.from(JSON.stringify(outgoing)),
      options,
      context.getMessage(),
    );
  }

  /** Every request here is answered once (value or error): the reply ends it, and is kept for a copy. */
  private finish(
    replyTo: string,
    correlationId: string,
    buffer: Buffer,
    options: object,
    request: unknown,
  ): void {
    try {
      this.remember(correlationId, { buffer, options });
      this.reply(replyTo, correlationId, buffer, options);
    } finally {
      this.inFlight.delete(request);
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
