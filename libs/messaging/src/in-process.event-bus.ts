import { handleInContext } from './event-bus';
import { Logger } from '@nestjs/common';
import { EventEnvelope } from '@atrium/contracts';
import { EventBus, EventHandler, PoisonMessageError } from './event-bus';
import { eventRetryDelayMs, MAX_EVENT_RETRIES } from './topology';
import { isDatabaseUnavailable } from './database-unavailable';

interface Subscription {
  consumer: string;
  names: ReadonlySet<string>;
  handler: EventHandler;
}

/**
 * The embedded mode's event bus. `publish` resolves only after every subscriber has handled the
 * event (or given up on it after bounded retries), so the outbox marks an event sent only once
 * it has been delivered: nothing is lost between the outbox and the consumers.
 */
export class InProcessEventBus implements EventBus {
  private readonly subscriptions: Subscription[] = [];
  private readonly logger = new Logger('InProcessEventBus');
  readonly deadLetters: { consumer: string; envelope: EventEnvelope; error: string }[] = [];

  async publish(envelope: EventEnvelope): Promise<void> {
    const wire = JSON.stringify(envelope);
    await Promise.all(
      this.subscriptions
        .filter((s) => s.names.has(envelope.name))
        .map((s) => this.deliver(s, JSON.parse(wire) as EventEnvelope)),
    );
  }

  private async deliver(subscription: Subscription, envelope: EventEnvelope): Promise<void> {
    for (let attempt = 0, outages = 0; ;) {
      try {
        await handleInContext(subscription.handler, envelope);
        return;
      } catch (err) {
        // As on RabbitMQ: a database outage is waited out without spending the event's retries.
        if (isDatabaseUnavailable(err)) {
          await new Promise((r) => setTimeout(r, eventRetryDelayMs(outages++)));
          continue;
        }
        const poison = err instanceof PoisonMessageError;
        if (poison || attempt >= MAX_EVENT_RETRIES) {
          const error = err instanceof Error ? err.message : String(err);
          this.deadLetters.push({ consumer: subscription.consumer, envelope, error });
          this.logger.error(
            `Dead-lettered ${envelope.name} ${envelope.id} for ${subscription.consumer}: ${error}`,
          );
          return;
        }
        await new Promise((r) => setTimeout(r, eventRetryDelayMs(attempt++)));
      }
    }
  }

  async subscribe(consumer: string, eventNames: readonly string[], handler: EventHandler): Promise<void> {
    this.subscriptions.push({ consumer, names: new Set(eventNames), handler });
  }

  private broadcastCount = 0;
  readonly connected = true;

  async subscribeBroadcast(eventNames: readonly string[], handler: EventHandler): Promise<void> {
    await this.subscribe(`broadcast-${++this.broadcastCount}`, eventNames, handler);
  }

  onConnectionChange(): void {
    /* in memory: never disconnected */
  }

  async stopConsuming(): Promise<void> {
    /* publish delivers synchronously to the handlers: nothing is left in flight */
  }

  async close(): Promise<void> {
    this.subscriptions.length = 0;
  }
}

/** Shared by every service of the embedded process. */
export const inProcessEventBus = new InProcessEventBus();
