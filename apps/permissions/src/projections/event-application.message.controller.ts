import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AppError, PermissionsRpc, RpcPayload } from '@atrium/contracts';
import { PoisonMessageError, RpcHandler, ServiceOutboxRelay } from '@atrium/messaging';
import { ProjectionEventsConsumer } from './projection-events.consumer';

/**
 * `applyEvents`: a writer's events that derive access, applied before the writer answers, by the
 * handlers of the permissions service's event queue and once per event id (the queued copy, when
 * it arrives, finds it applied). Their own `permissions.changed` goes out at once.
 */
@Controller()
export class EventApplicationMessageController {
  constructor(
    private readonly consumer: ProjectionEventsConsumer,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  @RpcHandler(PermissionsRpc.applyEvents)
  async apply(@Payload() req: RpcPayload<typeof PermissionsRpc.applyEvents>): Promise<{ ok: true }> {
    for (const event of req.events) {
      try {
        await this.consumer.handlers.handle({ ...event, payload: event.payload });
      } catch (err) {
        if (err instanceof PoisonMessageError)
          throw new AppError('invalid-input', `Field "events": ${err.message}`);
        throw err;
      }
    }
    this.outbox.kick();
    return { ok: true };
  }
}
