import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AccountFacts, IdentityRpc, PublicUserView, RpcPayload, UserView } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { AccountsService, toUserView } from './accounts.service';

@Controller()
export class AccountsMessageController {
  constructor(private readonly accounts: AccountsService) {}

  @RpcHandler(IdentityRpc.getUser)
  async getUser(@Payload() { userId }: RpcPayload<typeof IdentityRpc.getUser>): Promise<UserView> {
    return toUserView(await this.accounts.getUser(userId));
  }

  @RpcHandler(IdentityRpc.updateSettings)
  updateSettings(@Payload() req: RpcPayload<typeof IdentityRpc.updateSettings>): Promise<UserView> {
    return this.accounts.updateSettings(req.userId, req.settings);
  }

  @RpcHandler(IdentityRpc.resolveUser)
  resolve(@Payload() { ref }: RpcPayload<typeof IdentityRpc.resolveUser>): Promise<PublicUserView> {
    return this.accounts.resolve(ref);
  }

  @RpcHandler(IdentityRpc.getAccountFacts)
  facts(@Payload() by: RpcPayload<typeof IdentityRpc.getAccountFacts>): Promise<AccountFacts> {
    return this.accounts.facts(by);
  }
}
