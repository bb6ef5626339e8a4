import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AuthResult,
  EndedSessions,
  IdentityRpc,
  MailRequested,
  RateLimitHit,
  RpcPayload,
} from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { RateLimitWindows } from './rate-limit-windows';
import { SessionsService } from './sessions.service';

type Req<K extends keyof typeof IdentityRpc> = RpcPayload<(typeof IdentityRpc)[K]>;

@Controller()
export class AuthMessageController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly rateLimits: RateLimitWindows,
  ) {}

  @RpcHandler(IdentityRpc.hitRateLimit)
  hitRateLimit(@Payload() req: Req<'hitRateLimit'>): Promise<RateLimitHit> {
    return this.rateLimits.hit(req.key, req.windowMs);
  }

  @RpcHandler(IdentityRpc.signup)
  signup(@Payload() req: Req<'signup'>): Promise<AuthResult> {
    return this.sessions.signup(req);
  }

  @RpcHandler(IdentityRpc.login)
  login(@Payload() req: Req<'login'>): Promise<AuthResult> {
    return this.sessions.login(req);
  }

  @RpcHandler(IdentityRpc.refresh)
  refresh(@Payload() req: Req<'refresh'>): Promise<AuthResult> {
    return this.sessions.refresh(req.refreshToken, { retryGrace: req.retryGrace ?? false });
  }

  @RpcHandler(IdentityRpc.logout)
  logout(@Payload() req: Req<'logout'>): Promise<EndedSessions> {
    return this.sessions.logout(req.refreshToken);
  }

  @RpcHandler(IdentityRpc.verifySession)
  verifySession(@Payload() req: Req<'verifySession'>): Promise<{ ok: true }> {
    return this.sessions.verifySession(req.userId, req.sessionId);
  }

  @RpcHandler(IdentityRpc.verifyEmail)
  verifyEmail(@Payload() req: Req<'verifyEmail'>): Promise<{ emailVerified: true }> {
    return this.sessions.verifyEmail(req.token);
  }

  @RpcHandler(IdentityRpc.resendVerification)
  resendVerification(@Payload() req: Req<'resendVerification'>): Promise<MailRequested> {
    return this.sessions.resendVerification(req.email);
  }

  @RpcHandler(IdentityRpc.changePassword)
  changePassword(@Payload() req: Req<'changePassword'>): Promise<EndedSessions> {
    return this.sessions.changePassword(req.userId, req.sessionId, req.change);
  }

  @RpcHandler(IdentityRpc.requestPasswordReset)
  requestPasswordReset(@Payload() req: Req<'requestPasswordReset'>): Promise<MailRequested> {
    return this.sessions.requestPasswordReset(req.email);
  }

  @RpcHandler(IdentityRpc.confirmPasswordReset)
  confirmPasswordReset(@Payload() req: Req<'confirmPasswordReset'>): Promise<EndedSessions> {
    return this.sessions.confirmPasswordReset(req.token, req.newPassword);
  }
}
