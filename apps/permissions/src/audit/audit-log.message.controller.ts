import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AppError, AuditEntryView, PermissionsRpc, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { DecisionsService } from '../decisions/decisions.service';
import { ProjectionsService } from '../projections/projections.service';
import { AuditLogService } from './audit-log.service';

@Controller()
export class AuditLogMessageController {
  constructor(
    private readonly audit: AuditLogService,
    private readonly decisions: DecisionsService,
    private readonly projections: ProjectionsService,
  ) {}

  /** An account's log is its own; a resource's log is for those who manage access to it. */
  @RpcHandler(PermissionsRpc.listAuditLog)
  async list(
    @Payload() req: RpcPayload<typeof PermissionsRpc.listAuditLog>,
  ): Promise<{ items: AuditEntryView[]; nextCursor: string | null }> {
    const callerId = req.caller.userId;
    if (!callerId) throw new AppError('token-not-valid', 'Authentication is required');
    if (req.resourceId) {
      const resource = await this.projections.resource(req.resourceId);
      const held = resource ? await this.decisions.holds(resource, req.caller) : new Map();
      if (!held.has('READ')) throw AppError.notFound('The resource');
      if (!held.has('MANAGE_ACCESS')) {
        throw new AppError(
          'insufficient-permissions',
          "Reading a resource's audit log needs MANAGE_ACCESS permission",
        );
      }
      return this.audit.list(req);
    }
    const accountId = req.accountId ?? callerId;
    if (accountId !== callerId)
      throw new AppError('insufficient-permissions', 'You can read only your own account audit log');
    return this.audit.list({ ...req, accountId });
  }
}
