import { Injectable } from '@nestjs/common';
import {
  AccountCheckResult,
  categoryOf,
  categoryPermissionsOn,
  DecisionRule,
  expandPermissions,
  PermissionsRpc,
  RpcPayload,
  scopeAllowsCreate,
} from '@atrium/contracts';
import { MembershipsService } from '../memberships/memberships.service';
import { ProjectionsService } from '../projections/projections.service';
import { MAX_LISTED_IDS, TokenCreationsService } from '../token-creations/token-creations.service';
import { collaborationLevel } from './decide';

/** Decisions on an account rather than on one resource: whether to create, or list, there. */
@Injectable()
export class AccountDecisionsService {
  constructor(
    private readonly projections: ProjectionsService,
    private readonly memberships: MembershipsService,
    private readonly tokenCreations: TokenCreationsService,
  ) {}

  /**
   * Whether the principal may create resources of a type in an account (or list them): its own
   * account; an organization whose role gives WRITE (create) or anything (list) on the category;
   * a collaboration primary whose shares give CREATE on the group (or its parents) or the
   * ENVIRONMENTS category. A scoped token also needs the type in its CREATE scope, and READ on
   * the category to list.
   */
  async checkAccount(req: RpcPayload<typeof PermissionsRpc.checkAccount>): Promise<AccountCheckResult> {
    const { principal, accountId, resourceType: type, permission } = req;
    const deny = (detail: string) => ({ allowed: false, rule: 'none' as const, detail });
    if (!principal.userId || principal.runId) return deny('only an account may create or list');
    const category = categoryOf(type);
    // A scoped token lists the whole category only when its scope gives READ on all of it;
    // otherwise only what its scope names and what it created (`ids`), each still decided alone.
    let ids: string[] | undefined;
    if (principal.scope) {
      if (permission === 'CREATE') {
        if (!scopeAllowsCreate(principal.scope, type))
          return deny(`the token's scope does not allow CREATE of ${type}`);
      } else if (!(
        category && categoryPermissionsOn(type, principal.scope.account[category] ?? []).includes('READ')
      )) {
        const named = principal.scope.resources.filter((r) => r.type === type).map((r) => r.id);
        const created = principal.tokenId
          ? await this.tokenCreations.creationsOf(principal.tokenId, type)
          : [];
        ids = [...new Set([...named, ...created])].slice(0, MAX_LISTED_IDS);
        if (!ids.length) return deny(`the token's scope does not allow READ of ${type}`);
      }
    }
    const allow = (rule: DecisionRule, detail: string): AccountCheckResult =>
      ids ? { allowed: true, rule, detail, ids } : { allowed: true, rule, detail };
    if (accountId === principal.userId) return allow('owner', 'the own account');
    const memberships = await this.memberships.active(accountId, principal.userId);
    const organization = memberships.find((m) => m.kind === 'ORGANIZATION');
    const orgPermissions =
      organization?.bindings.find((b) => b.kind === 'category' && b.target === category)?.permissions ?? [];
    if (permission === 'CREATE' ? orgPermissions.includes('WRITE') : orgPermissions.length > 0) {
      return allow(
        'organization-member',
        `member of organization ${accountId} with role ${organization?.roleName}`,
      );
    }
    const collaboration = memberships.find((m) => m.kind === 'COLLABORATION');
    if (collaboration && category === 'ENVIRONMENTS') {
      const group = req.groupId ? await this.projections.resource(req.groupId) : null;
      if (req.groupId && (group?.type !== 'ENVIRONMENT_GROUP' || group.ownerId !== accountId))
        return deny(`environment group ${req.groupId} is not account ${accountId}'s`);
      const chain = group ? [group.id, ...(await this.projections.groupChain(group))] : [];
      const level = collaborationLevel(
        collaboration,
        group ?? { id: '', type: 'ENVIRONMENT' },
        chain.slice(1),
      );
      const allowed =
        permission === 'CREATE'
          ? !!level && expandPermissions(level.permissions).includes('CREATE')
          : collaboration.bindings.length > 0;
      if (allowed)
        return allow(
          'collaboration',
          `collaborator of account ${accountId} with role ${collaboration.roleName}${level ? `, shared ${level.via}` : ''}`,
        );
    }
    return deny(`no membership of account ${accountId} allows ${permission} of ${type}`);
  }
}
