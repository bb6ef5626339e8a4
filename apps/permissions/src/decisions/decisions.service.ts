import { Injectable } from '@nestjs/common';
import {
  AccountFacts,
  AppError,
  CheckResult,
  DecisionRule,
  ExplainResult,
  Permission,
  PermissionsRpc,
  ResourceFacts,
  RpcPayload,
} from '@atrium/contracts';
import { AuditLogService } from '../audit/audit-log.service';
import { GrantInForce, GrantsService } from '../grants/grants.service';
import { DecisionFactsQuery } from './decision-facts.query';
import { ProjectionsService } from '../projections/projections.service';
import { decide, Evaluation } from './decide';

const ID_PATTERN = /^[A-Za-z0-9]{17}$/;
/** Storage → run → Actor/task: related resources never nest deeper. */
const MAX_DEPTH = 2;

@Injectable()
export class DecisionsService {
  constructor(
    private readonly projections: ProjectionsService,
    private readonly grants: GrantsService,
    private readonly audit: AuditLogService,
    private readonly decisionFacts: DecisionFactsQuery,
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
    known: { owner?: AccountFacts; grant?: GrantInForce } = {},
  ): Promise<Evaluation> {
    const related = async (id: string | null): Promise<Evaluation | null> => {
      if (!id || depth >= MAX_DEPTH) return null;
      const facts = await this.projections.resource(id);
      return facts ? this.evaluate(facts, userId, false, depth + 1) : null;
    };
    const isOwner = userId !== null && userId === resource.ownerId;
    const [owner, grant, actor, task, run] = await Promise.all([
      isOwner ? null : (known.owner ?? this.projections.account(resource.ownerId)),
      userId && !isOwner ? (known.grant ?? this.grants.activePermissions(resource.id, userId)) : null,
      isOwner
        ? null
        : related(resource.type === 'ACTOR_RUN' || resource.type === 'ACTOR_BUILD' ? resource.actorId : null),
      isOwner ? null : related(resource.type === 'ACTOR_RUN' ? resource.taskId : null),
      isOwner ? null : related(resource.runId),
    ]);
    const { permissions: held, trace } = decide({
      userId,
      resource,
      owner,
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

  async check(req: RpcPayload<typeof PermissionsRpc.check>): Promise<CheckResult> {
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
      ? await this.decisionFacts.load(req.resourceRef, userId)
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
    const permissions = req.principal.runId
      ? await this.narrowToRun(evaluation.held, resource, req.principal.runId)
      : evaluation.held;
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
        const permissions = req.principal.runId
          ? await this.narrowToRun(held, resource, req.principal.runId)
          : held;
        return { allowed: permissions.has('READ') && permissions.has(permission) };
      }),
    );
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
