import { Controller, Get } from '@nestjs/common';
import { ActorsRpc, AppError, IdentityRpc, STORE_SORTS, StoreActorRow } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { AccessDecisions } from '../authorization/access-decisions';
import { Public } from '../authorization/authorize.decorator';
import { paginationQuery, queryBoolean } from '../http/api-query';
import { decideEach } from '../http/ownership-listing';
import { usernamesOf } from '../users/usernames';
import { Returns, ValidQuery } from '../http/validated';
import { listOf, storeItemView } from '../http/views';

const storeQuery = z.object({
  ...paginationQuery,
  search: z.string().max(200).optional(),
  sortBy: z.enum(STORE_SORTS).optional(),
  category: z.string().max(100).optional(),
  username: z.string().max(100).optional(),
  /** Atrium prices nothing: every Actor is FREE, so another model lists none. */
  pricingModel: z
    .enum(['FREE', 'FLAT_PRICE_PER_MONTH', 'PRICE_PER_DATASET_ITEM', 'PAY_PER_EVENT'])
    .optional(),
  /** Every public Actor is runnable by a signed-in user on Atrium: nothing to include or leave out. */
  includeUnrunnableActors: queryBoolean.optional(),
});

/** Apify Store: the public Actors, listed to anyone, anonymous callers included. */
@Controller('v2/store')
export class StoreController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  /** The id of the account a username names, or null (an email is never looked up). */
  private async accountNamed(username: string): Promise<string | null> {
    if (!/^[a-zA-Z0-9._-]{1,100}$/.test(username)) return null;
    try {
      return (await this.rpc.call(IdentityRpc.resolveUser, { ref: username })).id;
    } catch (err) {
      if (err instanceof AppError && err.type === 'record-not-found') return null;
      throw err;
    }
  }

  /**
   * Public Actors in Apify's store-item shape. Each is decided as an anonymous caller's GET of it
   * would be (readable because public), so an Actor made private leaves the list at once and the
   * list is the same for everyone.
   */
  @Get()
  @Public()
  @Returns(listOf(storeItemView))
  async list(@ValidQuery(storeQuery) q: z.output<typeof storeQuery>) {
    const page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: false };
    const ownerId = q.username ? await this.accountNamed(q.username) : undefined;
    const none = { total: 0, ...page, count: 0, items: [] };
    if (ownerId === null || (q.pricingModel && q.pricingModel !== 'FREE')) return { data: none };
    const search = q.search?.trim() || undefined;
    const searchOwnerId = search ? ((await this.accountNamed(search)) ?? undefined) : undefined;
    const found = await this.rpc.call(ActorsRpc.listStore, {
      search,
      searchOwnerId,
      ownerId,
      category: q.category,
      sortBy: q.sortBy ?? 'relevance',
      page,
    });
    const readable = await decideEach(this.access, { userId: null }, 'ACTOR', found.items, null);
    const usernames = await usernamesOf(
      this.rpc,
      readable.map(({ view }) => view.userId),
    );
    const items = readable.map(({ view }) => this.present(view, usernames.get(view.userId) ?? null));
    return { data: { ...found, count: items.length, items } };
  }

  private present({ userId, ...actor }: StoreActorRow, username: string | null) {
    return { ...actor, username, userFullName: null, pictureUrl: null, userPictureUrl: null, url: null };
  }
}
