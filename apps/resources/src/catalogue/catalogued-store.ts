import {
  AppError,
  CreatedStorage,
  ListPage,
  RpcPayload,
  StorageRoutes,
  StorageTypeDescriptor,
  StorageViewBase,
} from '@atrium/contracts';
import { RpcHandler, ServiceOutboxRelay } from '@atrium/messaging';
import { Controller, Inject, Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { DataSource, EntityManager, FindOptionsWhere, ObjectLiteral, ObjectType } from 'typeorm';
import { CatalogueService, CataloguedRow, NewResource, ResourceChanges } from './catalogue.service';
import { CataloguedListRequest, listCatalogued } from './catalogued-list.query';
import { ResourceEntity } from './resource.entity';

/** A storage's view: what every storage shows of its catalogue row around the type's `fields`. */
export function storageView<F extends object>(
  resource: Pick<ResourceEntity, 'id' | 'name' | 'ownerId' | 'createdAt' | 'generalAccess' | 'signingKey'>,
  modifiedAt: Date,
  fields: F,
): StorageViewBase & F {
  return {
    id: resource.id,
    name: resource.name,
    userId: resource.ownerId,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt: modifiedAt.toISOString(),
    accessedAt: modifiedAt.toISOString(),
    ...fields,
    generalAccess: resource.generalAccess,
    urlSigningSecretKey: resource.signingKey,
  };
}

/** What the generic store needs of a type besides its descriptor. */
export interface CataloguedTypeSpec<S extends ObjectLiteral, V> {
  descriptor: StorageTypeDescriptor;
  /** The type's own row, keyed by the catalogue id; a new one takes its columns' defaults. */
  state: ObjectType<S>;
  /** The view the routes answer with. */
  toView: (row: CataloguedRow<S>) => V;
  /** The content rows a delete removes with it: `entity` rows whose `by` column names the resource. */
  content: { entity: ObjectType<ObjectLiteral>; by: string };
}

/**
 * A catalogued type's create, get, update, delete and list: the catalogue row and the type's own
 * row together, each change with its catalogue event. A type's service extends it with what is
 * special about the type (items, records, requests).
 */
export class CataloguedStore<S extends ObjectLiteral, V> {
  constructor(
    protected readonly dataSource: DataSource,
    protected readonly catalogue: CatalogueService,
    protected readonly outbox: ServiceOutboxRelay,
    private readonly spec: CataloguedTypeSpec<S, V>,
  ) {}

  protected readonly toView = (row: CataloguedRow<S>): V => this.spec.toView(row);

  load(
    id: string,
    manager: EntityManager = this.dataSource.manager,
    lock = false,
  ): Promise<CataloguedRow<S>> {
    return this.catalogue.loadRow(manager, this.spec.descriptor.type, this.spec.state, id, lock);
  }

  /** The type's own row, locked so that its content and totals change one writer at a time. */
  protected async lockState(manager: EntityManager, id: string): Promise<S> {
    const state = await manager.findOne(this.spec.state, {
      where: { id } as unknown as FindOptionsWhere<S>,
      lock: { mode: 'pessimistic_write' },
    });
    if (!state) throw AppError.notFound(`The ${this.spec.descriptor.type.toLowerCase().replace(/_/g, ' ')}`);
    return state;
  }

  /** Creates one in `manager`'s transaction (also used for a run's default storages). */
  async createIn(manager: EntityManager, input: Omit<NewResource, 'type'>): Promise<CataloguedRow<S>> {
    const resource = await this.catalogue.create(manager, { ...input, type: this.spec.descriptor.type });
    await manager.insert(this.spec.state, { id: resource.id } as never);
    return this.load(resource.id, manager);
  }

  /** Creates one; with a name, answers the owner's existing one of that name instead. */
  async create(req: Omit<NewResource, 'type'> & { name?: string }): Promise<CreatedStorage> {
    const { row, created } = await this.catalogue.getOrCreate(
      { type: this.spec.descriptor.type, ownerId: req.ownerId, name: req.name },
      (manager) => this.createIn(manager, req),
      (id) => this.load(id),
    );
    return { [this.spec.descriptor.createdAs]: this.toView(row), created };
  }

  async get(id: string): Promise<V> {
    return this.toView(await this.load(id));
  }

  async update(req: { id: string; changes: ResourceChanges; changedBy?: string }): Promise<V> {
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      await this.catalogue.update(manager, current.resource, req.changes, req.changedBy);
      return current;
    });
    this.outbox.kick();
    return this.toView(row);
  }

  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.transaction((manager) => this.deleteIn(manager, id));
    this.outbox.kick();
    return { ok: true };
  }

  /** Deletes it and its content inside the caller's transaction (a run's delete takes its default storages). */
  async deleteIn(manager: EntityManager, id: string): Promise<void> {
    const { resource } = await this.load(id, manager, true);
    await this.lockState(manager, id);
    await manager.delete(this.spec.content.entity, { [this.spec.content.by]: id });
    await manager.delete(this.spec.state, { id } as unknown as FindOptionsWhere<S>);
    await this.catalogue.remove(manager, resource);
  }

  async list(req: CataloguedListRequest): Promise<ListPage<V>> {
    const { total, rows } = await listCatalogued(
      this.dataSource,
      this.spec.descriptor.type,
      this.spec.state,
      req,
    );
    const items = rows.map(this.toView);
    return { total, ...req.page, count: items.length, items };
  }
}

/** What the catalogue routes ask of a store. */
type CatalogueRoutesStore<V> = Pick<
  CataloguedStore<ObjectLiteral, V>,
  'create' | 'get' | 'update' | 'delete' | 'list'
>;

/** The RPC handlers of a storage type's catalogue routes, answered by its store. */
export function catalogueMessageController<V>(
  routes: StorageRoutes<V>,
  store: Type<CatalogueRoutesStore<V>>,
): Type<unknown> {
  @Controller()
  class CatalogueMessageController {
    constructor(@Inject(store) readonly store: CatalogueRoutesStore<V>) {}

    @RpcHandler(routes.create)
    create(@Payload() req: RpcPayload<typeof routes.create>) {
      return this.store.create(req);
    }

    @RpcHandler(routes.get)
    get(@Payload() { id }: RpcPayload<typeof routes.get>) {
      return this.store.get(id);
    }

    @RpcHandler(routes.update)
    update(@Payload() req: { id: string; changes: ResourceChanges; changedBy?: string }) {
      return this.store.update(req);
    }

    @RpcHandler(routes.delete)
    delete(@Payload() { id }: RpcPayload<typeof routes.delete>) {
      return this.store.delete(id);
    }

    @RpcHandler(routes.list)
    list(@Payload() req: CataloguedListRequest) {
      return this.store.list(req);
    }
  }
  Object.defineProperty(CatalogueMessageController, 'name', { value: `${store.name}CatalogueController` });
  return CatalogueMessageController;
}
