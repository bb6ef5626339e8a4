import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  AppError,
  createEnvironmentBody,
  ENVIRONMENT_ACTION_PERMISSIONS,
  ENVIRONMENT_ACTIONS,
  environmentActionBodies,
  environmentActionSchema,
  EnvironmentAction,
  EnvironmentsRpc,
  parseInput,
  updateEnvironmentBody,
} from '@atrium/contracts';
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
import { ChangesAccess, ChangesNoAccess } from '../authorization/access-changes';
import { paginationQuery, parseBody, parseQuery } from '../http/api-query';
import { requireCreateIn } from './environment-creation';
import { requireMove } from './environment-move';
import { listPageOf, listReadableOf, listSharedWithMe } from './environment-listing';

const listQuery = z.object({
  ...paginationQuery,
  ownership: z.enum(['ownedByMe', 'sharedWithMe']).optional(),
});
const logQuery = z.object(paginationQuery);
const actionParam = z.enum(ENVIRONMENT_ACTIONS);

/**
 * Environments (account collaboration): created in the caller's account or, with `ownerId`, in a
 * primary account whose collaboration lets the caller create there (the primary owns it, its
 * quotas apply). Each action is guarded by its own collaboration operation.
 */
@ApiTags('environments')
@Controller('v2/environments')
export class EnvironmentsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  @Get()
  @InAccount('ENVIRONMENT', 'READ')
  async list(@CurrentUser() user: UserPrincipal, @CurrentAccount() account: string, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const page = listPageOf(q);
    if (q.ownership === 'sharedWithMe') {
      const shared = await listSharedWithMe(
        this.rpc,
        { ...principalRef(user), userId: user.userId },
        'ENVIRONMENT',
        page,
        (req) => this.rpc.call(EnvironmentsRpc.listEnvironments, req),
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
        (req) => this.rpc.call(EnvironmentsRpc.listEnvironments, req),
      );
      return { data: readable };
    }
    return { data: await this.rpc.call(EnvironmentsRpc.listEnvironments, { ownerIds: [account], page }) };
  }

  @Post()
  @InAccount('ENVIRONMENT', 'CREATE', { ownerFrom: 'ownerId', groupFrom: 'groupId' })
  @HttpCode(201)
  async create(@CurrentUser() user: UserPrincipal, @CurrentAccount() account: string, @Body() body: unknown) {
    const input = parseBody(createEnvironmentBody, body ?? {});
    const environment = await this.rpc.call(EnvironmentsRpc.createEnvironment, {
      ownerId: account,
      createdBy: user.userId,
      name: input.name,
      groupId: input.groupId ?? null,
      region: input.region,
      config: input.config,
    });
    return { data: environment };
  }

  @Get(':envId')
  @Authorize('ENVIRONMENT', 'READ', 'envId')
  async get(@CurrentResource() resource: AuthorizedResource) {
    return { data: await this.rpc.call(EnvironmentsRpc.getEnvironment, { id: resource.id }) };
  }

  /**
   * Renames, or moves to another group — which also needs DELETE on it where it is, CREATE in the
   * target group, and must give the mover no permission it lacks now (`requireMove`).
   */
  @Put(':envId')
  @ChangesAccess('resource')
  @Authorize('ENVIRONMENT', 'CONFIGURE', 'envId')
  async update(
    @CurrentUser() user: UserPrincipal,
    @CurrentResource() resource: AuthorizedResource,
    @Body() body: unknown,
  ) {
    const changes = parseBody(updateEnvironmentBody, body ?? {});
    if (changes.groupId !== undefined) {
      const current = await this.rpc.call(EnvironmentsRpc.getEnvironment, { id: resource.id });
      if (changes.groupId !== current.groupId)
        await requireMove(this.rpc, user, resource.id, changes.groupId, 'body.groupId');
    }
    const environment = await this.rpc.call(EnvironmentsRpc.updateEnvironment, { id: resource.id, changes });
    return { data: environment };
  }

  @Delete(':envId')
  @ChangesAccess('resource')
  @Authorize('ENVIRONMENT', 'DELETE', 'envId')
  @HttpCode(204)
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(EnvironmentsRpc.deleteEnvironment, { id: resource.id });
  }

  /**
   * start, stop (START_STOP), restart, deploy `{ artifact }`, configure `{ config }`, ssh, clone
   * `{ name? }` (also CREATE in the owner account), migrate `{ region }`: each needs its operation.
   */
  @Post(':envId/actions/:action')
  @ChangesNoAccess()
  @Authorize('ENVIRONMENT', 'READ', 'envId')
  @HttpCode(200)
  async act(
    @CurrentUser() user: UserPrincipal,
    @CurrentResource() resource: AuthorizedResource,
    @Param('action') actionName: string,
    @Body() body: unknown,
  ) {
    const action: EnvironmentAction = parseInput(actionParam, actionName, 'params.action');
    const needed = ENVIRONMENT_ACTION_PERMISSIONS[action];
    if (!resource.permissions.includes(needed))
      throw new AppError(
        'insufficient-permissions',
        `You need ${needed} permission on this environment to ${action} it`,
      );
    const input = parseBody(environmentActionBodies[action], body ?? {});
    if (action === 'clone') {
      const source = await this.rpc.call(EnvironmentsRpc.getEnvironment, { id: resource.id });
      await requireCreateIn(this.rpc, user, 'ENVIRONMENT', source.ownerId, source.groupId, 'clone');
      const clone = await this.rpc.call(EnvironmentsRpc.cloneEnvironment, {
        id: resource.id,
        actorId: user.userId,
        name: (input as { name?: string }).name,
      });
      const environment = await this.rpc.call(EnvironmentsRpc.getEnvironment, { id: resource.id });
      return { data: { action, environment, clone } };
    }
    const { environment, session } = await this.rpc.call(EnvironmentsRpc.runEnvironmentAction, {
      id: resource.id,
      actorId: user.userId,
      action: { action, ...input } as z.input<typeof environmentActionSchema>,
    });
    return { data: { action, environment, ...(session ? { session } : {}) } };
  }

  @Get(':envId/logs')
  @Authorize('ENVIRONMENT', 'LOGS', 'envId')
  async logs(@CurrentResource() resource: AuthorizedResource, @Query() query: unknown) {
    const q = parseQuery(logQuery, query);
    return {
      data: await this.rpc.call(EnvironmentsRpc.getEnvironmentLog, { id: resource.id, page: listPageOf(q) }),
    };
  }
}
