import { Injectable } from '@nestjs/common';
import {
  AppError,
  idSchema,
  IssuesRpc,
  IssueView,
  Permission,
  PermissionsRpc,
  ResourcesRpc,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { Principal, principalRef, UserPrincipal } from '../auth/principal';

/** An issue with what the caller holds on its Actor, which decides what they may do to the issue. */
export interface IssueInContext {
  issue: IssueView;
  actorOwnerId: string;
  /** The caller's permissions on the issue's Actor (READ at least). */
  actorPermissions: Permission[];
}

/** A signed-in user acting for themselves: not anonymous, not a run token. */
export function signedInUser(principal: Principal): UserPrincipal {
  if (principal.kind !== 'user') throw new AppError('token-not-valid', 'Authentication is required');
  if (principal.credential === 'run-token')
    throw new AppError('insufficient-permissions', 'A run token cannot open or change issues');
  return principal;
}

/**
 * Issues are not catalogue resources: their access follows their Actor's (ACTOR_ISSUE READ =
 * ACTOR READ). A caller who cannot read the Actor gets 404 for the issue, as for one that does
 * not exist.
 */
@Injectable()
export class IssueAccess {
  constructor(private readonly rpc: RpcClient) {}

  async load(principal: Principal, issueId: string): Promise<IssueInContext> {
    if (!idSchema.safeParse(issueId).success) throw AppError.notFound('The issue');
    const issue = await this.rpc.call(IssuesRpc.get, { id: issueId });
    const [actor, facts] = await Promise.all([
      this.rpc.call(PermissionsRpc.check, {
        principal: principalRef(principal),
        resourceType: 'ACTOR',
        resourceRef: issue.actId,
        permission: 'WRITE',
      }),
      this.ownerOf(issue.actId),
    ]);
    if (!actor.canRead || !actor.resourceId) throw AppError.notFound('The issue');
    return { issue, actorOwnerId: facts, actorPermissions: actor.permissions };
  }

  async ownerOf(actorId: string): Promise<string> {
    const facts = await this.rpc.call(ResourcesRpc.getResourceFacts, { id: actorId });
    if (!facts) throw AppError.notFound('The issue');
    return facts.ownerId;
  }

  /** The attached run is shown to the Actor's owner and the issue's author only. */
  present(
    issue: IssueView,
    principal: Principal,
    actorOwnerId: string,
  ): Omit<IssueView, 'runId'> & Partial<Pick<IssueView, 'runId'>> {
    const { runId, ...visible } = issue;
    const userId = principal.kind === 'user' ? principal.userId : null;
    return userId === actorOwnerId || userId === issue.userId ? { ...visible, runId } : visible;
  }
}
