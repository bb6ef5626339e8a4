import { Injectable } from '@nestjs/common';
import {
  AppError,
  KeyListView,
  KEY_VALUE_STORES,
  KeyValueStoresRpc,
  KeyValueStoreView,
  RecordView,
  RpcPayload,
} from '@atrium/contracts';
import { isStorageListingPayload } from '@atrium/auth';
import { EntityManager } from 'typeorm';
import { CatalogueService, CataloguedRow } from '../catalogue/catalogue.service';
import { CataloguedStore, storageView } from '../catalogue/catalogued-store';
import { KeyValueRecordEntity } from './key-value-record.entity';
import { KeyValueStoreEntity } from './key-value-store.entity';

const later = (a: Date, b: Date) => (a > b ? a : b);

function toView({ resource, state: store }: CataloguedRow<KeyValueStoreEntity>): KeyValueStoreView {
  return storageView(resource, later(resource.modifiedAt, store.contentModifiedAt), {
    actId: resource.actorId,
    actRunId: resource.runId,
    stats: { recordCount: store.recordCount, storageBytes: store.storageBytes },
  });
}

/** `LIKE` pattern matching values that start with `prefix` literally. */
const startsWithPattern = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Key-value stores: records of any content type under keys. */
@Injectable()
export class KeyValueStoresService extends CataloguedStore<KeyValueStoreEntity, KeyValueStoreView> {
  constructor(catalogue: CatalogueService) {
    super(catalogue.dataSource, catalogue, catalogue.outbox, STORE);
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
    if (isStorageListingPayload(key, storeId)) {
      // Apify's signatures: a record's is the HMAC of its key, the key listing's the HMAC of
      // `<version>.<expiry>.<store id>` (apify-client makes both). A record under such a key
      // would have the listing's signature: a link to it would list every key, and back.
      throw new AppError(
        'invalid-input',
        `Field "key" is invalid: "${key}" has the form of this store's signed key listing (<version>.<expiry>.<store id>); choose another key`,
      );
    }
    const store = await this.lockState(manager, storeId);
    const previous = await manager.findOne(KeyValueRecordEntity, {
      where: { storeId, key },
      select: { storeId: true, key: true, size: true },
    });
    const size = value.length;
    await this.catalogue.usage.storageChanged(manager, storeId, size - (previous?.size ?? 0), causedBy);
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
      const store = await this.lockState(manager, id);
      const record = await manager.findOne(KeyValueRecordEntity, {
        where: { storeId: id, key },
        select: { storeId: true, key: true, size: true },
      });
      if (!record) throw AppError.notFound(`The record "${key}"`);
      await this.catalogue.usage.storageChanged(manager, id, -record.size, causedBy);
      await manager.delete(KeyValueRecordEntity, { storeId: id, key });
      store.recordCount -= 1;
      store.storageBytes -= record.size;
      store.contentModifiedAt = new Date();
      await manager.save(store);
    });
    return { ok: true };
  }
}

/** What the catalogued store keeps of a store: its row, its view, and its records (deleted with it). */
const RECORDS = { entity: KeyValueRecordEntity, by: 'storeId' };
const STORE = { descriptor: KEY_VALUE_STORES, state: KeyValueStoreEntity, toView, content: RECORDS };
