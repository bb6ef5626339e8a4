import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EVENT_BUS, EventBus } from './event-bus';
import { EventHandlers } from './idempotent-consumer';
import { OutboxRelay } from './outbox';

/**
 * A service's outbox relay, started with the app and stopped (after draining) with it: before
 * the shutdown hooks, which close the event bus and the database it needs.
 */
@Injectable()
export class ServiceOutboxRelay
  extends OutboxRelay
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  constructor(dataSource: DataSource, @Inject(EVENT_BUS) bus: EventBus) {
    super(dataSource, bus);
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}

/**
 * Subscribes a service's event handlers to its queue; `relay` is kicked after each event so that
 * events the handlers wrote to the outbox leave at once.
 */
export async function subscribeHandlers(
  bus: EventBus,
  handlers: EventHandlers,
  relay?: OutboxRelay,
): Promise<void> {
  await bus.subscribe(handlers.consumer, handlers.eventNames, async (envelope) => {
    await handlers.handle(envelope);
    relay?.kick();
  });
}
