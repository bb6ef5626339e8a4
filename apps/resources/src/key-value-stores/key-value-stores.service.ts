import { Injectable } from '@nestjs/common';
import {
  AppError,
  KeyListView,
  KeyValueStoresRpc,
  KeyValueStoreView,
  ListPage,
  RecordView,
  RpcPayload,
} from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { CatalogueService, NewResource } from '../catalogue/catalogue.service';
import { listCatalogued } from '../catalogue/catalogued-list.query';
import { ResourceEntity } from '../catalogue/resource.entity';
import { UsageService } from '../usage/usage.service';
import { KeyValueRecordEntity } from './key-value-record.entity';
import { KeyValueStoreEntity } from './key-value-store.entity';

export type KeyValueStoreRow = { resource: ResourceEntity; store: KeyValueStoreEntity };

const TYPE = 'KEY_VALUE_STORE';
const later = (a: Date, b: Date) => (a > b ? a : b);

function toView({ resource, store }: KeyValueStoreRow): KeyValueStoreView {
  const modifiedAt = later(resource.modifiedAt, store.contentModifiedAt).toISOString();
  return {
    id: resource.id,
    name: resource.name,
    userId: resource.ownerId,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt,
    accessedAt: modifiedAt,
    actId: resource.actorId,
    actRunId: resource.runId,
    stats: { recordCount: store.recordCount, storageBytes: store.storageBytes },
    generalAccess: resource.generalAccess,
    urlSigningSecretKey: resource.signingKey,
  };
}

/** `LIKE` pattern matching values that start with `prefix` literally. */
const startsWithPattern = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

