import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ActorsRpc, BuildView, ListPage, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { BuildsService } from './builds.service';

@Controller()
export class BuildsMessageController {
  constructor(private readonly builds: BuildsService) {}

  @RpcHandler(ActorsRpc.createBuild)
  create(@Payload() req: RpcPayload<typeof ActorsRpc.createBuild>): Promise<BuildView> {
    return this.builds.create(req);
  }

  @RpcHandler(ActorsRpc.getBuild)
  get(@Payload() { id }: RpcPayload<typeof ActorsRpc.getBuild>): Promise<BuildView> {
    return this.builds.get(id);
  }

  @RpcHandler(ActorsRpc.listBuilds)
  list(@Payload() req: RpcPayload<typeof ActorsRpc.listBuilds>): Promise<ListPage<BuildView>> {
    return this.builds.list(req);
  }

  @RpcHandler(ActorsRpc.updateBuildStatus)
  updateStatus(
    @Payload() { id, status }: RpcPayload<typeof ActorsRpc.updateBuildStatus>,
  ): Promise<BuildView> {
    return this.builds.updateStatus(id, status);
  }

  @RpcHandler(ActorsRpc.updateBuild)
  update(@Payload() req: RpcPayload<typeof ActorsRpc.updateBuild>): Promise<BuildView> {
    return this.builds.update(req);
  }

  @RpcHandler(ActorsRpc.abortBuild)
  abort(@Payload() { id }: RpcPayload<typeof ActorsRpc.abortBuild>): Promise<BuildView> {
    return this.builds.abort(id);
  }

  @RpcHandler(ActorsRpc.resolveBuild)
  resolve(@Payload() { actorId, ref }: RpcPayload<typeof ActorsRpc.resolveBuild>): Promise<BuildView> {
    return this.builds.resolve(actorId, ref);
  }

  @RpcHandler(ActorsRpc.getBuildLog)
  log(@Payload() { id }: RpcPayload<typeof ActorsRpc.getBuildLog>): Promise<{ log: string }> {
    return this.builds.log(id);
  }

  @RpcHandler(ActorsRpc.deleteBuild)
  delete(@Payload() { id }: RpcPayload<typeof ActorsRpc.deleteBuild>): Promise<{ ok: true }> {
    return this.builds.delete(id);
  }
}
