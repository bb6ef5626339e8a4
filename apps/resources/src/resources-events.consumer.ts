import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Events } from '@atrium/contracts';
import { EVENT_BUS, EventBus, EventHandlers } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { SignaturesService } from './catalogue/signatures.service';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher';
import { WebhooksService } from './webhooks/webhooks.service';

/**
 * The resources service's event queue (one queue, so one set of handlers; replicas compete for
 * its messages):
 * - signing-key rotations that changes taking access away declared. Their changers usually apply
 *   them before they answer (`rotateSigningKeys`); the event is what makes a rotation happen when
 *   that call failed or never came;
 * - run and build events: a dispatch for each webhook watching them, then delivered.
 */
@Injectable()
export class ResourcesEventsConsumer implements OnApplicationBootstrap {
  readonly handlers: EventHandlers;

  constructor(
    dataSource: DataSource,
    signatures: SignaturesService,
    webhooks: WebhooksService,
    private readonly dispatcher: WebhookDispatcher,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {
    this.handlers = new EventHandlers(dataSource, 'resources')
      .on(Events.signingKeysRotationRequested, async (rotation, manager) => {
        await signatures.applyRotation(manager, rotation);
      })
      .on(Events.actorJobEventOccurred, async (event, manager) => {
        await webhooks.dispatchEvent(manager, event);
      });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe(this.handlers.consumer, this.handlers.eventNames, async (envelope) => {
      await this.handlers.handle(envelope);
      // The dispatches committed with the event: deliver them now rather than at the next poll.
      if (envelope.name === Events.actorJobEventOccurred.name) this.dispatcher.kick();
    });
  }
}
