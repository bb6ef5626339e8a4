import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AuthResult, IdentityRpc, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { SessionsService } from './sessions.service';

@Controller()
export class AuthMessageController {
  constructor(private readonly sessions: SessionsService) {}

  @RpcHandler(IdentityRpc.signup)
  signup(@Payload() req: RpcPayload<typeof IdentityRpc.signup>): Promise<AuthResult> {
    return this.sessions.signup(req);
  }

  @RpcHandler(IdentityRpc.login)
  login(@Payload() req: RpcPayload<typeof IdentityRpc.login>): Promise<AuthResult> {
    return this.sessions.login(req);
  }

  @RpcHandler(IdentityRpc.refresh)
  refresh(@Payload() req: RpcPayload<typeof IdentityRpc.refresh>): Promise<AuthResult> {
    return this.sessions.refresh(req.refreshToken);
  }

  @RpcHandler(IdentityRpc.logout)
  logout(@Payload() req: RpcPayload<typeof IdentityRpc.logout>): Promise<{ ok: true }> {
    return this.sessions.logout(req.refreshToken);
  }
}
