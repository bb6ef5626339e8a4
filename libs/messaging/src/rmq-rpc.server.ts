import { Logger } from '@nestjs/common';
import { RmqContext, RmqOptions, ServerRMQ } from '@nestjs/microservices';
import type { Channel } from 'amqplib';
import { randomUUID } from 'node:crypto';

/** How long a closing server waits for the requests it already took before it closes anyway. */
export const RPC_DRAIN_TIMEOUT_MS = 10_000;

/**
 * NestJS's RMQ server with a graceful close. `ServerRMQ.close()` closes the channel at once: the
 * broker requeues the unacked requests, handlers still running fail to reply (replies still queued
 * in the channel wrapper are rejected unhandled, which crashes the process), so callers time out
 * on work that may have committed, and the work is done twice on redelivery.
 * This one cancels its consumer first (the broker sends the queue's next requests to the other
 * replicas), waits until every request it took has been answered, then closes.
 */
export class RmqRpcServer extends ServerRMQ {
  private readonly shutdownLogger = new Logger('RmqRpcServer');
  private readonly consumerTag: string;
  private readonly inFlight = new Set<unknown>();
  private consumerChannel: Channel | undefined;
  private draining = false;

  constructor(
    options: Required<RmqOptions>['options'],
    private readonly drainTimeoutMs = RPC_DRAIN_TIMEOUT_MS,
  ) {
    const consumerTag = `${options.queue}.${process.pid}.${randomUUID()}`;
    super({ ...options, consumerTag });
    this.consumerTag = consumerTag;
  }

  override async setupChannel(channel: Channel, callback: () => void): Promise<void> {
    // A reconnect while draining must not start consuming again.
    if (this.draining) return;
    this.consumerChannel = channel;
    await super.setupChannel(channel, callback);
  }

  override async handleMessage(message: Record<string, unknown>, channel: unknown): Promise<void> {
    if (!message) return super.handleMessage(message, channel);
    this.inFlight.add(message);
    try {
      await super.handleMessage(message, channel);
    } catch (err) {
      this.inFlight.delete(message);
      throw err;
    }
  }

  // Every handler here answers once (value or error), so the reply ends the request.
  override sendMessage<T = unknown>(
    message: T,
    replyTo: unknown,
    correlationId: string,
    context: RmqContext,
  ): void {
    try {
      super.sendMessage(message, replyTo, correlationId, context);
    } finally {
      this.inFlight.delete(context.getMessage());
    }
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
