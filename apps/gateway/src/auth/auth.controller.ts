import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Throttle, ThrottlerGuard } from '@nestjs/throttler';
import { AppError, AuthResult, IdentityRpc, loginBody, refreshBody, signupBody } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import type { FastifyReply } from 'fastify';
import { parseBody } from '../http/api-query';
import { Public } from '../authorization/authorize.decorator';

/**
 * Identity's per-account limit says when to retry in its message (`try again in N seconds`);
 * the client gets it as `Retry-After`, like the per-address limit's.
 */
async function withRetryAfter<T>(reply: FastifyReply, call: Promise<T>): Promise<T> {
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
 * Sign-up, login, token refresh and logout; rate-limited per client address here, and per
 * account by identity (failed logins, sign-ups naming an existing account).
 */
@ApiTags('auth')
@Controller('v2/auth')
@Public()
@UseGuards(ThrottlerGuard)
@Throttle({ default: {} })
export class AuthController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('signup')
  @HttpCode(201)
  async signup(
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: AuthResult }> {
    const input = parseBody(signupBody, body);
    return { data: await withRetryAfter(reply, this.rpc.call(IdentityRpc.signup, input)) };
  }

  @Post('login')
  @HttpCode(200)
  async login(
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: AuthResult }> {
    const input = parseBody(loginBody, body);
    return { data: await withRetryAfter(reply, this.rpc.call(IdentityRpc.login, input)) };
  }

  @Post('refresh')
  @HttpCode(200)
  async refresh(@Body() body: unknown): Promise<{ data: AuthResult }> {
    return { data: await this.rpc.call(IdentityRpc.refresh, parseBody(refreshBody, body)) };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Body() body: unknown): Promise<void> {
    await this.rpc.call(IdentityRpc.logout, parseBody(refreshBody, body));
  }
}
