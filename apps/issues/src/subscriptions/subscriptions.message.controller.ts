import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { IssuesRpc, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { SubscriptionsService } from './subscriptions.service';

@Controller()
export class SubscriptionsMessageController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @RpcHandler(IssuesRpc.setSubscription)
  set(@Payload() req: RpcPayload<typeof IssuesRpc.setSubscription>): Promise<{ subscribed: boolean }> {
    return this.subscriptions.set(req);
  }

  @RpcHandler(IssuesRpc.getSubscription)
  get(@Payload() req: RpcPayload<typeof IssuesRpc.getSubscription>): Promise<{ subscribed: boolean }> {
    return this.subscriptions.get(req);
  }
}
