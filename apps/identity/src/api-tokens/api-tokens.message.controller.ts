import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ApiTokenView, CreatedApiToken, IdentityRpc, RpcPayload, VerifiedApiToken } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { ApiTokensService } from './api-tokens.service';

@Controller()
export class ApiTokensMessageController {
  constructor(private readonly tokens: ApiTokensService) {}

  @RpcHandler(IdentityRpc.createToken)
  create(@Payload() req: RpcPayload<typeof IdentityRpc.createToken>): Promise<CreatedApiToken> {
    return this.tokens.create(req.userId, req.token);
  }

  @RpcHandler(IdentityRpc.listTokens)
  list(@Payload() req: RpcPayload<typeof IdentityRpc.listTokens>): Promise<ApiTokenView[]> {
    return this.tokens.list(req.userId);
  }

  @RpcHandler(IdentityRpc.revokeToken)
  revoke(@Payload() req: RpcPayload<typeof IdentityRpc.revokeToken>): Promise<{ ok: true }> {
    return this.tokens.revoke(req.userId, req.tokenId);
  }

  @RpcHandler(IdentityRpc.rotateToken)
  rotate(@Payload() req: RpcPayload<typeof IdentityRpc.rotateToken>): Promise<CreatedApiToken> {
    return this.tokens.rotate(req.userId, req.tokenId);
  }

  @RpcHandler(IdentityRpc.setTokenScope)
  setScope(@Payload() req: RpcPayload<typeof IdentityRpc.setTokenScope>): Promise<ApiTokenView> {
    return this.tokens.setScope(req.userId, req.tokenId, req.scope);
  }

  @RpcHandler(IdentityRpc.verifyToken)
  verify(@Payload() req: RpcPayload<typeof IdentityRpc.verifyToken>): Promise<VerifiedApiToken> {
    return this.tokens.verify(req.token);
  }
}
