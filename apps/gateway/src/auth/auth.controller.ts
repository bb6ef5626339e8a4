import { Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { Throttle, ThrottlerGuard } from '@nestjs/throttler';
import {
  AppError,
  AuthResult,
  confirmPasswordResetBody,
  emailAddressBody,
  emailTokenBody,
  IdentityRpc,
  loginBody,
  MailRequested,
  refreshBody,
  signupBody,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import type { FastifyReply } from 'fastify';
import { Public } from '../authorization/authorize.decorator';
import { ChangesNoAccess } from '../authorization/access-changes';
import { RefreshBucket } from './auth-throttle';
import { SessionVerifications } from './session-verifications';
import { Returns, ReturnsNothing, ValidBody } from '../http/validated';
import { z } from 'zod';
import { anyObject, authResultView } from '../http/views';

/**
 * Identity's per-account limit says when to retry in its message (`try again in N seconds`);
 * the client gets it as `Retry-After`, like the per-address limit's.
 */
export async function withRetryAfter<T>(reply: FastifyReply, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof AppError && err.type === 'rate-limit-exceeded') {
      const seconds = /try again in (\d+) seconds?/.exec(err.message)?.[1] ?? '60';
      void reply.header('Retry-After', seconds);
    }
    throw err;
  }
}

/**
 * Sign-up, login, token refresh, logout, email verification and password reset; rate-limited per
 * client address here (one bucket for all these routes, the refresh routes their own: auth-throttle.ts),
 * and per account by identity (failed logins, sign-ups naming an existing
 * account, mails asked for per address).
 */
@Controller('v2/auth')
@Public()
@UseGuards(ThrottlerGuard)
@Throttle({ default: {} })
export class AuthController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly sessions: SessionVerifications,
  ) {}

  @Post('signup')
  @ChangesNoAccess()
  @HttpCode(201)
  @Returns(authResultView)
  async signup(
    @ValidBody(signupBody, { required: true }) input: z.output<typeof signupBody>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: AuthResult }> {
    return { data: await withRetryAfter(reply, this.rpc.call(IdentityRpc.signup, input)) };
  }

  @Post('login')
  @ChangesNoAccess()
  @HttpCode(200)
  @Returns(authResultView)
  async login(
    @ValidBody(loginBody, { required: true }) input: z.output<typeof loginBody>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: AuthResult }> {
    return { data: await withRetryAfter(reply, this.rpc.call(IdentityRpc.login, input)) };
  }

  @Post('refresh')
  @RefreshBucket()
  @ChangesNoAccess()
  @HttpCode(200)
  @Returns(authResultView)
  async refresh(
    @ValidBody(refreshBody, { required: true }) body: z.output<typeof refreshBody>,
  ): Promise<{ data: AuthResult }> {
    return { data: await this.rpc.call(IdentityRpc.refresh, body) };
  }

  /** Ends the session: its refresh tokens, and its access tokens from the next request on every replica. */
  @Post('logout')
  @ChangesNoAccess()
  @HttpCode(204)
  @ReturnsNothing()
  async logout(
    @ValidBody(refreshBody, { required: true }) body: z.output<typeof refreshBody>,
  ): Promise<void> {
    const ended = await this.rpc.call(IdentityRpc.logout, body);
    await this.sessions.ended(ended.sessionIds);
  }

  /** Verifies the account's email with the one-time token mailed at sign-up. */
  @Post('verify-email')
  @ChangesNoAccess()
  @HttpCode(200)
  @Returns(z.object({ emailVerified: z.literal(true) }))
  async verifyEmail(
    @ValidBody(emailTokenBody, { required: true }) body: z.output<typeof emailTokenBody>,
  ): Promise<{ data: { emailVerified: true } }> {
    return { data: await this.rpc.call(IdentityRpc.verifyEmail, body) };
  }

  /** Mails a new verification token; answers alike whether or not the address has an account. */
  @Post('verify-email/resend')
  @ChangesNoAccess()
  @HttpCode(202)
  @Returns(anyObject)
  async resendVerification(
    @ValidBody(emailAddressBody, { required: true }) input: z.output<typeof emailAddressBody>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: MailRequested }> {
    return { data: await withRetryAfter(reply, this.rpc.call(IdentityRpc.resendVerification, input)) };
  }

  /** Mails a password-reset token; answers alike whether or not the address has an account. */
  @Post('password-reset')
  @ChangesNoAccess()
  @HttpCode(202)
  @Returns(anyObject)
  async requestPasswordReset(
    @ValidBody(emailAddressBody, { required: true }) input: z.output<typeof emailAddressBody>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: MailRequested }> {
    return { data: await withRetryAfter(reply, this.rpc.call(IdentityRpc.requestPasswordReset, input)) };
  }

  /** Sets a new password with the mailed token (one-time, 1 hour); every session of the account ends. */
  @Post('password-reset/confirm')
  @ChangesNoAccess()
  @HttpCode(204)
  @ReturnsNothing()
  async confirmPasswordReset(
    @ValidBody(confirmPasswordResetBody, { required: true }) body: z.output<typeof confirmPasswordResetBody>,
  ): Promise<void> {
    const ended = await this.rpc.call(IdentityRpc.confirmPasswordReset, body);
    await this.sessions.ended(ended.sessionIds);
  }
}
