import {
  AppError,
  CatalogueRoutes,
  CreatedStorage,
  ListPage,
  ResourceTypeDescriptor,
  RpcPayload,
  StorageTypeDescriptor,
  StorageViewBase,
} from '@atrium/contracts';
import { isUniqueViolation } from '@atrium/persistence';
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
  descriptor: ResourceTypeDescriptor;
  /** The type's own row, keyed by the catalogue id; a new one takes its columns' defaults. */
  state: ObjectType<S>;
  /** The view the routes answer with. */
  toView: (row: CataloguedRow<S>) => V;
  /** The content rows a delete removes with it: `entity` rows whose `by` column names the resource. */
  content?: { entity: ObjectType<ObjectLiteral>; by: string };
  /** What a conflict on a taken name calls one (default: the type in words, `environment group`). */
  noun?: string;
  /**
   * For a type whose update changes its own row: the fields an update's changes set on it (from
   * all but `name`, which stays on the catalogue row). Without it, an update changes only the
   * catalogue row.
   */
  ownFields?: (changes: never, state: S) => Partial<S>;
}

/**
 * A catalogued type's get, update, delete and list, and the creation of one: the catalogue row and
 * the type's own row together, each change with its catalogue event. A type's service extends it
 * with what is special about the type (its create, the changes an update makes, actions).
 */
export class CataloguedTypeStore<S extends ObjectLiteral, V> {
  constructor(
    protected readonly dataSource: DataSource,
    protected readonly catalogue: CatalogueService,
    protected readonly outbox: ServiceOutboxRelay,
    protected readonly spec: CataloguedTypeSpec<S, V>,
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

  /** Creates one in `manager`'s transaction, its own row with `state` (also used for a run's default storages). */
  async createIn(
    manager: EntityManager,
    input: Omit<NewResource, 'type'>,
    state: Partial<S> = {},
  ): Promise<CataloguedRow<S>> {
    const resource = await this.catalogue.create(manager, { ...input, type: this.spec.descriptor.type });
    await manager.insert(this.spec.state, { ...state, id: resource.id } as never);
    return this.load(resource.id, manager);
  }

  /** For `.catch` on a create: a taken name is a conflict naming it; any other error stays as it is. */
  protected taken(err: unknown, name: string | null | undefined): never {
    if (!isUniqueViolation(err)) throw err;
    const noun = this.spec.noun ?? this.spec.descriptor.type.toLowerCase().replace(/_/g, ' ');
    const article = /^[aeiou]/.test(noun) ? 'An' : 'A';
    throw new AppError('conflict', `${article} ${noun} named "${name}" already exists in this account`);
  }

  async get(id: string): Promise<V> {
    return this.toView(await this.load(id));
  }

  async update(req: { id: string; changes: ResourceChanges; changedBy?: string }): Promise<V> {
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      await this.change(manager, current, req.changes, req.changedBy);
      return current;
    });
    this.outbox.kick();
    return this.toView(row);
  }

  /**
   * What an update does to the loaded, locked row: changes the catalogue row; or, for a type with
   * `ownFields`, renames it (with its catalogue event) or else marks it modified, and sets each
   * given field of the type's own row.
   */
  protected async change(
    manager: EntityManager,
    row: CataloguedRow<S>,
    changes: ResourceChanges,
    changedBy?: string,
  ): Promise<void> {
    if (!this.spec.ownFields)
      return void (await this.catalogue.update(manager, row.resource, changes, changedBy));
    const { name, ...rest } = changes;
    if (name !== undefined) {
      await this.catalogue.update(manager, row.resource, { name });
    } else {
      row.resource.modifiedAt = new Date();
      await manager.save(row.resource);
    }
    for (const [key, value] of Object.entries(this.spec.ownFields(rest as never, row.state))) {
      if (value !== undefined) Object.assign(row.state, { [key]: value });
    }
    await manager.save(row.state);
  }

  /** Creates one in a transaction of its own (`work`); a taken name is a conflict naming it. */
  protected async created(
    name: string | undefined,
    work: (manager: EntityManager) => Promise<CataloguedRow<S>>,
  ): Promise<V> {
    const row = await this.dataSource.transaction(work).catch((err: unknown) => this.taken(err, name));
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
    if (this.spec.content) {
      await this.lockState(manager, id);
      await manager.delete(this.spec.content.entity, { [this.spec.content.by]: id });
    }
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

/** A storage type's store: its create answers the owner's existing one of a name instead of a new one. */
export class CataloguedStore<S extends ObjectLiteral, V> extends CataloguedTypeStore<S, V> {
  constructor(
    dataSource: DataSource,
    catalogue: CatalogueService,
    outbox: ServiceOutboxRelay,
    private readonly storage: CataloguedTypeSpec<S, V> & { descriptor: StorageTypeDescriptor },
  ) {
    super(dataSource, catalogue, outbox, storage);
  }

  /** Creates one; with a name, answers the owner's existing one of that name instead. */
  async create(req: Omit<NewResource, 'type'> & { name?: string }): Promise<CreatedStorage> {
    const { row, created } = await this.catalogue.getOrCreate(
      { type: this.storage.descriptor.type, ownerId: req.ownerId, name: req.name },
      (manager) => this.createIn(manager, req),
      (id) => this.load(id),
    );
    return { [this.storage.descriptor.createdAs]: this.toView(row), created };
  }
}

/** What the catalogue routes ask of a store (each type's create and update take its own request). */
interface CatalogueRoutesStore<V> {
  create(req: never): Promise<unknown>;
  get(id: string): Promise<V>;
  update(req: never): Promise<V>;
  delete(id: string): Promise<{ ok: true }>;
  list(req: CataloguedListRequest): Promise<ListPage<V>>;
}

/** The RPC handlers of a catalogued type's catalogue routes, answered by its store. */
export function catalogueMessageController<V>(
  routes: CatalogueRoutes<V>,
  store: Type<CatalogueRoutesStore<V>>,
): Type<unknown> {
  @Controller()
  class CatalogueMessageController {
    constructor(@Inject(store) readonly store: CatalogueRoutesStore<V>) {}

    @RpcHandler(routes.create)
    create(@Payload() req: RpcPayload<typeof routes.create>) {
      return this.store.create(req as never);
    }

    @RpcHandler(routes.get)
    get(@Payload() { id }: RpcPayload<typeof routes.get>) {
      return this.store.get(id);
    }

    @RpcHandler(routes.update)
    update(@Payload() req: RpcPayload<typeof routes.update>) {
      return this.store.update(req as never);
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
  const name = `${store.name.replace(/Service$/, '')}CatalogueMessageController`;
  Object.defineProperty(CatalogueMessageController, 'name', { value: name });
  return CatalogueMessageController;
}
