import { Injectable } from '@nestjs/common';
import {
  AccountFacts,
  AppError,
  categoryOf,
  Events,
  expandPermissions,
  MembershipFacts,
  PrincipalRef,
  scopeAllows,
  scopeAllowsCreate,
  CheckResult,
  DecisionRule,
  ExplainResult,
  ID_PATTERN,
  Permission,
  PermissionsRpc,
  ResourceFacts,
  RpcPayload,
} from '@atrium/contracts';
import { AuditLogService } from '../audit/audit-log.service';
import { GrantInForce, GrantsService } from '../grants/grants.service';
import { DecisionFactsQuery, DecisionFactsRow } from './decision-facts.query';
import { ProjectionsService } from '../projections/projections.service';
import { collaborationLevel, decide, Evaluation } from './decide';
import { MembershipsService } from '../memberships/memberships.service';
import { TokenCreationEntity } from '../token-creations/token-creation.entity';
import { DataSource } from 'typeorm';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';

/** Storage → run → Actor/task: related resources never nest deeper. */
const MAX_DEPTH = 2;

@Injectable()
export class DecisionsService {
  constructor(
    private readonly projections: ProjectionsService,
    private readonly grants: GrantsService,
    private readonly audit: AuditLogService,
    private readonly decisionFacts: DecisionFactsQuery,
    private readonly memberships: MembershipsService,
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  /** Resolves an id or `username~name` (`~name` = the caller's own account) to a resource. */
  private async resolve(
    type: ResourceFacts['type'],
    ref: string,
    userId: string | null,
  ): Promise<ResourceFacts | null> {
    if (ID_PATTERN.test(ref)) {
      const resource = await this.projections.resource(ref);
      return resource?.type === type ? resource : null;
    }
    const [username, name] = ref.split('~');
    const ownerId = username ? (await this.projections.accountByUsername(username))?.id : userId;
    return ownerId ? this.projections.resourceByName(type, ownerId, name) : null;
  }

  /**
   * Everything `userId` holds on `resource`, with the rule giving each permission, the facts
   * that decided it (for explain), and when time alone may change it (for caches).
   */
  async evaluate(
    resource: ResourceFacts,
    userId: string | null,
    addressedByName = false,
    depth = 0,
    known: { owner?: AccountFacts; grant?: GrantInForce; memberships?: MembershipFacts[] } = {},
  ): Promise<Evaluation> {
    const related = async (id: string | null): Promise<Evaluation | null> => {
      if (!id || depth >= MAX_DEPTH) return null;
      const facts = await this.projections.resource(id);
      return facts ? this.evaluate(facts, userId, false, depth + 1) : null;
    };
    const isOwner = userId !== null && userId === resource.ownerId;
    const [owner, grant, memberships, actor, task, run] = await Promise.all([
      isOwner ? null : (known.owner ?? this.projections.account(resource.ownerId)),
      userId && !isOwner ? (known.grant ?? this.grants.activePermissions(resource.id, userId)) : null,
      isOwner ? [] : (known.memberships ?? this.memberships.active(resource.ownerId, userId)),
      isOwner
        ? null
        : related(resource.type === 'ACTOR_RUN' || resource.type === 'ACTOR_BUILD' ? resource.actorId : null),
      isOwner ? null : related(resource.type === 'ACTOR_RUN' ? resource.taskId : null),
      isOwner ? null : related(resource.runId),
    ]);
    const collaborates = memberships.some((m) => m.kind === 'COLLABORATION');
    const { permissions: held, trace } = decide({
      userId,
      resource,
      owner,
      memberships,
      groupChain: collaborates ? await this.projections.groupChain(resource) : [],
      grantedPermissions: grant?.permissions ?? [],
      addressedByName,
      actor,
      task,
      run,
    });
    const times = [grant?.validUntil, actor?.validUntil, task?.validUntil, run?.validUntil].filter(
      (t): t is Date => !!t,
    );
    const validUntil = times.length ? new Date(Math.min(...times.map((t) => t.getTime()))) : null;
    return {
      facts: resource,
      held,
      trace,
      owner,
      grantId: grant?.grantId ?? null,
      actor,
      task,
      run,
      validUntil,
    };
  }

  private async createdByToken(tokenId: string, resourceId: string): Promise<boolean> {
    return this.dataSource.manager.exists(TokenCreationEntity, { where: { tokenId, resourceId } });
  }

  /** Records that a scoped token created a resource (idempotent). */
  async recordTokenCreation(tokenId: string, resourceId: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(TokenCreationEntity)
        .values({ tokenId, resourceId })
        .orIgnore()
        .returning(['tokenId'])
        .execute();
      // Other replicas may hold a decision of that token on the resource from before.
      if (inserted.raw.length)
        await addToOutbox(manager, Events.permissionsChanged, {
          resourceId,
          subjectId: null,
          reason: 'token-creation',
        });
    });
    this.outbox.kick();
    return { ok: true };
  }

  /**
   * Rule 1: a scoped credential narrows what is possible — a run token to what its run may
   * touch, a scoped API token (or a collaborator's personal access token) to its scope.
   */
  private async narrow(
    held: ReadonlyMap<Permission, DecisionRule>,
    resource: ResourceFacts,
    principal: PrincipalRef,
  ): Promise<ReadonlyMap<Permission, DecisionRule>> {
    if (principal.runId) return this.narrowToRun(held, resource, principal.runId);
    if (!principal.scope) return held;
    if (principal.tokenId && (await this.createdByToken(principal.tokenId, resource.id))) return held;
    const allowed = scopeAllows(principal.scope, resource);
    return new Map([...held].filter(([permission]) => allowed.has(permission)));
  }

  /**
   * Rule 1 for run tokens: the starter's rights ∩ what the run may touch — the run itself and
   * its storages (read and write) and its Actor (read).
   */
  private async narrowToRun(
    held: ReadonlyMap<Permission, DecisionRule>,
    resource: ResourceFacts,
    runId: string,
  ): Promise<ReadonlyMap<Permission, DecisionRule>> {
    const run = await this.projections.resource(runId);
    let scope: Permission[] = [];
    if (resource.id === runId || resource.runId === runId) scope = ['READ', 'WRITE'];
    else if (run && resource.id === run.actorId) scope = ['READ'];
    return new Map([...held].filter(([permission]) => scope.includes(permission)));
  }

  /**
   * Several checks, each answered as `check` answers it; the facts of those by id are read in
   * one round trip.
   */
  async checkMany(checks: RpcPayload<typeof PermissionsRpc.check>[]): Promise<CheckResult[]> {
    const byId = checks.filter((c) => ID_PATTERN.test(c.resourceRef));
    const facts = byId.length
      ? await this.decisionFacts.loadMany(
          byId.map((c) => ({ resourceId: c.resourceRef, userId: c.principal.userId })),
        )
      : [];
    const known = new Map(byId.map((c, i) => [c, facts[i]]));
    return Promise.all(checks.map((c) => this.check(c, known.get(c))));
  }

  /** `known`: the facts of a check by id, already read (`checkMany`). */
  async check(
    req: RpcPayload<typeof PermissionsRpc.check>,
    known?: DecisionFactsRow | 'deleted' | null,
  ): Promise<CheckResult> {
    const { userId } = req.principal;
    const denied: CheckResult = {
      resourceId: null,
      resourceType: req.resourceType,
      allowed: false,
      canRead: false,
      permissions: [],
      rule: 'none',
      validUntil: null,
    };
    // By id (the common case): resource, owner account and grant in one query.
    const facts = ID_PATTERN.test(req.resourceRef)
      ? known !== undefined
        ? known
        : await this.decisionFacts.load(req.resourceRef, userId)
      : null;
    if (facts === 'deleted') return denied;
    const resource = facts ? facts.resource : await this.resolve(req.resourceType, req.resourceRef, userId);
    if (!resource || resource.type !== req.resourceType) return denied;
    const evaluation = await this.evaluate(
      resource,
      userId,
      !ID_PATTERN.test(req.resourceRef),
      0,
      facts ?? {},
    );
    const permissions = await this.narrow(evaluation.held, resource, req.principal);
    if (!permissions.has(req.permission)) {
      // Every denial is audited, off the request path (buffered, written in batches).
      this.audit.recordLater({
        action: 'access.denied',
        actorId: userId,
        subjectId: userId,
        resourceId: resource.id,
        resourceType: resource.type,
        accountId: resource.ownerId,
        before: null,
        after: { permission: req.permission, runId: req.principal.runId ?? null },
      });
    }
    if (!permissions.has('READ')) return denied;
    return {
      resourceId: resource.id,
      resourceType: resource.type,
      allowed: permissions.has(req.permission),
      canRead: true,
      permissions: [...permissions.keys()].sort(),
      rule: permissions.get(req.permission) ?? 'none',
      validUntil: evaluation.validUntil?.toISOString() ?? null,
    };
  }

  async checkBatch(req: RpcPayload<typeof PermissionsRpc.checkBatch>): Promise<{ allowed: boolean }[]> {
    return Promise.all(
      req.checks.map(async ({ resourceId, permission }) => {
        const resource = await this.projections.resource(resourceId);
        if (!resource) return { allowed: false };
        const { held } = await this.evaluate(resource, req.principal.userId);
        const permissions = await this.narrow(held, resource, req.principal);
        return { allowed: permissions.has('READ') && permissions.has(permission) };
      }),
    );
  }

  /**
   * Whether the principal may create resources of a type in an account (or list them): its own
   * account; an organization whose role gives WRITE (create) or anything (list) on the category;
   * a collaboration primary whose shares give CREATE on the group (or its parents) or the
   * ENVIRONMENTS category. A scoped token also needs the type in its CREATE scope, and READ on
   * the category to list.
   */
  async checkAccount(
    req: RpcPayload<typeof PermissionsRpc.checkAccount>,
  ): Promise<{ allowed: boolean; rule: DecisionRule; detail: string }> {
    const { principal, accountId, resourceType: type, permission } = req;
    const deny = (detail: string) => ({ allowed: false, rule: 'none' as const, detail });
    if (!principal.userId || principal.runId) return deny('only an account may create or list');
    const category = categoryOf(type);
    if (principal.scope) {
      const scoped =
        permission === 'CREATE'
          ? scopeAllowsCreate(principal.scope, type)
          : (!!category && (principal.scope.account[category] ?? []).length > 0) ||
            // e.g. a collaborator's token, scoped to one app, lists the apps shared with its user.
            principal.scope.resources.some((r) => r.type === type);
      if (!scoped) return deny(`the token's scope does not allow ${permission} of ${type}`);
    }
    if (accountId === principal.userId) return { allowed: true, rule: 'owner', detail: 'the own account' };
    const memberships = await this.memberships.active(accountId, principal.userId);
    const organization = memberships.find((m) => m.kind === 'ORGANIZATION');
    const orgPermissions =
      organization?.bindings.find((b) => b.kind === 'category' && b.target === category)?.permissions ?? [];
    if (permission === 'CREATE' ? orgPermissions.includes('WRITE') : orgPermissions.length > 0) {
      return {
        allowed: true,
        rule: 'organization-member',
        detail: `member of organization ${accountId} with role ${organization?.roleName}`,
      };
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
        return {
          allowed,
          rule: 'collaboration',
          detail: `collaborator of account ${accountId} with role ${collaboration.roleName}${level ? `, shared ${level.via}` : ''}`,
        };
    }
    return deny(`no membership of account ${accountId} allows ${permission} of ${type}`);
  }

  async explain(req: RpcPayload<typeof PermissionsRpc.explain>): Promise<ExplainResult> {
    // A run token reaches what its run may touch, not the reasons behind its starter's access.
    if (req.caller.runId) throw new AppError('insufficient-permissions', 'A run token cannot explain access');
    const resource = await this.projections.resource(req.resourceId);
    if (!resource) throw AppError.notFound('The resource');
    const caller = await this.evaluate(resource, req.caller.userId);
    if (!caller.held.has('READ')) throw AppError.notFound('The resource');
    const self = req.userId === req.caller.userId;
    if (!self && !caller.held.has('MANAGE_ACCESS')) {
      throw new AppError(
        'insufficient-permissions',
        "Explaining another user's access needs MANAGE_ACCESS permission",
      );
    }
    const evaluation = self ? caller : await this.evaluate(resource, req.userId);
    const rule = evaluation.held.get(req.permission) ?? 'none';
    return {
      resourceId: resource.id,
      resourceType: resource.type,
      userId: req.userId,
      permission: req.permission,
      allowed: rule !== 'none',
      rule,
      chain: chainOf(evaluation, req.permission),
      checked: evaluation.trace,
    };
  }
}

/** The deciding rule of an allow, then, for derived access, the decision it rests on. */
function chainOf(evaluation: Evaluation | null | undefined, permission: Permission): string[] {
  const rule = evaluation?.held.get(permission);
  if (!evaluation || !rule) return [];
  const outcome = evaluation.trace.find((o) => o.rule === rule);
  const here = `${evaluation.facts.type} ${evaluation.facts.id}: ${permission} by rule "${rule}" — ${outcome?.detail ?? ''}`;
  const viewer = evaluation.actor?.held.has('VIEW_OWNER_RUNS') ? evaluation.actor : evaluation.task;
  const next: Record<string, string[]> = {
    'run-storage': chainOf(evaluation.run, 'READ'),
    'view-owner-runs': chainOf(viewer, 'VIEW_OWNER_RUNS'),
    'public-actor-build': chainOf(evaluation.actor, 'READ'),
  };
  return [here, ...(next[rule] ?? [])];
}
