import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ActorVersionsRpc, ActorVersionView, EnvVarView, RpcPayload, ShortList } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { ActorVersionsService } from './actor-versions.service';

@Controller()
export class ActorVersionsMessageController {
  constructor(private readonly versions: ActorVersionsService) {}

  @RpcHandler(ActorVersionsRpc.listVersions)
  list(
    @Payload() req: RpcPayload<typeof ActorVersionsRpc.listVersions>,
  ): Promise<ShortList<ActorVersionView>> {
    return this.versions.list(req);
  }

  @RpcHandler(ActorVersionsRpc.getVersion)
  get(@Payload() req: RpcPayload<typeof ActorVersionsRpc.getVersion>): Promise<ActorVersionView> {
    return this.versions.get(req);
  }

  @RpcHandler(ActorVersionsRpc.createVersion)
  create(@Payload() req: RpcPayload<typeof ActorVersionsRpc.createVersion>): Promise<ActorVersionView> {
    return this.versions.create(req);
  }

  @RpcHandler(ActorVersionsRpc.updateVersion)
  update(@Payload() req: RpcPayload<typeof ActorVersionsRpc.updateVersion>): Promise<ActorVersionView> {
    return this.versions.update(req);
  }

  @RpcHandler(ActorVersionsRpc.deleteVersion)
  delete(@Payload() req: RpcPayload<typeof ActorVersionsRpc.deleteVersion>): Promise<{ ok: true }> {
    return this.versions.delete(req);
  }

  @RpcHandler(ActorVersionsRpc.listEnvVars)
  listEnvVars(
    @Payload() req: RpcPayload<typeof ActorVersionsRpc.listEnvVars>,
  ): Promise<ShortList<EnvVarView>> {
    return this.versions.listEnvVars(req);
  }

  @RpcHandler(ActorVersionsRpc.getEnvVar)
  getEnvVar(@Payload() req: RpcPayload<typeof ActorVersionsRpc.getEnvVar>): Promise<EnvVarView> {
    return this.versions.getEnvVar(req);
  }

  @RpcHandler(ActorVersionsRpc.createEnvVar)
  createEnvVar(@Payload() req: RpcPayload<typeof ActorVersionsRpc.createEnvVar>): Promise<EnvVarView> {
    return this.versions.createEnvVar(req);
  }

  @RpcHandler(ActorVersionsRpc.updateEnvVar)
  updateEnvVar(@Payload() req: RpcPayload<typeof ActorVersionsRpc.updateEnvVar>): Promise<EnvVarView> {
    return this.versions.updateEnvVar(req);
  }

  @RpcHandler(ActorVersionsRpc.deleteEnvVar)
  deleteEnvVar(@Payload() req: RpcPayload<typeof ActorVersionsRpc.deleteEnvVar>): Promise<{ ok: true }> {
    return this.versions.deleteEnvVar(req);
  }
}
