import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Throttle, ThrottlerGuard } from '@nestjs/throttler';
import { AuthResult, IdentityRpc, loginBody, refreshBody, signupBody } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { parseBody } from '../http/api-query';
import { Public } from '../authorization/authorize.decorator';

/** Sign-up, login, token refresh and logout; rate-limited per client address. */
@ApiTags('auth')
@Controller('v2/auth')
@Public()
@UseGuards(ThrottlerGuard)
@Throttle({ default: {} })
export class AuthController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('signup')
  @HttpCode(201)
  async signup(@Body() body: unknown): Promise<{ data: AuthResult }> {
    return { data: await this.rpc.call(IdentityRpc.signup, parseBody(signupBody, body)) };
  }

  @Post('login')
  @HttpCode(200)
  async login(@Body() body: unknown): Promise<{ data: AuthResult }> {
    return { data: await this.rpc.call(IdentityRpc.login, parseBody(loginBody, body)) };
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
