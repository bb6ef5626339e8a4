import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { batchCheckBody, idSchema, IdentityRpc, PERMISSIONS, PermissionsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentPrincipal, Principal, principalRef } from '../auth/principal';
import { Public } from '../authorization/authorize.decorator';
import { ChangesNoAccess } from '../authorization/access-changes';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { anyObject } from '../http/views';

const explainQuery = z.object({
  resourceId: idSchema,
  permission: z.enum(PERMISSIONS),
  /** Whose access to explain: another user by id or username (needs MANAGE_ACCESS), or the caller when absent. */
  userId: z.string().min(1).max(100).optional(),
});

/** Questions about access itself: batch checks and explanations (the permissions service decides who may ask). */
@Controller('v2/access')
@Public()
export class AccessQueriesController {
  constructor(private readonly rpc: RpcClient) {}

  /** `{ checks: [{ resourceId, permission }] }` → `{ data: [{ allowed }] }`, for the caller, in order. */
  @Post('check')
  @ChangesNoAccess()
  @HttpCode(200)
  @Returns(anyObject)
  async check(
    @CurrentPrincipal() principal: Principal,
    @ValidBody(batchCheckBody, { required: true }) body: z.output<typeof batchCheckBody>,
  ) {
    const answers = await this.rpc.call(PermissionsRpc.checkMany, {
      checks: body.checks.map((c) => ({
        principal: principalRef(principal),
        resourceRef: c.resourceId,
        permission: c.permission,
      })),
      probe: true,
    });
    return { data: answers.map((a) => ({ allowed: a.allowed })) };
  }

  @Get('explain')
  @Returns(anyObject)
  async explain(
    @CurrentPrincipal() principal: Principal,
    @ValidQuery(explainQuery) q: z.output<typeof explainQuery>,
  ) {
    const caller = principalRef(principal);
    // Someone else is named as grants name them (id or username); one who does not exist is 404.
    const userId =
      q.userId === undefined || q.userId === caller.userId
        ? caller.userId
        : (await this.rpc.call(IdentityRpc.resolveUser, { ref: q.userId })).id;
    const explained = await this.rpc.call(PermissionsRpc.explain, {
      caller,
      userId,
      resourceId: q.resourceId,
      permission: q.permission,
    });
    return { data: explained };
  }
}
