import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AppError, CheckResult, ExplainResult, PermissionsRpc, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { MembershipsService } from '../memberships/memberships.service';
import { ProjectionsService } from '../projections/projections.service';
import { TokenCreationsService } from '../token-creations/token-creations.service';
import { AccountDecisionsService } from './account-decisions.service';
import { DecisionsService } from './decisions.service';

@Controller()
export class ChecksMessageController {
  constructor(
    private readonly decisions: DecisionsService,
    private readonly accountDecisions: AccountDecisionsService,
    private readonly tokenCreations: TokenCreationsService,
    private readonly projections: ProjectionsService,
    private readonly memberships: MembershipsService,
  ) {}

  @RpcHandler(PermissionsRpc.check)
  check(@Payload() req: RpcPayload<typeof PermissionsRpc.check>): Promise<CheckResult> {
    return this.decisions.check(req);
  }

  /** The gateway's batched cache misses and access questions: each answered as `check` answers it, in order. */
  @RpcHandler(PermissionsRpc.checkMany)
  checkMany(@Payload() req: RpcPayload<typeof PermissionsRpc.checkMany>): Promise<CheckResult[]> {
    return this.decisions.checkMany(req);
  }

  @RpcHandler(PermissionsRpc.checkAccount)
  checkAccount(@Payload() req: RpcPayload<typeof PermissionsRpc.checkAccount>) {
    return this.accountDecisions.checkAccount(req);
  }

  @RpcHandler(PermissionsRpc.recordTokenCreation)
  recordTokenCreation(@Payload() req: RpcPayload<typeof PermissionsRpc.recordTokenCreation>) {
    return this.tokenCreations.record(req.tokenId, req.resourceId);
  }

  @RpcHandler(PermissionsRpc.listMemberAccounts)
  listMemberAccounts(@Payload() req: RpcPayload<typeof PermissionsRpc.listMemberAccounts>) {
    return this.memberships.accountsOf(req.userId, req.kind);
  }

  @RpcHandler(PermissionsRpc.explain)
  explain(@Payload() req: RpcPayload<typeof PermissionsRpc.explain>): Promise<ExplainResult> {
    return this.decisions.explain(req);
  }

  @RpcHandler(PermissionsRpc.refreshProjection)
  async refresh(@Payload() req: RpcPayload<typeof PermissionsRpc.refreshProjection>): Promise<{ ok: true }> {
    if (req.kind === 'membership') {
      const [accountId, userId] = req.id.split(':');
      if (!accountId || !userId) throw new AppError('invalid-input', 'Field "id" must be "accountId:userId"');
      await this.memberships.refresh(accountId, userId, req.changedBy ?? null);
    } else {
      await this.projections.refresh(req.kind, req.id, req.changedBy ?? null);
    }
    return { ok: true };
  }
}
