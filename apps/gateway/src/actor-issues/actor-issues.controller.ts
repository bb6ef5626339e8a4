import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import {
  AppError,
  commentBody,
  ID_PATTERN,
  createIssueBody,
  ISSUE_LIST_STATUSES,
  IssuesRpc,
  IssueView,
  PermissionsRpc,
  ResourcesRpc,
  updateIssueBody,
} from '@atrium/contracts';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { issueCommentView, issueView, listOf, subscriptionView } from '../http/views';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentPrincipal, Principal, principalRef, UserPrincipal } from '../auth/principal';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { ChangesAccess, ChangesNoAccess } from '../authorization/access-changes';
import { paginationQuery } from '../http/api-query';
import { CurrentIssue, IssueAccess, signedInUser } from './issue-access';
import { runIdFromUrl } from './run-reference';

const listQuery = z.object({ ...paginationQuery, status: z.enum(ISSUE_LIST_STATUSES).optional() });
const commentsQuery = z.object(paginationQuery);

function page(q: { offset?: number; limit?: number; desc?: boolean }, newestFirst: boolean) {
  return { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: q.desc ?? newestFirst };
}

/**
 * Actor issues (API.md, "Actor issues"). Reading an issue needs READ on its Actor (the guard
 * decides, `through: 'issue'`); opening one, commenting or subscribing a signed-in user who can
 * read the Actor; its status, the Actor's owner or WRITE on the Actor (the author may close
 * their own); a comment's text, its author.
 */
