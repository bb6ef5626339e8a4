import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AppError, usageLimitsBody, UsageRpc, UsageView } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { SignedIn } from '../authorization/authorize.decorator';
import { parseBody } from '../http/api-query';
import { requireInOrganization } from '../organizations/organization-caller';

/** Limits are the account's own business: a scoped API token may read usage, never change limits. */
function requireUnscoped(user: UserPrincipal): void {
  if (user.credential === 'api-token' && user.scope)
    throw new AppError('insufficient-permissions', 'A scoped API token cannot change limits');
}

/**
 * Usage and limits of an account: the caller's own (`/v2/users/me`, also an organization's when
 * acting with its API token) and an organization's, for members whose role allows it.
 */
@ApiTags('usage')
@Controller('v2')
export class UsageController {
  constructor(private readonly rpc: RpcClient) {}

  @Get('users/me/usage')
  @SignedIn()
  async myUsage(@CurrentUser() user: UserPrincipal): Promise<{ data: UsageView }> {
    return { data: await this.rpc.call(UsageRpc.get, { accountId: user.userId }) };
  }

  /** Limits the account sets for itself, at most the deployment's (`null` restores the deployment's). */
  @Put('users/me/limits')
  @SignedIn()
  async setMyLimits(@CurrentUser() user: UserPrincipal, @Body() body: unknown): Promise<{ data: UsageView }> {
    requireUnscoped(user);
    const limits = parseBody(usageLimitsBody, body ?? {});
    return { data: await this.rpc.call(UsageRpc.setLimits, { accountId: user.userId, limits }) };
  }

  @Get('organizations/:orgId/usage')
  @SignedIn()
  async organizationUsage(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
  ): Promise<{ data: UsageView }> {
    await requireInOrganization(
      this.rpc,
      user,
      orgId,
      ['VIEW_INVOICES', 'MANAGE_BILLING'],
      "see the organization's usage",
    );
    return { data: await this.rpc.call(UsageRpc.get, { accountId: orgId }) };
  }

  @Put('organizations/:orgId/limits')
  @SignedIn()
  async setOrganizationLimits(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @Body() body: unknown,
  ): Promise<{ data: UsageView }> {
    requireUnscoped(user);
    await requireInOrganization(
      this.rpc,
      user,
      orgId,
      ['MANAGE_BILLING'],
      "change the organization's limits",
    );
    const limits = parseBody(usageLimitsBody, body ?? {});
    return { data: await this.rpc.call(UsageRpc.setLimits, { accountId: orgId, limits }) };
  }
}
