import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ClaimedRunView, RpcPayload, RunLeasesRpc, RunView } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { RunLeasesService } from './run-leases.service';

@Controller()
export class RunLeasesMessageController {
  constructor(private readonly leases: RunLeasesService) {}

  @RpcHandler(RunLeasesRpc.claim)
  claim(@Payload() req: RpcPayload<typeof RunLeasesRpc.claim>): Promise<ClaimedRunView | null> {
    return this.leases.claim(req);
  }

  @RpcHandler(RunLeasesRpc.renew)
  renew(
    @Payload() req: RpcPayload<typeof RunLeasesRpc.renew>,
  ): Promise<{ status: RunView['status']; expiresAt: string }> {
    return this.leases.renew(req);
  }

  @RpcHandler(RunLeasesRpc.finish)
  finish(@Payload() req: RpcPayload<typeof RunLeasesRpc.finish>): Promise<RunView> {
    return this.leases.finish(req);
  }

  @RpcHandler(RunLeasesRpc.appendLog)
  appendLog(
    @Payload() req: RpcPayload<typeof RunLeasesRpc.appendLog>,
  ): Promise<{ length: number; truncated: boolean }> {
    return this.leases.appendLog(req);
  }
}
