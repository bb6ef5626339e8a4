import { Controller, Delete, Get, HttpCode, Inject, Post, Put, Req, Type } from '@nestjs/common';
import {
  CatalogueRoutes,
  ListPage,
  Permission,
  ResourceTypeDescriptor,
  resourceNameSchema,
  StorageRoutes,
  StorageTypeDescriptor,
  StorageViewBase,
} from '@atrium/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { RpcClient } from '@atrium/messaging';
import { z, ZodTypeAny } from 'zod';
import { AccessChanger, CurrentPrincipal, CurrentUser, Principal, UserPrincipal } from '../auth/principal';
import { requireManageAccessToChange, permissionsOnCreated } from '../authorization/access-check';
import { ChangesAccess } from '../authorization/access-changes';
import { AccessDecisions } from '../authorization/access-decisions';
import {
  Authorize,
  AuthorizedResource,
  CurrentAccount,
  CurrentResource,
  InAccount,
  Lister,
  ListingCaller,
} from '../authorization/authorize.decorator';
import { storageRoutes } from '../runs/run-references';
import { queryBoolean } from './api-query';
import { listByOwnership, ownershipListQuery } from './ownership-listing';
import { CachedViews } from './cached-views';
import { presentStorage } from './storage-presenter';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from './validated';
import { listOf } from './views';

const listQuery = z.object({ ...ownershipListQuery, unnamed: queryBoolean.optional() });
const createQuery = z.object({ name: resourceNameSchema.optional() });

/**
 * A storage type's catalogue routes with Apify API v2's paths and shapes, made from its
 * descriptor: list and get-or-create by name on the collection, get, update and delete on one
 * (by its id, and as a run's default — `storageRoutes`). The type's own controller serves the rest.
 */
export function storageCatalogueController<V extends StorageViewBase>(
  storage: StorageTypeDescriptor & { rpc: StorageRoutes<V> },
  view: ZodTypeAny,
): Type<unknown> {
  const { type, collection, idParam, updateBody, rpc: routes } = storage;

  @Controller('v2')
  class StorageCatalogueController {
    constructor(
      readonly rpc: RpcClient,
      readonly access: AccessDecisions,
      readonly views: CachedViews,
      @Inject(GATEWAY_CONFIG) readonly config: GatewayConfig,
    ) {}

    /** Writers see the signing key and a signed public URL of the content; others do not. */
    present(view: V, permissions: readonly string[]): Record<string, unknown> {
      return presentStorage(view, permissions, {
        baseUrl: this.config.PUBLIC_BASE_URL,
        collection,
        publicContent: storage.publicContent,
      });
    }

    @Get(collection)
    @InAccount(type, 'READ')
    @Returns(listOf(view))
    async list(@Lister() lister: ListingCaller, @ValidQuery(listQuery) q: z.output<typeof listQuery>) {
      const unnamed = q.unnamed ?? false;
      // The ids shared with the caller and the storages by id (`sharedWithMe`, a scoped token's)
      // are read as their GETs are (CachedViews).
      const page = await listByOwnership(this.views, this.access, lister, type, { ...q, unnamed }, (req) =>
        req.ids
          ? this.views.call(routes.list, { ...req, unnamed })
          : this.rpc.call(routes.list, { ...req, unnamed }),
      );
      return { data: { ...page, items: page.items.map((s) => this.present(s.view, s.permissions)) } };
    }

    @Post(collection)
    @InAccount(type, 'CREATE')
    @HttpCode(201)
    @Returns(view)
    async create(
      @CurrentUser() user: UserPrincipal,
      @CurrentAccount() account: string,
      @ValidQuery(createQuery) { name }: z.output<typeof createQuery>,
      @Req() request: { user: UserPrincipal; existingResource?: boolean },
    ) {
      const answer = await this.rpc.call(routes.create, { ownerId: account, name, createdBy: user.userId });
      const view = answer[storage.createdAs] as V;
      const permissions = await permissionsOnCreated(this.access, request, type, {
        id: view.id,
        created: answer.created,
      });
      return { data: this.present(view, permissions) };
    }

    @Get(storageRoutes(type))
    @Authorize(type, 'READ', idParam)
    @Returns(view)
    async get(@CurrentResource() resource: AuthorizedResource) {
      const view = await this.views.call(routes.get, { id: resource.id });
      return { data: this.present(view, resource.permissions) };
    }

    @Put(storageRoutes(type))
    @ChangesAccess('resource')
    @Authorize(type, 'WRITE', idParam)
    @Returns(view)
    async update(
      @CurrentResource() resource: AuthorizedResource,
      @ValidBody(updateBody) changes: { generalAccess?: unknown },
      @AccessChanger() changedBy: string | undefined,
    ) {
      await requireManageAccessToChange(this.rpc, changedBy, resource, changes);
      const view = await this.rpc.call(routes.update, { id: resource.id, changes, changedBy });
      return { data: this.present(view, resource.permissions) };
    }

    @Delete(storageRoutes(type))
    @ChangesAccess('resource')
    @Authorize(type, 'WRITE', idParam)
    @HttpCode(204)
    @ReturnsNothing()
    async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
      await this.rpc.call(routes.delete, { id: resource.id });
    }
  }
  return named(StorageCatalogueController, collection);
}

/** A factory's controller, named after its collection (`ActorTasksCatalogueController`). */
function named<T extends Type<unknown>>(controller: T, collection: string): T {
  const name = collection.replace(/(^|-)(\w)/g, (_m, _dash, c: string) => c.toUpperCase());
  Object.defineProperty(controller, 'name', { value: `${name}CatalogueController` });
  return controller;
}

