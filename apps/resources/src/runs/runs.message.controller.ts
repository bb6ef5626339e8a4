import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ListPage, RpcPayload, RunsRpc, RunView, StartedRunView } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { RunsService } from './runs.service';

@Controller()
export class RunsMessageController {
  constructor(private readonly runs: RunsService) {}

  @RpcHandler(RunsRpc.start)
  start(@Payload() req: RpcPayload<typeof RunsRpc.start>): Promise<StartedRunView> {
    return this.runs.start(req);
  }

  @RpcHandler(RunsRpc.get)
  get(@Payload() { id }: RpcPayload<typeof RunsRpc.get>): Promise<RunView> {
    return this.runs.get(id);
  }

  @RpcHandler(RunsRpc.list)
  list(@Payload() req: RpcPayload<typeof RunsRpc.list>): Promise<ListPage<RunView>> {
    return this.runs.list(req);
  }

  @RpcHandler(RunsRpc.update)
  update(@Payload() req: RpcPayload<typeof RunsRpc.update>): Promise<RunView> {
    return this.runs.update(req);
  }

  @RpcHandler(RunsRpc.abort)
  abort(@Payload() { id }: RpcPayload<typeof RunsRpc.abort>): Promise<RunView> {
    return this.runs.abort(id);
  }

  @RpcHandler(RunsRpc.verifyToken)
  verifyToken(
    @Payload() { token }: RpcPayload<typeof RunsRpc.verifyToken>,
  ): Promise<{ runId: string; userId: string }> {
    return this.runs.verifyToken(token);
  }

  @RpcHandler(RunsRpc.resurrect)
  resurrect(@Payload() { id, options }: RpcPayload<typeof RunsRpc.resurrect>): Promise<RunView> {
    return this.runs.resurrect(id, options);
  }

  @RpcHandler(RunsRpc.delete)
  delete(@Payload() { id }: RpcPayload<typeof RunsRpc.delete>): Promise<{ deletedStorageIds: string[] }> {
    return this.runs.delete(id);
  }

  @RpcHandler(RunsRpc.getLog)
  log(
    @Payload() { id, offset }: RpcPayload<typeof RunsRpc.getLog>,
  ): Promise<{ log: string; length: number; finished: boolean }> {
    return this.runs.log(id, offset);
  }
}
