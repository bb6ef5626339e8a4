import { applyDecorators, Controller, Delete, Get, HttpCode, Param, Patch, Post, Type } from '@nestjs/common';
import {
  APP_CONTENT_BODIES,
  APP_CONTENT_KINDS,
  APP_CONTENT_SCOPES,
  AppContentAdd,
  AppContentKind,
  AppError,
  AppScope,
  AppsRpc,
  idSchema,
  patchInputBody,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { paginationQuery } from '../http/api-query';
import { ChangesNoAccess } from '../authorization/access-changes';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { appContentView, listOf } from '../http/views';

const listQuery = z.object(paginationQuery);

/** A route that exists only where its kind has the scope guarding it (concepts: no delete). */
function routeGuardedBy(
  scope: AppScope | null,
  route: (scope: AppScope) => MethodDecorator[],
): MethodDecorator {
  return scope ? applyDecorators(...route(scope)) : () => undefined;
}

/**
 * `GET, POST /v2/apps/:appId/<kind>` and `GET, DELETE .../:itemId` (`PATCH` for inputs), each
 * operation guarded by its own scope (`Inputs:Get`, `Inputs:Add`, …).
 */
function appContentController(kind: AppContentKind): Type<unknown> {
  const scopes = APP_CONTENT_SCOPES[kind];
  const body = APP_CONTENT_BODIES[kind];

  @Controller(`v2/apps/:appId/${kind}`)
  class AppContentController {
    constructor(readonly rpc: RpcClient) {}

    @Get()
    @Authorize('APP', scopes.get, 'appId')
    @Returns(listOf(appContentView))
    async list(
      @CurrentResource() app: AuthorizedResource,
      @ValidQuery(listQuery) q: z.output<typeof listQuery>,
    ) {
      const page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: q.desc ?? false };
      return { data: await this.rpc.call(AppsRpc.listContents, { appId: app.id, kind, page }) };
    }

    @Post()
    @ChangesNoAccess()
    @Authorize('APP', scopes.add, 'appId')
    @HttpCode(201)
    @Returns(appContentView)
    async add(
      @CurrentResource() app: AuthorizedResource,
      @CurrentUser() user: UserPrincipal,
      @ValidBody(body) input: z.output<typeof body>,
    ) {
      const content = { kind, item: input } as AppContentAdd;
      return {
        data: await this.rpc.call(AppsRpc.addContent, { appId: app.id, createdBy: user.userId, content }),
      };
    }

    @Get(':itemId')
    @Authorize('APP', scopes.get, 'appId')
    @Returns(appContentView)
    async get(@CurrentResource() app: AuthorizedResource, @Param('itemId') itemId: string) {
      return { data: await this.rpc.call(AppsRpc.getContent, { appId: app.id, kind, id: itemRef(itemId) }) };
    }

    @routeGuardedBy(scopes.patch, (scope) => [
      Patch(':itemId'),
      ChangesNoAccess(),
      Authorize('APP', scope, 'appId'),
    ])
    @Returns(appContentView)
    async patch(
      @CurrentResource() app: AuthorizedResource,
      @Param('itemId') itemId: string,
      @ValidBody(patchInputBody) changes: z.output<typeof patchInputBody>,
    ) {
      if (!idSchema.safeParse(itemId).success) throw AppError.notFound('The input');
      return { data: await this.rpc.call(AppsRpc.patchInput, { appId: app.id, id: itemId, changes }) };
    }

    @routeGuardedBy(scopes.delete, (scope) => [
      Delete(':itemId'),
      ChangesNoAccess(),
      Authorize('APP', scope, 'appId'),
      HttpCode(204),
    ])
    @ReturnsNothing()
    async remove(@CurrentResource() app: AuthorizedResource, @Param('itemId') itemId: string) {
      await this.rpc.call(AppsRpc.deleteContent, { appId: app.id, kind, id: itemRef(itemId) });
    }
  }

  const name = `App${kind[0]!.toUpperCase()}${kind.slice(1)}Controller`;
  Object.defineProperty(AppContentController, 'name', { value: name });
  return AppContentController;
}

/** An id that cannot name an item names none: 404, as an unknown one. */
function itemRef(itemId: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(itemId)) throw AppError.notFound('The record');
  return itemId;
}

/** One controller per kind of app content, in the order of `APP_CONTENT_KINDS`. */
export const APP_CONTENT_CONTROLLERS: Type<unknown>[] = APP_CONTENT_KINDS.map(appContentController);