/** What a factory-made controller offers a type's hooks. */
export interface CatalogueCalls {
  rpc: RpcClient;
  access: AccessDecisions;
}

/** What is special about a type's catalogue routes; each part but `create` has a default. */
export interface CatalogueControllerSpec<V> {
  /** The schema of a view as the routes answer it (the OpenAPI document's). */
  view: ZodTypeAny;
  /**
   * POST: its body, where the guard finds another owner and group (`InAccount` options), and the
   * create request made of the body, checked (the factory adds `ownerId` and `createdBy`).
   */
  create: {
    body: ZodTypeAny;
    inAccount?: { ownerFrom?: string; groupFrom?: string };
    request: (calls: CatalogueCalls, user: UserPrincipal, body: never) => Promise<object>;
  };
  /** The API tag of its routes (default: the collection). */
  tag?: string;
  /** What PUT and DELETE need (default: WRITE). */
  permissions?: { update?: Permission; delete?: Permission };
  /** The views as the routes answer them (default: as they are). */
  present?: (rpc: RpcClient, views: V[]) => Promise<unknown[]>;
  /** How the collection is listed (default: the account's own, or those shared with the caller — `listByOwnership`). */
  list?: {
    query: ZodTypeAny;
    page: (calls: CatalogueCalls, lister: ListingCaller, q: never) => Promise<ListPage<V>>;
  };
  /**
   * The PUT body (default: the descriptor's `updateBody`) and the changes it makes, checked
   * (default: the body as it is).
   */
  update?: {
    body?: ZodTypeAny;
    changes: (
      calls: CatalogueCalls,
      principal: Principal,
      resource: AuthorizedResource,
      body: never,
    ) => Promise<unknown>;
  };
}

const ownershipQuery = z.object(ownershipListQuery);

/**
 * A catalogued type's list, create, get, update and delete with Apify API v2's paths and shapes
 * (`/v2/<collection>`, `/v2/<collection>/:<idParam>`), made from its descriptor and what is special
 * about it (`spec`). The type's own controller serves the rest.
 */
export function catalogueController<V extends { id: string }>(
  descriptor: ResourceTypeDescriptor & { rpc: CatalogueRoutes<V> },
  spec: CatalogueControllerSpec<V>,
): Type<unknown> {
  const { type, collection, idParam, rpc: routes } = descriptor;
  const one = `${collection}/:${idParam}`;
  const present = spec.present ?? ((_rpc: RpcClient, views: V[]) => Promise.resolve(views));
  const listQuery = spec.list?.query ?? ownershipQuery;
  const updateBody = spec.update?.body ?? descriptor.updateBody;

  @Controller('v2')
  class CatalogueController implements CatalogueCalls {
    constructor(
      readonly rpc: RpcClient,
      readonly access: AccessDecisions,
    ) {}

    async presentOne(view: V): Promise<unknown> {
      return (await present(this.rpc, [view]))[0];
    }

    @Get(collection)
    @InAccount(type, 'READ')
    @Returns(listOf(spec.view))
    async list(@Lister() lister: ListingCaller, @ValidQuery(listQuery) q: z.output<typeof ownershipQuery>) {
      const page = spec.list
        ? await spec.list.page(this, lister, q as never)
        : await listByOwnership(this.rpc, this.access, lister, type, q, (req) =>
            this.rpc.call(routes.list as CatalogueRoutes<V & { userId: string }>['list'], req),
          ).then((listed) => ({ ...listed, items: listed.items.map((l) => l.view) }));
      return { data: { ...page, items: await present(this.rpc, page.items) } };
    }

    @Post(collection)
    @InAccount(type, 'CREATE', spec.create.inAccount)
    @HttpCode(201)
    @Returns(spec.view)
    async create(
      @CurrentUser() user: UserPrincipal,
      @CurrentAccount() account: string,
      @ValidBody(spec.create.body) body: unknown,
    ) {
      const request = await spec.create.request(this, user, body as never);
      const view = (await this.rpc.call(routes.create, {
        ownerId: account,
        createdBy: user.userId,
        ...request,
      })) as V;
      return { data: await this.presentOne(view) };
    }

    @Get(one)
    @Authorize(type, 'READ', idParam)
    @Returns(spec.view)
    async get(@CurrentResource() resource: AuthorizedResource) {
      return { data: await this.presentOne(await this.rpc.call(routes.get, { id: resource.id })) };
    }

    @Put(one)
    @ChangesAccess('resource')
    @Authorize(type, spec.permissions?.update ?? 'WRITE', idParam)
    @Returns(spec.view)
    async update(
      @CurrentPrincipal() principal: Principal,
      @CurrentResource() resource: AuthorizedResource,
      @ValidBody(updateBody) body: unknown,
    ) {
      const changes = spec.update
        ? await spec.update.changes(this, principal, resource, body as never)
        : body;
      const view = await this.rpc.call(routes.update, { id: resource.id, changes });
      return { data: await this.presentOne(view) };
    }

    @Delete(one)
    @ChangesAccess('resource')
    @Authorize(type, spec.permissions?.delete ?? 'WRITE', idParam)
    @HttpCode(204)
    @ReturnsNothing()
    async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
      await this.rpc.call(routes.delete, { id: resource.id });
    }
  }
  return named(CatalogueController, collection);
}
