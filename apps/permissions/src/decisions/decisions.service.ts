import { Injectable } from '@nestjs/common';
import {
  CheckResult,
  DecisionRule,
  Permission,
  PermissionsRpc,
  ResourceFacts,
  RpcPayload,
} from '@atrium/contracts';
import { GrantsService } from '../grants/grants.service';
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
  ): Promise<Evaluation> {
    const related = async (id: string | null): Promise<Evaluation | null> => {
      if (!id || depth >= MAX_DEPTH) return null;
      const facts = await this.projections.resource(id);
      return facts ? this.evaluate(facts, userId, false, depth + 1) : null;
    };
    const isOwner = userId !== null && userId === resource.ownerId;
    const [owner, grant, actor, task, run] = await Promise.all([
      isOwner ? null : this.projections.account(resource.ownerId),
      userId && !isOwner ? this.grants.activePermissions(resource.id, userId) : null,
      isOwner
        ? null
        : related(resource.type === 'ACTOR_RUN' || resource.type === 'ACTOR_BUILD' ? resource.actorId : null),
      isOwner ? null : related(resource.type === 'ACTOR_RUN' ? resource.taskId : null),
      isOwner ? null : related(resource.runId),
    ]);
    const held = decide({
      userId,
      resource,
      owner,
      grantedPermissions: grant?.permissions ?? [],
      addressedByName,
      actor,
      task,
      run,
    }).permissions;
    const times = [grant?.validUntil, actor?.validUntil, task?.validUntil, run?.validUntil].filter(
      (t): t is Date => !!t,
    );
    const validUntil = times.length ? new Date(Math.min(...times.map((t) => t.getTime()))) : null;
    return { facts: resource, held, owner, grantId: grant?.grantId ?? null, actor, task, run, validUntil };
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
    const resource = await this.resolve(req.resourceType, req.resourceRef, userId);
    if (!resource) return denied;
    const evaluation = await this.evaluate(resource, userId, !ID_PATTERN.test(req.resourceRef));
    const permissions = req.principal.runId
      ? await this.narrowToRun(evaluation.held, resource, req.principal.runId)
      : evaluation.held;
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
}