@Controller('v2')
export class ActorIssuesController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: IssueAccess,
  ) {}

  // apify-client addresses Actors as /v2/actors; API.md as /v2/acts: both are served.
  @Get(['acts/:actorId/issues', 'actors/:actorId/issues'])
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(listOf(issueView))
  async list(
    @CurrentResource() actor: AuthorizedResource,
    @CurrentPrincipal() principal: Principal,
    @ValidQuery(listQuery) q: z.output<typeof listQuery>,
  ) {
    const [issues, ownerId] = await Promise.all([
      this.rpc.call(IssuesRpc.list, { actorId: actor.id, status: q.status ?? 'ALL', page: page(q, true) }),
      this.access.ownerOf(actor.id),
    ]);
    const items = issues.items.map((issue) => this.access.present(issue, principal, ownerId));
    return { data: { ...issues, items } };
  }

  /**
   * With `runUrl` or `runId`, the reporter must be able to read the run and it must be a run of
   * this Actor; otherwise 404 and nothing is created. The run is shared with the Actor's owner
   * only when the reporter may share it — owns it or holds MANAGE_ACCESS on it, as the decision
   * (with the credential's scope) says; a run the reporter can only read is attached unshared.
   */
  @Post(['acts/:actorId/issues', 'actors/:actorId/issues'])
  // A shared run: the permissions service grants its READ to the Actor's owner before IssuesRpc.create answers.
  @ChangesAccess('grant')
  @Authorize('ACTOR', 'READ', 'actorId')
  @HttpCode(201)
  @Returns(issueView)
  async create(
    @CurrentResource() actor: AuthorizedResource,
    @CurrentPrincipal() principal: Principal,
    @ValidBody(createIssueBody, { required: true }) input: z.output<typeof createIssueBody>,
  ) {
    const user = signedInUser(principal);
    const runId =
      input.runUrl !== undefined
        ? runIdFromUrl(input.runUrl)
        : input.runId !== undefined
          ? input.runId
          : null;
    const mayShareRun = runId
      ? await this.requireRunOfActor(user, runId, actor.id, input.runUrl ? 'runUrl' : 'runId')
      : false;
    const actorOwnerId = await this.access.ownerOf(actor.id);
    const issue = await this.rpc.call(IssuesRpc.create, {
      actorId: actor.id,
      actorOwnerId,
      authorId: user.userId,
      title: input.title,
      description: input.description,
      runId,
      shareRun: mayShareRun,
    });
    return { data: this.access.present(issue, principal, actorOwnerId) };
  }

  /** Whether the reporter may share the run (its owner holds MANAGE_ACCESS too). */
  private async requireRunOfActor(
    user: UserPrincipal,
    runId: string,
    actorId: string,
    field: string,
  ): Promise<boolean> {
    const notFound = AppError.notFound(`The run "${runId}" (body.${field})`);
    const run = await this.rpc.call(PermissionsRpc.check, {
      principal: principalRef(user),
      resourceType: 'ACTOR_RUN',
      resourceRef: runId,
      permission: 'READ',
    });
    if (!run.allowed) throw notFound;
    const facts = await this.rpc.call(ResourcesRpc.getResourceFacts, { id: runId });
    if (facts?.type !== 'ACTOR_RUN' || facts.actorId !== actorId) {
      throw AppError.notFound(`The run "${runId}" (body.${field}) is not a run of this Actor; it`);
    }
    return run.permissions.includes('MANAGE_ACCESS');
  }

  @Get('actor-issues/:issueId')
  @Authorize('ACTOR', 'READ', 'issueId', { through: 'issue' })
  @Returns(issueView)
  async get(@CurrentPrincipal() principal: Principal, @CurrentIssue() issue: IssueView) {
    return { data: this.access.present(issue, principal, await this.access.ownerOf(issue.actId)) };
  }

  @Patch('actor-issues/:issueId')
  @ChangesNoAccess()
  @Authorize('ACTOR', 'READ', 'issueId', { through: 'issue' })
  @Returns(issueView)
  async updateStatus(
    @CurrentPrincipal() principal: Principal,
    @CurrentResource() actor: AuthorizedResource,
    @CurrentIssue() issue: IssueView,
    @ValidBody(updateIssueBody, { required: true }) body: z.output<typeof updateIssueBody>,
  ) {
    const user = signedInUser(principal);
    const actorOwnerId = await this.access.ownerOf(actor.id);
    const { status } = body;
    // WRITE as the credential holds it: the owner has it, a token scoped to READ does not (the
    // attack pass reopened issues with one when owning the Actor sufficed).
    const mayChange =
      actor.permissions.includes('WRITE') || (user.userId === issue.userId && status === 'CLOSED');
    if (!mayChange) {
      throw new AppError(
        'insufficient-permissions',
        "Only the Actor's owner or a user with WRITE permission on the Actor may change the status; the author may close the issue",
      );
    }
    const updated = await this.rpc.call(IssuesRpc.updateStatus, {
      id: issue.id,
      status,
      changedBy: user.userId,
    });
    return { data: this.access.present(updated, principal, actorOwnerId) };
  }

  @Get('actor-issues/:issueId/comments')
  @Authorize('ACTOR', 'READ', 'issueId', { through: 'issue' })
  @Returns(listOf(issueCommentView))
  async listComments(
    @CurrentIssue() issue: IssueView,
    @ValidQuery(commentsQuery) q: z.output<typeof commentsQuery>,
  ) {
    return { data: await this.rpc.call(IssuesRpc.listComments, { issueId: issue.id, page: page(q, false) }) };
  }

  @Post('actor-issues/:issueId/comments')
  @ChangesNoAccess()
  @Authorize('ACTOR', 'READ', 'issueId', { through: 'issue' })
  @HttpCode(201)
  @Returns(issueCommentView)
  async addComment(
    @CurrentPrincipal() principal: Principal,
    @CurrentIssue() issue: IssueView,
    @ValidBody(commentBody, { required: true }) body: z.output<typeof commentBody>,
  ) {
    const user = signedInUser(principal);
    const { text } = body;
    return {
      data: await this.rpc.call(IssuesRpc.addComment, { issueId: issue.id, authorId: user.userId, text }),
    };
  }

  @Patch('actor-issues/:issueId/comments/:commentId')
  @ChangesNoAccess()
  @Authorize('ACTOR', 'READ', 'issueId', { through: 'issue' })
  @Returns(issueCommentView)
  async editComment(
    @CurrentPrincipal() principal: Principal,
    @CurrentIssue() issue: IssueView,
    @Param('commentId') commentId: string,
    @ValidBody(commentBody, { required: true }) body: z.output<typeof commentBody>,
  ) {
    const user = signedInUser(principal);
    const { text } = body;
    if (!ID_PATTERN.test(commentId)) throw AppError.notFound('The comment');
    return {
      data: await this.rpc.call(IssuesRpc.editComment, {
        issueId: issue.id,
        commentId,
        editorId: user.userId,
        text,
      }),
    };
  }

  /** Whether the caller is subscribed (so a page can offer the right one of subscribe and unsubscribe). */
  @Get('actor-issues/:issueId/subscription')
  @Authorize('ACTOR', 'READ', 'issueId', { through: 'issue' })
  @Returns(subscriptionView)
  async subscription(@CurrentPrincipal() principal: Principal, @CurrentIssue() issue: IssueView) {
    const user = signedInUser(principal);
    return {
      data: await this.rpc.call(IssuesRpc.getSubscription, { issueId: issue.id, userId: user.userId }),
    };
  }

  @Put('actor-issues/:issueId/subscription')
  @ChangesNoAccess()
  @Authorize('ACTOR', 'READ', 'issueId', { through: 'issue' })
  @Returns(subscriptionView)
  async subscribe(@CurrentPrincipal() principal: Principal, @CurrentIssue() issue: IssueView) {
    return { data: await this.setSubscription(principal, issue, true) };
  }

  @Delete('actor-issues/:issueId/subscription')
  @ChangesNoAccess()
  @Authorize('ACTOR', 'READ', 'issueId', { through: 'issue' })
  @Returns(subscriptionView)
  async unsubscribe(@CurrentPrincipal() principal: Principal, @CurrentIssue() issue: IssueView) {
    return { data: await this.setSubscription(principal, issue, false) };
  }

  private async setSubscription(principal: Principal, issue: IssueView, subscribed: boolean) {
    const user = signedInUser(principal);
    return this.rpc.call(IssuesRpc.setSubscription, { issueId: issue.id, userId: user.userId, subscribed });
  }
}
