import { Controller, Delete, Get, Headers, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  ApiTokenView,
  AppError,
  changePasswordBody,
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

import { ChangesAccess, ChangesNoAccess } from '../authorization/access-changes';
import { TokenVerifications } from '../auth/token-verifications';
import { SessionVerifications } from '../auth/session-verifications';
import { Returns, ReturnsNothing, ValidBody } from '../http/validated';
import { z } from 'zod';
import { apiTokenView, createdApiTokenView, listOf, publicUserView, userView } from '../http/views';

@Controller('v2/users')
export class UsersController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
    private readonly sessions: SessionVerifications,
  ) {}

  /**
   * The caller's account. A run token may read it too (the SDK does inside a run), without the
   * email, as Apify omits private fields when called from a run.
   */
  @Get('me')
  @SignedIn({ runToken: true })
  @Returns(userView)
  async me(@CurrentUser() user: UserPrincipal): Promise<{ data: UserView | Omit<UserView, 'email'> }> {
    const found = await this.rpc.call(IdentityRpc.getUser, { userId: user.userId });
    if (user.credential !== 'run-token') return { data: found };
    const { email: _email, ...withoutEmail } = found;
    return { data: withoutEmail };
  }

  @Put('me/settings')
  @ChangesAccess('account')
  @SignedIn()
  @Returns(userView)
  async updateSettings(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(settingsBody, { required: true }) settings: z.output<typeof settingsBody>,
    @Headers('x-account-id') accountId?: string,
  ): Promise<{ data: UserView }> {
    // These are the caller's own settings: an organization's are changed on the organization.
    if (accountId !== undefined && accountId !== user.userId)
      throw new AppError(
        'invalid-input',
        `Header "X-Account-Id" is invalid: these are your own settings; change an organization's with PUT /v2/organizations/:orgId { settings }`,
      );
    const updated = await this.rpc.call(IdentityRpc.updateSettings, { userId: user.userId, settings });
    return { data: updated };
  }

  /**
   * Changes the password (the current one required, counted like a login attempt) and ends every
   * other session of the user — their refresh tokens and, from the next request on every replica,
   * their access tokens. With an API token (no session) every session ends.
   */
  @Put('me/password')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(204)
  @ReturnsNothing()
  async changePassword(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(changePasswordBody, { required: true }) change: z.output<typeof changePasswordBody>,
  ): Promise<void> {
    if (user.credential === 'run-token' || user.scope)
      throw new AppError(
        'insufficient-permissions',
        'A run token or a scoped API token cannot change the password: sign in',
      );
    const ended = await this.rpc.call(IdentityRpc.changePassword, {
      userId: user.userId,
      sessionId: user.sessionId ?? null,
      change,
    });
    await this.sessions.ended(ended.sessionIds);
  }

  @Get('me/tokens')
  @SignedIn()
  @Returns(listOf(apiTokenView))
  async listTokens(
    @CurrentUser() user: UserPrincipal,
  ): Promise<{ data: { total: number; items: ApiTokenView[] } }> {
    const items = await this.rpc.call(IdentityRpc.listTokens, { userId: user.userId });
    return { data: { total: items.length, items } };
  }

  @Post('me/tokens')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(201)
  @Returns(createdApiTokenView)
  async createToken(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(createTokenBody, { required: true }) token: z.output<typeof createTokenBody>,
  ): Promise<{ data: CreatedApiToken }> {
    return { data: await this.rpc.call(IdentityRpc.createToken, { userId: user.userId, token }) };
  }

  @Delete('me/tokens/:tokenId')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(204)
  @ReturnsNothing()
  async revokeToken(@CurrentUser() user: UserPrincipal, @Param('tokenId') tokenId: string): Promise<void> {
    if (!idSchema.safeParse(tokenId).success) throw AppError.notFound('The token');
    await this.rpc.call(IdentityRpc.revokeToken, { userId: user.userId, tokenId });
    await this.tokens.revoked([tokenId]);
  }

  /**
   * A new secret for one of the caller's tokens, shown once in `token`; the old secret stops
   * working at once. The way to obtain the secret of a token one did not create, such as the
   * personal access token an app collaborator receives.
   */
  @Post('me/tokens/:tokenId/rotate')
  @ChangesNoAccess()
  @SignedIn()
  @HttpCode(200)
  @Returns(createdApiTokenView)
  async rotateToken(
    @CurrentUser() user: UserPrincipal,
    @Param('tokenId') tokenId: string,
  ): Promise<{ data: CreatedApiToken }> {
    if (!idSchema.safeParse(tokenId).success) throw AppError.notFound('The token');
    const rotated = await this.rpc.call(IdentityRpc.rotateToken, { userId: user.userId, tokenId });
    await this.tokens.revoked([tokenId]);
    return { data: rotated };
  }

  @Get(':userIdOrUsername')
  @Public()
  @Returns(publicUserView)
  async profile(@Param('userIdOrUsername') ref: string): Promise<{ data: PublicUserView }> {
    // Public profiles are found by id or username only, so emails cannot be probed.
    if (ref.includes('@') || ref.length > 100) throw AppError.notFound('The user');
    return { data: await this.rpc.call(IdentityRpc.resolveUser, { ref }) };
  }
}
