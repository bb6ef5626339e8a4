import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  AppError,
  ENVIRONMENT_ACTION_PERMISSIONS,
  ENVIRONMENT_ACTIONS,
  environmentActionBodies,
  environmentActionSchema,
  EnvironmentAction,
  EnvironmentsRpc,
  parseInput,
} from '@atrium/contracts';
import { ChangesNoAccess } from '../authorization/access-changes';
import { anyObject } from '../http/views';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { paginationQuery, parseBody } from '../http/api-query';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { requireCreateIn } from './environment-creation';
import { listPageOf } from './environment-listing';

const logQuery = z.object(paginationQuery);
const actionParam = z.enum(ENVIRONMENT_ACTIONS);

/**
 * What is special about environments (account collaboration): actions, each guarded by its own
 * collaboration operation, and the log. Their list, create, get, update and delete:
 * `EnvironmentsCatalogueController`.
 */
@Controller('v2/environments')
export class EnvironmentsController {
  constructor(private readonly rpc: RpcClient) {}

  /**
   * start, stop (START_STOP), restart, deploy `{ artifact }`, configure `{ config }`, ssh, clone
   * `{ name? }` (also CREATE in the owner account), migrate `{ region }`: each needs its operation.
   */
  @Post(':envId/actions/:action')
  @ChangesNoAccess()
  @Authorize('ENVIRONMENT', 'READ', 'envId')
  @HttpCode(200)
  @Returns(anyObject)
  async act(
    @CurrentUser() user: UserPrincipal,
    @CurrentResource() resource: AuthorizedResource,
    @Param('action') actionName: string,
    @ValidBody(anyObject) body: object,
  ) {
    const action: EnvironmentAction = parseInput(actionParam, actionName, 'params.action');
    const needed = ENVIRONMENT_ACTION_PERMISSIONS[action];
    if (!resource.permissions.includes(needed))
      throw new AppError(
        'insufficient-permissions',
        `You need ${needed} permission on this environment to ${action} it`,
      );
    // The body's schema depends on the action, known only once checked: validated here.
    const input = parseBody(environmentActionBodies[action], body);
    if (action === 'clone') {
      const source = await this.rpc.call(EnvironmentsRpc.get, { id: resource.id });
      await requireCreateIn(this.rpc, user, 'ENVIRONMENT', source.ownerId, source.groupId, 'clone');
      const clone = await this.rpc.call(EnvironmentsRpc.cloneEnvironment, {
        id: resource.id,
        actorId: user.userId,
        name: (input as { name?: string }).name,
      });
      const environment = await this.rpc.call(EnvironmentsRpc.get, { id: resource.id });
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
  @Returns(anyObject)
  async logs(
    @CurrentResource() resource: AuthorizedResource,
    @ValidQuery(logQuery) q: z.output<typeof logQuery>,
  ) {
    return {
      data: await this.rpc.call(EnvironmentsRpc.getEnvironmentLog, { id: resource.id, page: listPageOf(q) }),
    };
  }
}
