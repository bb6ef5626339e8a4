import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { CheckResult, ExplainResult, PermissionsRpc, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { ProjectionsService } from '../projections/projections.service';
import { DecisionsService } from './decisions.service';

@Controller()
export class ChecksMessageController {
  constructor(
    private readonly decisions: DecisionsService,
    private readonly projections: ProjectionsService,
  ) {}

  @RpcHandler(PermissionsRpc.check)
  check(@Payload() req: RpcPayload<typeof PermissionsRpc.check>): Promise<CheckResult> {
    return this.decisions.check(req);
  }

  @RpcHandler(PermissionsRpc.checkBatch)
  checkBatch(@Payload() req: RpcPayload<typeof PermissionsRpc.checkBatch>): Promise<{ allowed: boolean }[]> {
    return this.decisions.checkBatch(req);
  }

  @RpcHandler(PermissionsRpc.explain)
  explain(@Payload() req: RpcPayload<typeof PermissionsRpc.explain>): Promise<ExplainResult> {
    return this.decisions.explain(req);
  }

  @RpcHandler(PermissionsRpc.refreshProjection)
  async refresh(@Payload() req: RpcPayload<typeof PermissionsRpc.refreshProjection>): Promise<{ ok: true }> {
    await this.projections.refresh(req.kind, req.id);
    return { ok: true };
  }
}
