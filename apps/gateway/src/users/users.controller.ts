import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  ApiTokenView,
  AppError,
  CreatedApiToken,
  createTokenBody,
  IdentityRpc,
  idSchema,
  PublicUserView,
  settingsBody,
  UserView,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { Public, SignedIn } from '../authorization/authorize.decorator';
import { parseBody } from '../http/api-query';
import { AccessDecisions } from '../authorization/access-decisions';
import { TokenVerifications } from '../auth/token-verifications';

@ApiTags('users')
@Controller('v2/users')
export class UsersController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
    private readonly tokens: TokenVerifications,
  ) {}

  @Get('me')
  @SignedIn()
  async me(@CurrentUser() user: UserPrincipal): Promise<{ data: UserView }> {
    return { data: await this.rpc.call(IdentityRpc.getUser, { userId: user.userId }) };
  }

  @Put('me/settings')
  @SignedIn()
  async updateSettings(
    @CurrentUser() user: UserPrincipal,
    @Body() body: unknown,
  ): Promise<{ data: UserView }> {
    const settings = parseBody(settingsBody, body);
    const updated = await this.rpc.call(IdentityRpc.updateSettings, { userId: user.userId, settings });
    // The account's general access decides reads from the very next request.
    await this.access.refreshed('account', user.userId);
    return { data: updated };
  }

  @Get('me/tokens')
  @SignedIn()
  async listTokens(
    @CurrentUser() user: UserPrincipal,
  ): Promise<{ data: { total: number; items: ApiTokenView[] } }> {
    const items = await this.rpc.call(IdentityRpc.listTokens, { userId: user.userId });
    return { data: { total: items.length, items } };
  }

  @Post('me/tokens')
  @SignedIn()
  @HttpCode(201)
  async createToken(
    @CurrentUser() user: UserPrincipal,
    @Body() body: unknown,
  ): Promise<{ data: CreatedApiToken }> {
    const token = parseBody(createTokenBody, body);
    return { data: await this.rpc.call(IdentityRpc.createToken, { userId: user.userId, token }) };
  }

  @Delete('me/tokens/:tokenId')
  @SignedIn()
  @HttpCode(204)
  async revokeToken(@CurrentUser() user: UserPrincipal, @Param('tokenId') tokenId: string): Promise<void> {
    if (!idSchema.safeParse(tokenId).success) throw AppError.notFound('The token');
    await this.rpc.call(IdentityRpc.revokeToken, { userId: user.userId, tokenId });
    this.tokens.forget(tokenId);
  }

  @Get(':userIdOrUsername')
  @Public()
  async profile(@Param('userIdOrUsername') ref: string): Promise<{ data: PublicUserView }> {
    // Public profiles are found by id or username only, so emails cannot be probed.
    if (ref.includes('@') || ref.length > 100) throw AppError.notFound('The user');
    return { data: await this.rpc.call(IdentityRpc.resolveUser, { ref }) };
  }
}
