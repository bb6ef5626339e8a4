import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  EnvironmentGroupView,
  EnvironmentLogLine,
  EnvironmentsRpc,
  EnvironmentView,
  ListPage,
  RpcPayload,
  SshSessionView,
} from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { EnvironmentGroupsService } from './environment-groups.service';
import { EnvironmentsService } from './environments.service';

type Payload<K extends keyof typeof EnvironmentsRpc> = RpcPayload<(typeof EnvironmentsRpc)[K]>;

@Controller()
export class EnvironmentsMessageController {
  constructor(
    private readonly environments: EnvironmentsService,
    private readonly groups: EnvironmentGroupsService,
  ) {}

  @RpcHandler(EnvironmentsRpc.createEnvironment)
  create(@Payload() req: Payload<'createEnvironment'>): Promise<EnvironmentView> {
    return this.environments.create(req);
  }

  @RpcHandler(EnvironmentsRpc.getEnvironment)
  get(@Payload() req: Payload<'getEnvironment'>): Promise<EnvironmentView> {
    return this.environments.get(req.id);
  }

  @RpcHandler(EnvironmentsRpc.updateEnvironment)
  update(@Payload() req: Payload<'updateEnvironment'>): Promise<EnvironmentView> {
    return this.environments.update(req);
  }

  @RpcHandler(EnvironmentsRpc.deleteEnvironment)
  delete(@Payload() req: Payload<'deleteEnvironment'>): Promise<{ ok: true }> {
    return this.environments.delete(req.id);
  }

  @RpcHandler(EnvironmentsRpc.listEnvironments)
  list(@Payload() req: Payload<'listEnvironments'>): Promise<ListPage<EnvironmentView>> {
    return this.environments.list(req);
  }

  @RpcHandler(EnvironmentsRpc.runEnvironmentAction)
  runAction(
    @Payload() req: Payload<'runEnvironmentAction'>,
  ): Promise<{ environment: EnvironmentView; session?: SshSessionView }> {
    return this.environments.runAction(req);
  }

  @RpcHandler(EnvironmentsRpc.cloneEnvironment)
  clone(@Payload() req: Payload<'cloneEnvironment'>): Promise<EnvironmentView> {
    return this.environments.clone(req);
  }

  @RpcHandler(EnvironmentsRpc.getEnvironmentLog)
  log(@Payload() req: Payload<'getEnvironmentLog'>): Promise<ListPage<EnvironmentLogLine>> {
    return this.environments.log(req);
  }

  @RpcHandler(EnvironmentsRpc.verifyOwnedItems)
  verifyOwned(@Payload() req: Payload<'verifyOwnedItems'>): Promise<{ ok: true }> {
    return this.environments.verifyOwned(req);
  }

  @RpcHandler(EnvironmentsRpc.createGroup)
  createGroup(@Payload() req: Payload<'createGroup'>): Promise<EnvironmentGroupView> {
    return this.groups.create(req);
  }

  @RpcHandler(EnvironmentsRpc.getGroup)
  getGroup(@Payload() req: Payload<'getGroup'>): Promise<EnvironmentGroupView> {
    return this.groups.get(req.id);
  }

  @RpcHandler(EnvironmentsRpc.updateGroup)
  updateGroup(@Payload() req: Payload<'updateGroup'>): Promise<EnvironmentGroupView> {
    return this.groups.update(req);
  }

  @RpcHandler(EnvironmentsRpc.deleteGroup)
  deleteGroup(@Payload() req: Payload<'deleteGroup'>): Promise<{ ok: true }> {
    return this.groups.delete(req.id);
  }

  @RpcHandler(EnvironmentsRpc.listGroups)
  listGroups(@Payload() req: Payload<'listGroups'>): Promise<ListPage<EnvironmentGroupView>> {
    return this.groups.list(req);
  }
}
