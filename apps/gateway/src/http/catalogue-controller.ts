import { Controller, Delete, Get, HttpCode, Inject, Post, Put, Req, Type } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { resourceNameSchema, StorageRoutes, StorageTypeDescriptor, StorageViewBase } from '@atrium/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { AccessChanger, CurrentUser, UserPrincipal } from '../auth/principal';
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
import { presentStorage } from './storage-presenter';
import { ValidBody, ValidQuery } from './validated';

const listQuery = z.object({ ...ownershipListQuery, unnamed: queryBoolean.optional() });
const createQuery = z.object({ name: resourceNameSchema.optional() });

/**
 * A storage type's catalogue routes with Apify API v2's paths and shapes, made from its
 * descriptor: list and get-or-create by name on the collection, get, update and delete on one
 * (by its id, and as a run's default — `storageRoutes`). The type's own controller serves the rest.
 */
export function storageCatalogueController<V extends StorageViewBase>(
  storage: StorageTypeDescriptor & { rpc: StorageRoutes<V> },
): Type<unknown> {
  const { type, collection, idParam, updateBody, rpc: routes } = storage;

  @ApiTags(collection)
  @Controller('v2')
  class StorageCatalogueController {
    constructor(
      readonly rpc: RpcClient,
      readonly access: AccessDecisions,
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
    async list(@Lister() lister: ListingCaller, @ValidQuery(listQuery) q: z.output<typeof listQuery>) {
      const page = await listByOwnership(this.rpc, this.access, lister, type, q, (req) =>
        this.rpc.call(routes.list, { ...req, unnamed: q.unnamed ?? false }),
      );
      return { data: { ...page, items: page.items.map((s) => this.present(s.view, s.permissions)) } };
    }

    @Post(collection)
    @InAccount(type, 'CREATE')
    @HttpCode(201)
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
    async get(@CurrentResource() resource: AuthorizedResource) {
      const view = await this.rpc.call(routes.get, { id: resource.id });
      return { data: this.present(view, resource.permissions) };
    }

    @Put(storageRoutes(type))
    @ChangesAccess('resource')
    @Authorize(type, 'WRITE', idParam)
    async update(
      @CurrentResource() resource: AuthorizedResource,
      @ValidBody(updateBody) changes: { generalAccess?: unknown },
      @AccessChanger() changedBy: string | undefined,
    ) {
      requireManageAccessToChange(resource, changes);
      const view = await this.rpc.call(routes.update, { id: resource.id, changes, changedBy });
      return { data: this.present(view, resource.permissions) };
    }

    @Delete(storageRoutes(type))
    @ChangesAccess('resource')
    @Authorize(type, 'WRITE', idParam)
    @HttpCode(204)
    async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
      await this.rpc.call(routes.delete, { id: resource.id });
    }
  }
  const name = collection.replace(/(^|-)(\w)/g, (_m, _dash, c: string) => c.toUpperCase());
  Object.defineProperty(StorageCatalogueController, 'name', { value: `${name}CatalogueController` });
  return StorageCatalogueController;
}
