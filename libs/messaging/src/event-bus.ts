import { EventEnvelope } from '@atrium/contracts';

export type EventHandler = (envelope: EventEnvelope) => Promise<void>;

/** A handler throws this for a message that can never succeed: it goes to the dead-letter queue at once. */
export class PoisonMessageError extends Error {}

/**
 * Topic-routed events with at-least-once delivery. `publish` resolves once the broker has the
 * message; `subscribe` binds the consumer's own durable queue to the given event names.
 */
export interface EventBus {
  publish(envelope: EventEnvelope): Promise<void>;
  subscribe(consumer: string, eventNames: readonly string[], handler: EventHandler): Promise<void>;
  close(): Promise<void>;
}

export const EVENT_BUS = Symbol('EVENT_BUS');
