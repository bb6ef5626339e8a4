import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { createEnvironmentGroupBody, EnvironmentsRpc, updateEnvironmentGroupBody } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, principalRef, UserPrincipal } from '../auth/principal';
import { AccessDecisions } from '../authorization/access-decisions';
import {
  Authorize,
  AuthorizedResource,
  CurrentAccount,
  CurrentResource,
  InAccount,
} from '../authorization/authorize.decorator';
import { ChangesAccess } from '../authorization/access-changes';
import { paginationQuery, parseBody, parseQuery } from '../http/api-query';
import { requireMove } from './environment-move';
import { listPageOf, listReadableOf, listSharedWithMe } from './environment-listing';

const listQuery = z.object({
  ...paginationQuery,
  ownership: z.enum(['ownedByMe', 'sharedWithMe']).optional(),
});

/**
 * Environment groups: nest under a parent of the same owner (no cycles); a role shared on a group
 * applies to its environments and subgroups unless a nearer binding says otherwise.
 */
@ApiTags('environments')
@Controller('v2/environment-groups')
export class EnvironmentGroupsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  @Get()
  @InAccount('ENVIRONMENT_GROUP', 'READ')
  async list(@CurrentUser() user: UserPrincipal, @CurrentAccount() account: string, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const page = listPageOf(q);
    if (q.ownership === 'sharedWithMe') {
      const shared = await listSharedWithMe(
        this.rpc,
        { ...principalRef(user), userId: user.userId },
        'ENVIRONMENT_GROUP',
        page,
        (req) => this.rpc.call(EnvironmentsRpc.listGroups, req),
      );
      return { data: shared };
    }
    // Another account's, or through a scoped token: only what the caller may READ, item by item.
    if (account !== user.userId || principalRef(user).scope) {
      const readable = await listReadableOf(
        this.rpc,
        { ...principalRef(user), userId: user.userId },
        account,
        page,
        (req) => this.rpc.call(EnvironmentsRpc.listGroups, req),
      );
      return { data: readable };
    }
    return { data: await this.rpc.call(EnvironmentsRpc.listGroups, { ownerIds: [account], page }) };
  }

  @Post()
  @InAccount('ENVIRONMENT_GROUP', 'CREATE', { ownerFrom: 'ownerId', groupFrom: 'parentId' })
  @HttpCode(201)
  async create(@CurrentUser() user: UserPrincipal, @CurrentAccount() account: string, @Body() body: unknown) {
    const input = parseBody(createEnvironmentGroupBody, body ?? {});
    const group = await this.rpc.call(EnvironmentsRpc.createGroup, {
      ownerId: account,
      createdBy: user.userId,
      name: input.name,
      parentId: input.parentId ?? null,
    });
    return { data: group };
  }

  @Get(':groupId')
  @Authorize('ENVIRONMENT_GROUP', 'READ', 'groupId')
  async get(@CurrentResource() resource: AuthorizedResource) {
    return { data: await this.rpc.call(EnvironmentsRpc.getGroup, { id: resource.id }) };
  }

  /**
   * Renames, or moves under another parent — which also needs DELETE on it where it is, CREATE
   * under the new parent, and must give the mover no permission it lacks now on the group or
   * anything under it (`requireMove`).
   */
  @Put(':groupId')
  @ChangesAccess('resource')
  @Authorize('ENVIRONMENT_GROUP', 'CONFIGURE', 'groupId')
  async update(
    @CurrentUser() user: UserPrincipal,
    @CurrentResource() resource: AuthorizedResource,
    @Body() body: unknown,
  ) {
    const changes = parseBody(updateEnvironmentGroupBody, body ?? {});
    if (changes.parentId !== undefined) {
      const current = await this.rpc.call(EnvironmentsRpc.getGroup, { id: resource.id });
      if (changes.parentId !== current.parentId)
        await requireMove(this.rpc, user, resource.id, changes.parentId, 'body.parentId');
    }
    const group = await this.rpc.call(EnvironmentsRpc.updateGroup, { id: resource.id, changes });
    return { data: group };
  }

  @Delete(':groupId')
  @ChangesAccess('resource')
  @Authorize('ENVIRONMENT_GROUP', 'DELETE', 'groupId')
  @HttpCode(204)
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(EnvironmentsRpc.deleteGroup, { id: resource.id });
  }
}
