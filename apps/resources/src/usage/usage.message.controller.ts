import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AccountLimitsView, MonthlyUsageView, RpcPayload, UsageRpc, UsageView } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { UsageService } from './usage.service';

@Controller()
export class UsageMessageController {
  constructor(private readonly usage: UsageService) {}

  @RpcHandler(UsageRpc.get)
  get(@Payload() { accountId }: RpcPayload<typeof UsageRpc.get>): Promise<UsageView> {
    return this.usage.usage(accountId);
  }

  @RpcHandler(UsageRpc.monthly)
  monthly(@Payload() { accountId, date }: RpcPayload<typeof UsageRpc.monthly>): Promise<MonthlyUsageView> {
    return this.usage.monthly(accountId, date);
  }

  @RpcHandler(UsageRpc.limits)
  limits(@Payload() { accountId }: RpcPayload<typeof UsageRpc.limits>): Promise<AccountLimitsView> {
    return this.usage.limits(accountId);
  }

  @RpcHandler(UsageRpc.setLimits)
  setLimits(@Payload() req: RpcPayload<typeof UsageRpc.setLimits>): Promise<UsageView> {
    return this.usage.setLimits(req.accountId, req.limits);
  }
}
