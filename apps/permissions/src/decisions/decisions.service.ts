import { Injectable } from '@nestjs/common';
import {
  AccountFacts,
  AppError,
  categoryPermissionsOn,
  MembershipFacts,
  PrincipalRef,
  scopeAllows,
  CheckResult,
  DecisionRule,
  ExplainResult,
  ID_PATTERN,
  Permission,
  PERMISSIONS_BY_TYPE,
  PermissionsRpc,
  ResourceFacts,
  ResourceType,
  RpcPayload,
} from '@atrium/contracts';
import { AuditLogService } from '../audit/audit-log.service';
import { GrantInForce, GrantsService } from '../grants/grants.service';
import { DecisionFactsQuery, DecisionFactsRow } from './decision-facts.query';
import { checkFacts, FactsMirror } from './facts-mirror';
import { ProjectionsService } from '../projections/projections.service';
import { accountDependenciesOf, decide, dependenciesOf, Evaluation } from './decide';
import { MembershipsService } from '../memberships/memberships.service';
import { TokenCreationsService } from '../token-creations/token-creations.service';
import { EntityManager } from 'typeorm';

/** Storage → run → Actor/task: related resources never nest deeper. */
const MAX_DEPTH = 2;

type CheckRequest = RpcPayload<typeof PermissionsRpc.checkMany>['checks'][number];
/** A check's facts, read already; from the copy in memory, with its age (FactsMirror). */
interface KnownFacts {
  facts: DecisionFactsRow | 'deleted' | null;
  age?: { factsAgeMs: number; factsVersion: string };
}

@Injectable()
export class DecisionsService {
  constructor(
    private readonly projections: ProjectionsService,
    private readonly grants: GrantsService,
    private readonly audit: AuditLogService,
    private readonly decisionFacts: DecisionFactsQuery,
    private readonly memberships: MembershipsService,
    private readonly tokenCreations: TokenCreationsService,
    private readonly mirror: FactsMirror,
  ) {}

  /**
   * Resolves an id or `username~name` (`~name` = the caller's own account) to a resource of a
   * type (by id, of any type when none is named).
   */
  private async resolve(
    type: ResourceType | undefined,
    ref: string,
    userId: string | null,
  ): Promise<ResourceFacts | null> {
    if (ID_PATTERN.test(ref)) {
      const resource = await this.projections.resource(ref);
      return !type || resource?.type === type ? resource : null;
    }
    const [username, name] = ref.split('~');
    const ownerId = username ? (await this.projections.accountByUsername(username))?.id : userId;
    return ownerId && type ? this.projections.resourceByName(type, ownerId, name) : null;
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
      actor,
      task,
      run,
      validUntil,
      groupChain,
    };
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
    if (principal.tokenId && (await this.tokenCreations.createdByToken(principal.tokenId, resource.id))) {
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
   * Several checks, each answered as `check` answers it; the facts of those by id that the copy
   * in memory does not answer are read in one round trip. A probe's denials are not audited.
   */
  async checkMany({
    checks,
    probe = false,
  }: RpcPayload<typeof PermissionsRpc.checkMany>): Promise<CheckResult[]> {
    const known = new Map<CheckRequest, KnownFacts>();
    const toRead: CheckRequest[] = [];
    for (const c of checks.filter((c) => ID_PATTERN.test(c.resourceRef))) {
      const remembered = this.remembered(c);
      if (remembered) known.set(c, remembered);
      else toRead.push(c);
    }
    const read = toRead.length
      ? await this.decisionFacts.loadMany(
          toRead.map((c) => ({ resourceId: c.resourceRef, userId: c.principal.userId })),
        )
      : [];
    toRead.forEach((c, i) => known.set(c, { facts: read[i] }));
    checkFacts.inc({ source: 'memory' }, known.size - toRead.length);
    checkFacts.inc({ source: 'database' }, toRead.length);
    return Promise.all(checks.map((c) => this.check(c, { known: known.get(c), probe })));
  }

  /** A check's facts by id: from the copy in memory if it takes their age and the copy can answer, else read. */
  private async factsOf(req: CheckRequest): Promise<KnownFacts> {
    const remembered = this.remembered(req);
    checkFacts.inc({ source: remembered ? 'memory' : 'database' });
    return remembered ?? { facts: await this.decisionFacts.load(req.resourceRef, req.principal.userId) };
  }

  /** A check's facts from the copy in memory, if it takes their age and the copy can answer. */
  private remembered(req: CheckRequest): KnownFacts | undefined {
    const found = req.acceptFactsAge ? this.mirror.lookup(req.resourceRef, req.principal.userId) : undefined;
    return found && { facts: found.facts, age: { factsAgeMs: found.ageMs, factsVersion: found.version } };
  }

  /**
   * A check without a type (`checkMany`) checks whatever type its id names. `known`: the facts of
   * a check by id, already read; `probe`: do not audit a denial.
   */
  async check(
    req: CheckRequest,
    { known, probe = false }: { known?: KnownFacts; probe?: boolean } = {},
  ): Promise<CheckResult> {
    const { userId } = req.principal;
    const denied: CheckResult = {
      resourceId: null,
      resourceType: req.resourceType ?? null,
      allowed: false,
      canRead: false,
      permissions: [],
      rule: 'none',
      validUntil: null,
    };
    // By id (the common case): resource, owner account and grant from memory, or in one query.
    const byId = ID_PATTERN.test(req.resourceRef);
    const { facts, age } = !byId ? { facts: null, age: undefined } : (known ?? (await this.factsOf(req)));
    if (facts === 'deleted') return denied;
    const resource = facts ? facts.resource : await this.resolve(req.resourceType, req.resourceRef, userId);
    if (!resource || (req.resourceType && resource.type !== req.resourceType)) return denied;
    const evaluation = await this.evaluate(resource, userId, !byId, 0, facts ?? {});
    const permissions = await this.narrow(evaluation.held, resource, req.principal);
    if (!permissions.has(req.permission) && !probe) {
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
      dependsOnAccounts: [...accountDependenciesOf(evaluation)],
      ...age,
    };
  }

  async explain(req: RpcPayload<typeof PermissionsRpc.explain>): Promise<ExplainResult> {
    // A run token reaches what its run may touch, not the reasons behind its starter's access.
    if (req.caller.runId) throw new AppError('insufficient-permissions', 'A run token cannot explain access');
    const resource = await this.projections.resource(req.resourceId);
    if (!resource) throw AppError.notFound('The resource');
    // The caller's own decision, narrowed by its credential as on every other route (rule 1).
    const callerHolds = await this.holds(resource, req.caller);
    if (!callerHolds.has('READ')) throw AppError.notFound('The resource');
    // Asked only of a caller who can see the resource: the type says nothing it could not read.
    if (!PERMISSIONS_BY_TYPE[resource.type].includes(req.permission))
      throw new AppError(
        'invalid-input',
        `Field "query.permission" is invalid: ${req.permission} does not apply to ${resource.type} (${PERMISSIONS_BY_TYPE[resource.type].join(', ')})`,
      );
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
