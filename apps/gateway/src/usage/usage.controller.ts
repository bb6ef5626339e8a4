import { Controller, Get, Headers, Param, Put } from '@nestjs/common';
import {
  AccountLimitsView,
  AppError,
  calendarDate,
  MonthlyUsageView,
  OrganizationPermission,
  toUsageLimitsChange,
  UNSUPPORTED_LIMITS,
  updateLimitsBody,
  usageLimitsBody,
  UsageRpc,
  UsageView,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { SignedIn } from '../authorization/authorize.decorator';
import { ChangesNoAccess } from '../authorization/access-changes';
import { requireInOrganization } from '../organizations/organization-caller';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { usageView } from '../http/views';

/** Apify's limits Atrium does not have are named as such, not merely as unknown fields. */
const myLimitsBody = z.preprocess((body) => {
  if (body && typeof body === 'object') {
    const unsupported = Object.keys(body).find((field) => field in UNSUPPORTED_LIMITS);
    if (unsupported)
      throw new AppError(
        'invalid-input',
        `Field "body.${unsupported}" is not supported: ${UNSUPPORTED_LIMITS[unsupported]}; ` +
          'Atrium limits resources per type (maxActorCount, maxActorTaskCount, maxScheduleCount, resources), storageBytes and runTimeSecs',
      );
  }
  return body;
}, updateLimitsBody);

/** Limits are the account's own business: a scoped API token may read usage, never change limits. */
function requireUnscoped(user: UserPrincipal): void {
  if (user.credential === 'api-token' && user.scope)
    throw new AppError('insufficient-permissions', 'A scoped API token cannot change limits');
}

const READ_USAGE: OrganizationPermission[] = ['VIEW_INVOICES', 'MANAGE_BILLING'];
const monthlyQuery = z.object({ date: calendarDate.optional() });

/**
 * Usage and limits of an account: the caller's own (`/v2/users/me`, also an organization's when
 * acting with its API token, or as a member with `X-Account-Id`) and an organization's, for
 * members whose role allows it (VIEW_INVOICES or MANAGE_BILLING to read, MANAGE_BILLING to change).
 */
@Controller('v2')
export class UsageController {
  constructor(private readonly rpc: RpcClient) {}

  /** The account `/users/me/…` means: the caller's, or the organization `X-Account-Id` names. */
  private async accountOf(
    user: UserPrincipal,
    accountId: string | undefined,
    anyOf: OrganizationPermission[],
    toDo: string,
  ): Promise<string> {
    if (!accountId || accountId === user.userId) return user.userId;
    await requireInOrganization(this.rpc, user, accountId, anyOf, toDo);
    return accountId;
  }

  @Get('users/me/usage')
  @SignedIn()
  @Returns(usageView)
  async myUsage(
    @CurrentUser() user: UserPrincipal,
    @Headers('x-account-id') accountId?: string,
  ): Promise<{ data: UsageView }> {
    const account = await this.accountOf(user, accountId, READ_USAGE, "see the organization's usage");
    return { data: await this.rpc.call(UsageRpc.get, { accountId: account }) };
  }

  /** Apify's monthly usage (apify-client `user().monthlyUsage()`), of the cycle holding `?date=`. */
  @Get('users/me/usage/monthly')
  @SignedIn()
  @Returns(usageView)
  async monthlyUsage(
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(monthlyQuery) query: z.output<typeof monthlyQuery>,
    @Headers('x-account-id') accountId?: string,
  ): Promise<{ data: MonthlyUsageView }> {
    const { date } = query;
    const account = await this.accountOf(user, accountId, READ_USAGE, "see the organization's usage");
    return { data: await this.rpc.call(UsageRpc.monthly, { accountId: account, date }) };
  }

  /** Apify's limits view (apify-client `user().limits()`). */
  @Get('users/me/limits')
  @SignedIn()
  @Returns(usageView)
  async myLimits(
    @CurrentUser() user: UserPrincipal,
    @Headers('x-account-id') accountId?: string,
  ): Promise<{ data: AccountLimitsView }> {
    const account = await this.accountOf(user, accountId, READ_USAGE, "see the organization's limits");
    return { data: await this.rpc.call(UsageRpc.limits, { accountId: account }) };
  }

  /**
   * Limits the account sets for itself, at most the deployment's (`null` restores the deployment's):
   * Atrium's names or Apify's for the limits Atrium has (apify-client `user().updateLimits()`).
   */
  @Put('users/me/limits')
  @ChangesNoAccess()
  @SignedIn()
  @Returns(usageView)
  async setMyLimits(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(myLimitsBody) changes: z.output<typeof myLimitsBody>,
    @Headers('x-account-id') accountId?: string,
  ): Promise<{ data: UsageView }> {
    requireUnscoped(user);
    const limits = toUsageLimitsChange(changes);
    const account = await this.accountOf(
      user,
      accountId,
      ['MANAGE_BILLING'],
      "change the organization's limits",
    );
    return { data: await this.rpc.call(UsageRpc.setLimits, { accountId: account, limits }) };
  }

  @Get('organizations/:orgId/usage')
  @SignedIn()
  @Returns(usageView)
  async organizationUsage(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
  ): Promise<{ data: UsageView }> {
    await requireInOrganization(this.rpc, user, orgId, READ_USAGE, "see the organization's usage");
    return { data: await this.rpc.call(UsageRpc.get, { accountId: orgId }) };
  }

  @Put('organizations/:orgId/limits')
  @ChangesNoAccess()
  @SignedIn()
  @Returns(usageView)
  async setOrganizationLimits(
    @CurrentUser() user: UserPrincipal,
    @Param('orgId') orgId: string,
    @ValidBody(usageLimitsBody) limits: z.output<typeof usageLimitsBody>,
  ): Promise<{ data: UsageView }> {
    requireUnscoped(user);
    await requireInOrganization(
      this.rpc,
      user,
      orgId,
      ['MANAGE_BILLING'],
      "change the organization's limits",
    );
    return { data: await this.rpc.call(UsageRpc.setLimits, { accountId: orgId, limits }) };
  }
}