@Injectable()
export class KeyValueStoresService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly outbox: ServiceOutboxRelay,
    private readonly usage: UsageService,
  ) {}

  private async load(
    id: string,
    manager: EntityManager = this.dataSource.manager,
    lock = false,
  ): Promise<KeyValueStoreRow> {
    const resource = await this.catalogue.load(manager, TYPE, id, lock);
    const store = await manager.findOneByOrFail(KeyValueStoreEntity, { id });
    return { resource, store };
  }

  /** The store's own row, locked so that its content and totals change one writer at a time. */
  private async lockStore(manager: EntityManager, id: string): Promise<KeyValueStoreEntity> {
    const store = await manager.findOne(KeyValueStoreEntity, {
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    if (!store) throw AppError.notFound('The key-value store');
    return store;
  }

  /** Creates a store in `manager`'s transaction (also used for a run's default store). */
  async createIn(manager: EntityManager, input: Omit<NewResource, 'type'>): Promise<KeyValueStoreRow> {
    const resource = await this.catalogue.create(manager, { ...input, type: TYPE });
    await manager.insert(KeyValueStoreEntity, { id: resource.id, recordCount: 0, storageBytes: 0 });
    return this.load(resource.id, manager);
  }

  /**
   * Creates or replaces a record in `manager`'s transaction (also used for a run's INPUT); the size
   * change counts against the owner's storage (`causedBy`: default the owner).
   */
  async setRecordIn(
    manager: EntityManager,
    storeId: string,
    key: string,
    value: Buffer,
    contentType: string,
    causedBy?: string,
  ): Promise<{ key: string; size: number }> {
    const store = await this.lockStore(manager, storeId);
    const previous = await manager.findOne(KeyValueRecordEntity, {
      where: { storeId, key },
      select: { storeId: true, key: true, size: true },
    });
    const size = value.length;
    await this.usage.storageChanged(manager, storeId, size - (previous?.size ?? 0), causedBy);
    if (previous) {
      await manager.update(KeyValueRecordEntity, { storeId, key }, { value, contentType, size });
    } else {
      await manager.insert(KeyValueRecordEntity, { storeId, key, value, contentType, size });
    }
    store.recordCount += previous ? 0 : 1;
    store.storageBytes += size - (previous?.size ?? 0);
    store.contentModifiedAt = new Date();
    await manager.save(store);
    return { key, size };
  }

  async create(
    req: RpcPayload<typeof KeyValueStoresRpc.create>,
  ): Promise<{ store: KeyValueStoreView; created: boolean }> {
    const { row, created } = await this.catalogue.getOrCreate(
      { type: TYPE, ownerId: req.ownerId, name: req.name },
      (manager) => this.createIn(manager, { ownerId: req.ownerId, name: req.name, createdBy: req.createdBy }),
      (id) => this.load(id),
    );
    return { store: toView(row), created };
  }

  async get(id: string): Promise<KeyValueStoreView> {
    return toView(await this.load(id));
  }

  async update(req: RpcPayload<typeof KeyValueStoresRpc.update>): Promise<KeyValueStoreView> {
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      await this.catalogue.update(manager, current.resource, req.changes, req.changedBy);
      return current;
    });
    this.outbox.kick();
    return toView(row);
  }

  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.transaction((manager) => this.deleteIn(manager, id));
    this.outbox.kick();
    return { ok: true };
  }

  /** Deletes the storage and its content inside the caller's transaction (a run's delete takes its default storages). */
  async deleteIn(manager: EntityManager, id: string): Promise<void> {
    const { resource } = await this.load(id, manager, true);
    await this.lockStore(manager, id);
    await manager.delete(KeyValueRecordEntity, { storeId: id });
    await manager.delete(KeyValueStoreEntity, { id });
    await this.catalogue.remove(manager, resource);
  }

  async list(req: RpcPayload<typeof KeyValueStoresRpc.list>): Promise<ListPage<KeyValueStoreView>> {
    const { total, rows } = await listCatalogued(this.dataSource, TYPE, KeyValueStoreEntity, req);
    const items = rows.map(({ resource, state }) => toView({ resource, store: state }));
    return { total, ...req.page, count: items.length, items };
  }

  async listKeys(req: RpcPayload<typeof KeyValueStoresRpc.listKeys>): Promise<KeyListView> {
    await this.load(req.id);
    const query = this.dataSource
      .getRepository(KeyValueRecordEntity)
      .createQueryBuilder('r')
      .select(['r.key', 'r.size'])
      .where('r.store_id = :id', { id: req.id });
    if (req.exclusiveStartKey !== undefined)
      query.andWhere('r.key > :start', { start: req.exclusiveStartKey });
    if (req.prefix !== undefined)
      query.andWhere(`r.key LIKE :prefix ESCAPE '\\'`, { prefix: startsWithPattern(req.prefix) });
    // One more than asked, to tell whether another page follows.
    const found = await query
      .orderBy('r.key', 'ASC')
      .limit(req.limit + 1)
      .getMany();
    const isTruncated = found.length > req.limit;
    const items = found.slice(0, req.limit).map(({ key, size }) => ({ key, size }));
    return {
      items,
      count: items.length,
      limit: req.limit,
      exclusiveStartKey: req.exclusiveStartKey ?? null,
      isTruncated,
      nextExclusiveStartKey: isTruncated ? items[items.length - 1].key : null,
    };
  }

  async getRecord(id: string, key: string): Promise<RecordView> {
    await this.load(id);
    const record = await this.dataSource.manager.findOneBy(KeyValueRecordEntity, { storeId: id, key });
    if (!record) throw AppError.notFound(`The record "${key}"`);
    return {
      key,
      contentType: record.contentType,
      size: record.size,
      value: record.value.toString('base64'),
    };
  }

  async setRecord(
    req: RpcPayload<typeof KeyValueStoresRpc.setRecord>,
  ): Promise<{ key: string; size: number }> {
    return this.dataSource.transaction((manager) =>
      this.setRecordIn(
        manager,
        req.id,
        req.key,
        Buffer.from(req.value, 'base64'),
        req.contentType,
        req.causedBy,
      ),
    );
  }

  async deleteRecord(id: string, key: string, causedBy?: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const store = await this.lockStore(manager, id);
      const record = await manager.findOne(KeyValueRecordEntity, {
        where: { storeId: id, key },
        select: { storeId: true, key: true, size: true },
      });
      if (!record) throw AppError.notFound(`The record "${key}"`);
      await this.usage.storageChanged(manager, id, -record.size, causedBy);
      await manager.delete(KeyValueRecordEntity, { storeId: id, key });
      store.recordCount -= 1;
      store.storageBytes -= record.size;
      store.contentModifiedAt = new Date();
      await manager.save(store);
    });
    return { ok: true };
  }
}
