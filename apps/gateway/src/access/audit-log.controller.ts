import { Controller, Get } from '@nestjs/common';
import { auditLogQuery, PermissionsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { CurrentUser, principalRef, UserPrincipal } from '../auth/principal';
import { SignedIn } from '../authorization/authorize.decorator';
import { requireInOrganization } from '../organizations/organization-caller';
import { Returns, ValidQuery } from '../http/validated';
import { queryInt } from '../http/api-query';
import { z } from 'zod';
import { auditLogView } from '../http/views';

/** `GET /v2/audit-log?resourceId=&accountId=&from=&to=&limit=&cursor=`: changes of access and denials, newest first. */
/** The RPC's query, its limit read as the other routes read query numbers. */
const auditLogHttpQuery = auditLogQuery.extend({ limit: queryInt(1, 1000).default(100) });

@Controller('v2/audit-log')
export class AuditLogController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @SignedIn()
  @Returns(auditLogView)
  async list(
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(auditLogHttpQuery) q: z.output<typeof auditLogHttpQuery>,
  ) {
    let caller = principalRef(user);
    // An organization's log: for its members who manage it (the organization reads its own).
    if (q.accountId && q.accountId !== user.userId && !q.resourceId) {
      await requireInOrganization(
        this.rpc,
        user,
        q.accountId,
        ['MANAGE_ORGANIZATION'],
        "read the organization's audit log",
      );
      caller = { userId: q.accountId };
    }
    const page = await this.rpc.call(PermissionsRpc.listAuditLog, { ...q, caller });
    return {
      data: { limit: q.limit, count: page.items.length, nextCursor: page.nextCursor, items: page.items },
    };
  }
}
