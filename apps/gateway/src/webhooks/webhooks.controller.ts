import { Controller, Delete, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import {
  AppError,
  createWebhookBody,
  updateWebhookBody,
  WebhookDispatchView,
  WebhooksRpc,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import {
  AnyCredential,
  Authorize,
  AuthorizedResource,
  CurrentResource,
} from '../authorization/authorize.decorator';
import { pageOf, PageQuery, pageQuery, pathId } from '../http/small-lists';
import { ChangesNoAccess } from '../authorization/access-changes';
import { DecidedWebhook, presentWebhook, WebhookAccess } from './webhook-access';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { listOf, webhookDispatchView, webhookView } from '../http/views';

/** The most webhooks (and dispatches) one list looks through. */
const MAX_LISTED = 1000;
const everything = { offset: 0, limit: MAX_LISTED, desc: false };

/**
 * Webhooks with Apify API v2's paths and shapes: `/v2/webhooks[/:id[/test|/dispatches]]`,
 * `/v2/webhook-dispatches[/:id]`, and an Actor's or task's webhooks. Who may see or edit one is
 * WebhookAccess's decision; the resources service keeps them and fires them.
 */
@Controller('v2')
export class WebhooksController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly webhooks: WebhookAccess,
  ) {}

  /** Every webhook of the caller's account it may see (a narrowed credential: those on what it may read). */
  private async visible(
    user: UserPrincipal,
    condition?: { actorId?: string; actorTaskId?: string },
  ): Promise<DecidedWebhook[]> {
    const page = await this.rpc.call(WebhooksRpc.list, { ownerId: user.userId, condition, page: everything });
    return this.webhooks.decide(user, page.items);
  }

  private async listPresented(
    user: UserPrincipal,
    query: PageQuery,
    condition?: { actorId?: string; actorTaskId?: string },
  ) {
    const page = pageOf(await this.visible(user, condition), query);
    return { data: { ...page, items: page.items.map(presentWebhook) } };
  }

  @Get('webhooks')
  @AnyCredential()
  @Returns(listOf(webhookView))
  list(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    return this.listPresented(user, query);
  }

  /**
   * Creates a webhook owned by the caller's account; its condition's Actor, task or run needs WRITE
   * (a run token may add one to its own run, as the Apify SDK's `Actor.addWebhook` does). An
   * `idempotencyKey` used before answers that webhook (200) instead of creating another.
   */
  @Post('webhooks')
  @ChangesNoAccess()
  @AnyCredential()
  @Returns(webhookView)
  async create(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(createWebhookBody) webhook: z.output<typeof createWebhookBody>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.webhooks.requireWritableTarget(user, webhook.condition);
    const { created, ...view } = await this.rpc.call(WebhooksRpc.create, {
      ownerId: user.userId,
      createdBy: user.userId,
      webhook,
    });
    reply.status(created ? 201 : 200);
    // A new one's target was just found writable; one found by its key is decided as a GET would be.
    if (created) return { data: presentWebhook({ webhook: view, canWrite: true }) };
    const [decided] = await this.webhooks.decide(user, [view]);
    if (!decided)
      throw new AppError('conflict', 'Field "body.idempotencyKey" is already used by another webhook');
    return { data: presentWebhook(decided) };
  }

  @Get('webhooks/:webhookId')
  @AnyCredential()
  @Returns(webhookView)
  async get(@CurrentUser() user: UserPrincipal, @Param('webhookId') id: string) {
    return { data: presentWebhook(await this.webhooks.load(user, pathId(id, 'The webhook'))) };
  }

  /** Needs WRITE on the webhook's target, and on the new one when the condition changes. */
  @Put('webhooks/:webhookId')
  @ChangesNoAccess()
  @AnyCredential()
  @Returns(webhookView)
  async update(
    @CurrentUser() user: UserPrincipal,
    @Param('webhookId') id: string,
    @ValidBody(updateWebhookBody) changes: z.output<typeof updateWebhookBody>,
  ) {
    const { webhook } = await this.webhooks.loadForWrite(user, pathId(id, 'The webhook'));
    if (changes.condition) await this.webhooks.requireWritableTarget(user, changes.condition);
    const updated = await this.rpc.call(WebhooksRpc.update, { id: webhook.id, changes });
    return { data: presentWebhook({ webhook: updated, canWrite: true }) };
  }

  /** Its owner deletes it with a full credential even after losing access to its target (it no longer fires then). */
  @Delete('webhooks/:webhookId')
  @ChangesNoAccess()
  @AnyCredential()
  @HttpCode(204)
  @ReturnsNothing()
  async delete(@CurrentUser() user: UserPrincipal, @Param('webhookId') id: string): Promise<void> {
    const fullCredential = user.credential === 'jwt' || (user.credential === 'api-token' && !user.scope);
    const { webhook } = fullCredential
      ? await this.webhooks.load(user, pathId(id, 'The webhook'))
      : await this.webhooks.loadForWrite(user, pathId(id, 'The webhook'));
    await this.rpc.call(WebhooksRpc.delete, { id: webhook.id });
  }

  /** Dispatches a TEST event at once; answers the dispatch (ACTIVE until its call is made). */
  @Post('webhooks/:webhookId/test')
  @ChangesNoAccess()
  @AnyCredential()
  @HttpCode(201)
  @Returns(webhookDispatchView)
  async test(@CurrentUser() user: UserPrincipal, @Param('webhookId') id: string) {
    const { webhook } = await this.webhooks.loadForWrite(user, pathId(id, 'The webhook'));
    return { data: await this.rpc.call(WebhooksRpc.test, { id: webhook.id }) };
  }

  @Get('webhooks/:webhookId/dispatches')
  @AnyCredential()
  @Returns(listOf(webhookDispatchView))
  async listWebhookDispatches(
    @CurrentUser() user: UserPrincipal,
    @Param('webhookId') id: string,
    @ValidQuery(pageQuery) query: PageQuery,
  ) {
    const { webhook } = await this.webhooks.load(user, pathId(id, 'The webhook'));
    return this.dispatchesOf([webhook.id], query);
  }

  /** The dispatches of every webhook the caller may see. */
  @Get('webhook-dispatches')
  @AnyCredential()
  @Returns(listOf(webhookDispatchView))
  async listDispatches(@CurrentUser() user: UserPrincipal, @ValidQuery(pageQuery) query: PageQuery) {
    const ids = (await this.visible(user)).map((d) => d.webhook.id);
    return this.dispatchesOf(ids, query);
  }

  @Get('webhook-dispatches/:dispatchId')
  @AnyCredential()
  @Returns(webhookDispatchView)
  async getDispatch(@CurrentUser() user: UserPrincipal, @Param('dispatchId') id: string) {
    let dispatch: WebhookDispatchView;
    try {
      dispatch = await this.rpc.call(WebhooksRpc.getDispatch, { id: pathId(id, 'The webhook dispatch') });
      // One answer for an unknown dispatch and one of a webhook the caller may not see.
      await this.webhooks.load(user, dispatch.webhookId);
    } catch (err) {
      if (err instanceof AppError && err.type === 'record-not-found')
        throw AppError.notFound('The webhook dispatch');
      throw err;
    }
    return { data: dispatch };
  }

  @Get(['acts/:actorId/webhooks', 'actors/:actorId/webhooks'])
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(listOf(webhookView))
  listActorWebhooks(
    @CurrentUser() user: UserPrincipal,
    @CurrentResource() actor: AuthorizedResource,
    @ValidQuery(pageQuery) query: PageQuery,
  ) {
    return this.listPresented(user, query, { actorId: actor.id });
  }

  @Get('actor-tasks/:actorTaskId/webhooks')
  @Authorize('ACTOR_TASK', 'READ', 'actorTaskId')
  @Returns(listOf(webhookView))
  listTaskWebhooks(
    @CurrentUser() user: UserPrincipal,
    @CurrentResource() task: AuthorizedResource,
    @ValidQuery(pageQuery) query: PageQuery,
  ) {
    return this.listPresented(user, query, { actorTaskId: task.id });
  }

  /** Dispatches of webhooks already decided visible: paged by the resources service. */
  private async dispatchesOf(webhookIds: string[], q: PageQuery) {
    const page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: q.desc ?? false };
    return { data: await this.rpc.call(WebhooksRpc.listDispatches, { webhookIds, page }) };
  }
}
