import { Injectable } from '@nestjs/common';
import {
  AccountCheckResult,
  AccountFacts,
  AppError,
  categoryOf,
  categoryPermissionsOn,
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
  ResourceType,
  RpcPayload,
} from '@atrium/contracts';
import { AuditLogService } from '../audit/audit-log.service';
import { GrantInForce, GrantsService } from '../grants/grants.service';
import { DecisionFactsQuery, DecisionFactsRow } from './decision-facts.query';
import { ProjectionsService } from '../projections/projections.service';
import { collaborationLevel, decide, dependenciesOf, Evaluation } from './decide';
import { MembershipsService } from '../memberships/memberships.service';
import { TokenCreationEntity } from '../token-creations/token-creation.entity';
import { ResourceProjectionEntity } from '../projections/resource-projection.entity';
import { DataSource, EntityManager } from 'typeorm';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';

/** Storage → run → Actor/task: related resources never nest deeper. */
const MAX_DEPTH = 2;
/** The most ids a narrowed listing carries (a scope names at most 200 resources). */
const MAX_LISTED_IDS = 1000;

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
    /** Inside a transaction (an event handler), its manager: every read goes through it. */
    manager?: EntityManager,
  ): Promise<Evaluation> {
    const related = async (id: string | null): Promise<Evaluation | null> => {
      if (!id || depth >= MAX_DEPTH) return null;
      const facts = await this.projections.resource(id, manager);
      return facts ? this.evaluate(facts, userId, false, depth + 1, {}, manager) : null;
    };
    const isOwner = userId !== null && userId === resource.ownerId;
    const [owner, grant, memberships, actor, task, run] = await Promise.all([
      isOwner ? null : (known.owner ?? this.projections.account(resource.ownerId, manager)),
      userId && !isOwner
        ? (known.grant ?? this.grants.activePermissions(resource.id, userId, manager))
        : null,
      isOwner ? [] : (known.memberships ?? this.memberships.active(resource.ownerId, userId, manager)),
      isOwner
        ? null
        : related(resource.type === 'ACTOR_RUN' || resource.type === 'ACTOR_BUILD' ? resource.actorId : null),
      isOwner ? null : related(resource.type === 'ACTOR_RUN' ? resource.taskId : null),
      isOwner ? null : related(resource.runId),
    ]);
    const collaborates = memberships.some((m) => m.kind === 'COLLABORATION');
    const groupChain = collaborates ? await this.projections.groupChain(resource, manager) : [];
    const { permissions: held, trace } = decide({
      userId,
      resource,
      owner,
      memberships,
      groupChain,
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
      groupChain,
    };
  }

  private async createdByToken(tokenId: string, resourceId: string): Promise<boolean> {
    return this.dataSource.manager.exists(TokenCreationEntity, { where: { tokenId, resourceId } });
  }

  /** The resources of a type a token created (that still exist), for its listings. */
  private async creationsOf(tokenId: string, type: ResourceType): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(TokenCreationEntity)
      .createQueryBuilder('c')
      .innerJoin(ResourceProjectionEntity, 'r', 'r.id = c.resourceId')
      .select('c.resourceId', 'id')
      .where('c.tokenId = :tokenId AND r.type = :type AND NOT r.deleted', { tokenId, type })
      .orderBy('c.resourceId')
      .limit(MAX_LISTED_IDS)
      .getRawMany<{ id: string }>();
    return rows.map((r) => r.id);
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

  /** What a principal holds on a resource: its decision, narrowed by its credential (rule 1). */
  async holds(
    resource: ResourceFacts,
    principal: PrincipalRef,
  ): Promise<ReadonlyMap<Permission, DecisionRule>> {
    return this.narrow((await this.evaluate(resource, principal.userId)).held, resource, principal);
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
    const allowed = scopeAllows(principal.scope, resource);
    if (principal.tokenId && (await this.createdByToken(principal.tokenId, resource.id))) {
      // A user's token: what it created is its user's own, fully. An organization's token, minted
      // by a member within the member's role: what it created it may read and write (its CREATE
      // scope needed WRITE in that role), and beyond that only what its scope gives the category —
      // never the organization's full rights (no MANAGE_ACCESS its minter's role lacks).
      if (!(await this.memberships.isOrganization(principal.userId ?? ''))) return held;
      categoryPermissionsOn(resource.type, ['WRITE']).forEach((p) => allowed.add(p));
    }
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
      // A run token's decision also reads its run (rule 1).
      dependsOn: [...dependenciesOf(evaluation, new Set(req.principal.runId ? [req.principal.runId] : []))],
    };
  }

  async checkBatch(req: RpcPayload<typeof PermissionsRpc.checkBatch>): Promise<{ allowed: boolean }[]> {
    return Promise.all(
      req.checks.map(async ({ resourceId, permission }) => {
        const resource = await this.projections.resource(resourceId);
        if (!resource) return { allowed: false };
        const permissions = await this.holds(resource, req.principal);
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
        const created = principal.tokenId ? await this.creationsOf(principal.tokenId, type) : [];
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

  async explain(req: RpcPayload<typeof PermissionsRpc.explain>): Promise<ExplainResult> {
    // A run token reaches what its run may touch, not the reasons behind its starter's access.
    if (req.caller.runId) throw new AppError('insufficient-permissions', 'A run token cannot explain access');
    const resource = await this.projections.resource(req.resourceId);
    if (!resource) throw AppError.notFound('The resource');
    // The caller's own decision, narrowed by its credential as on every other route (rule 1).
    const callerHolds = await this.holds(resource, req.caller);
    if (!callerHolds.has('READ')) throw AppError.notFound('The resource');
    const self = req.userId === req.caller.userId;
    if (!self && !callerHolds.has('MANAGE_ACCESS')) {
      throw new AppError(
        'insufficient-permissions',
        "Explaining another user's access needs MANAGE_ACCESS permission",
      );
    }
    const evaluation = await this.evaluate(resource, req.userId);
    // Explaining oneself through a scoped credential explains what that credential may do.
    const scoped = self && req.caller.scope ? callerHolds : null;
    const rule = (scoped ?? evaluation.held).get(req.permission) ?? 'none';
    const checked = scoped
      ? [
          ...evaluation.trace,
          {
            rule: 'token-scope' as const,
            gives: [...scoped.keys()].sort(),
            detail: `the token's scope narrows this to ${[...scoped.keys()].sort().join(', ') || 'nothing'}`,
          },
        ]
      : evaluation.trace;
    return {
      resourceId: resource.id,
      resourceType: resource.type,
      userId: req.userId,
      permission: req.permission,
      allowed: rule !== 'none',
      rule,
      chain: rule === 'none' ? [] : chainOf(evaluation, req.permission),
      checked,
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
