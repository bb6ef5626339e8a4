import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Events } from '@atrium/contracts';
import { EVENT_BUS, EventBus, EventHandlers, subscribeHandlers } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { SignaturesService } from './signatures.service';

/**
 * The resources service's event queue: signing-key rotations that changes taking access away
 * declared. Their changers usually apply them before they answer (`rotateSigningKeys`); the event
 * is what makes a rotation happen when that call failed or never came.
 */
@Injectable()
export class SigningKeyRotationsConsumer implements OnApplicationBootstrap {
  readonly handlers: EventHandlers;

  constructor(
    dataSource: DataSource,
    signatures: SignaturesService,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {
    this.handlers = new EventHandlers(dataSource, 'resources').on(
      Events.signingKeysRotationRequested,
      async (rotation, manager) => {
        await signatures.applyRotation(manager, rotation);
      },
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await subscribeHandlers(this.bus, this.handlers);
  }
}
