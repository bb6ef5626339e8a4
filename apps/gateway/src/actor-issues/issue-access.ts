import { createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { AppError, idSchema, IssuesRpc, IssueView, ResourcesRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { Principal, UserPrincipal } from '../auth/principal';

/** The issue an issue route names, loaded by the authorization guard (see `IssueAccess.actorOf`). */
export const CurrentIssue = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): IssueView =>
    ctx.switchToHttp().getRequest<{ issue: IssueView }>().issue,
);

/** A signed-in user acting for themselves: not anonymous, not a run token. */
export function signedInUser(principal: Principal): UserPrincipal {
  if (principal.kind !== 'user') throw new AppError('token-not-valid', 'Authentication is required');
  if (principal.credential === 'run-token')
    throw new AppError('insufficient-permissions', 'A run token cannot open or change issues');
  return principal;
}

/**
 * Issues are not catalogue resources: their access follows their Actor's (ACTOR_ISSUE READ =
 * ACTOR READ). Their routes are authorized on the Actor of the issue they name
 * (`@Authorize('ACTOR', 'READ', 'issueId', { through: 'issue' })`): a caller who cannot read it
 * gets 404 for the issue, as for one that does not exist.
 */
@Injectable()
export class IssueAccess {
  constructor(private readonly rpc: RpcClient) {}

  /** The Actor of the issue route parameter `param` names, for the guard; the issue is kept on the request. */
  async actorOf(
    request: { params: Record<string, string>; issue?: IssueView },
    param: string,
  ): Promise<string> {
    const issueId = request.params[param];
    if (!idSchema.safeParse(issueId).success) throw AppError.notFound('The issue');
    request.issue = await this.rpc.call(IssuesRpc.get, { id: issueId });
    return request.issue.actId;
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
