import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcPayload, UsageRpc, UsageView } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { UsageService } from './usage.service';

@Controller()
export class UsageMessageController {
  constructor(private readonly usage: UsageService) {}

  @RpcHandler(UsageRpc.get)
  get(@Payload() { accountId }: RpcPayload<typeof UsageRpc.get>): Promise<UsageView> {
    return this.usage.usage(accountId);
  }

  @RpcHandler(UsageRpc.setLimits)
  setLimits(@Payload() req: RpcPayload<typeof UsageRpc.setLimits>): Promise<UsageView> {
    return this.usage.setLimits(req.accountId, req.limits);
  }
}
