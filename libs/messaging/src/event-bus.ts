import { withoutIdempotency } from './idempotency';
import { requestIdFrom, withRequestId } from './request-context';
import { EventEnvelope } from '@atrium/contracts';
import { inSpan, remoteContext, SpanKind } from './tracing';

export type EventHandler = (envelope: EventEnvelope) => Promise<void>;

/** Runs a handler as part of the request that caused the event (its logs, calls and events). */
export function handleInContext(handler: EventHandler, envelope: EventEnvelope): Promise<void> {
  const requestId = typeof envelope.requestId === 'string' ? requestIdFrom(envelope.requestId) : undefined;
  // An event is not part of the keyed request that caused it: its effects are never keyed.
  return withoutIdempotency(() =>
    withRequestId(requestId, () =>
      inSpan(
        `consume ${envelope.name}`,
        SpanKind.CONSUMER,
        {
          'messaging.system': 'rabbitmq',
          'messaging.destination.name': envelope.name,
          'messaging.message.id': envelope.id,
        },
        () => handler(envelope),
        remoteContext(envelope.traceparent),
      ),
    ),
  );
}

/** A handler throws this for a message that can never succeed: it goes to the dead-letter queue at once. */
export class PoisonMessageError extends Error {}

/**
 * Topic-routed events with at-least-once delivery. `publish` resolves once the broker has the
 * message; `subscribe` binds the consumer's own durable queue to the given event names.
 */
export interface EventBus {
  publish(envelope: EventEnvelope): Promise<void>;
  subscribe(consumer: string, eventNames: readonly string[], handler: EventHandler): Promise<void>;
  /**
   * Every subscriber gets every event (an exclusive queue each): for replicas that each keep a
   * cache. Delivery is best effort while connected; `connected` says whether it is.
   */
  subscribeBroadcast(eventNames: readonly string[], handler: EventHandler): Promise<void>;
  /** Whether events are being received now (always, in memory). */
  readonly connected: boolean;
  /** Calls `listener` whenever `connected` changes. */
  onConnectionChange(listener: (connected: boolean) => void): void;
  /** Stops taking events and waits (bounded) for the handlers already running; publishing goes on. */
  stopConsuming(): Promise<void>;
  close(): Promise<void>;
}

export const EVENT_BUS = Symbol('EVENT_BUS');
