import { Injectable } from '@nestjs/common';
import { CheckResult, PermissionsRpc, ResourceFacts, RpcPayload } from '@atrium/contracts';
import { ProjectionsService } from '../projections/projections.service';
import { GrantsService } from '../grants/grants.service';
import { decide } from './decide';

const ID_PATTERN = /^[A-Za-z0-9]{17}$/;

@Injectable()
export class DecisionsService {
  constructor(
    private readonly projections: ProjectionsService,
    private readonly grants: GrantsService,
  ) {}

  /** Resolves an id or `username~name` (`~name` = the caller's own account) to a resource. */
  private async resolve(type: ResourceFacts['type'], ref: string, userId: string | null): Promise<ResourceFacts | null> {
    if (ID_PATTERN.test(ref)) {
      const resource = await this.projections.resource(ref);
      return resource?.type === type ? resource : null;
    }
    const [username, name] = ref.split('~');
    const ownerId = username ? (await this.projections.accountByUsername(username))?.id : userId;
    return ownerId ? this.projections.resourceByName(type, ownerId, name) : null;
  }

  async check(req: RpcPayload<typeof PermissionsRpc.check>): Promise<CheckResult> {
    const { userId } = req.principal;
    const resource = await this.resolve(req.resourceType, req.resourceRef, userId);
    const denied: CheckResult = {
      resourceId: null,
      resourceType: req.resourceType,
      allowed: false,
      canRead: false,
      permissions: [],
      rule: 'none',
    };
    if (!resource) return denied;
    const [owner, grantedPermissions] = await Promise.all([
      resource.generalAccess === 'FOLLOW_USER_SETTING' ? this.projections.account(resource.ownerId) : null,
      userId ? this.grants.activePermissions(resource.id, userId) : [],
    ]);
    const { permissions } = decide({
      userId,
      resource,
      owner,
      grantedPermissions,
      addressedByName: !ID_PATTERN.test(req.resourceRef),
    });
    if (!permissions.has('READ')) return denied;
    return {
      resourceId: resource.id,
      resourceType: resource.type,
      allowed: permissions.has(req.permission),
      canRead: true,
      permissions: [...permissions.keys()].sort(),
      rule: permissions.get(req.permission) ?? 'none',
    };
  }
}
