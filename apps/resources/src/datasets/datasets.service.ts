import { Injectable } from '@nestjs/common';
import { AppError, DatasetView, Events, ListPage, ResourcesRpc, RpcPayload } from '@atrium/contracts';
import { newId, randomBase62 } from '@atrium/auth';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, In } from 'typeorm';
import { toResourceFacts } from '../catalogue/catalogue.service';
import { ResourceEntity } from '../catalogue/resource.entity';
import { DatasetItemEntity } from './dataset-item.entity';
import { DatasetEntity } from './dataset.entity';

const UNIQUE_VIOLATION = '23505';
const INSERT_CHUNK = 2000;

type Row = { resource: ResourceEntity; dataset: DatasetEntity };

function toView({ resource, dataset }: Row): DatasetView {
  return {
    id: resource.id,
    name: resource.name,
    userId: resource.ownerId,
    createdAt: resource.createdAt.toISOString(),
    modifiedAt: resource.modifiedAt.toISOString(),
    accessedAt: resource.modifiedAt.toISOString(),
    itemCount: dataset.itemCount,
    cleanItemCount: dataset.itemCount,
    generalAccess: resource.generalAccess,
    urlSigningSecretKey: resource.signingKey,
  };
}

/** Keeps only `fields` (if given) and drops `omit` from each item, as Apify does. */
function project(item: Record<string, unknown>, fields?: string[], omit?: string[]): Record<string, unknown> {
  const picked = fields ? Object.fromEntries(fields.filter((f) => f in item).map((f) => [f, item[f]])) : { ...item };
  for (const key of omit ?? []) delete picked[key];
  return picked;
}

@Injectable()
export class DatasetsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  private async load(id: string, manager: EntityManager = this.dataSource.manager, lock = false): Promise<Row> {
    const resource = await manager.findOne(ResourceEntity, {
      where: { id, type: 'DATASET' },
      lock: lock ? { mode: 'pessimistic_write' } : undefined,
    });
    const dataset = resource && (await manager.findOneBy(DatasetEntity, { id }));
    if (!resource || !dataset) throw AppError.notFound('The dataset');
    return { resource, dataset };
  }

  async create(req: RpcPayload<typeof ResourcesRpc.createDataset>): Promise<{ dataset: DatasetView; created: boolean }> {
    if (req.name) {
      const existing = await this.findByName(req.ownerId, req.name);
      if (existing) return { dataset: toView(existing), created: false };
    }
    try {
      const row = await this.dataSource.transaction(async (manager) => {
        const id = newId();
        await manager.insert(ResourceEntity, {
          id,
          type: 'DATASET',
          ownerId: req.ownerId,
          name: req.name ?? null,
          generalAccess: 'FOLLOW_USER_SETTING',
          signingKey: randomBase62(32),
          version: 1,
          createdBy: req.createdBy,
        });
        await manager.insert(DatasetEntity, { id, itemCount: 0 });
        const created = await this.load(id, manager);
        await addToOutbox(manager, Events.resourceCreated, toResourceFacts(created.resource));
        return created;
      });
      this.outbox.kick();
      return { dataset: toView(row), created: true };
    } catch (err) {
      // Another request created the same name first: get-or-create returns that one.
      if ((err as { code?: string }).code === UNIQUE_VIOLATION && req.name) {
        const existing = await this.findByName(req.ownerId, req.name);
        if (existing) return { dataset: toView(existing), created: false };
      }
      throw err;
    }
  }

  private async findByName(ownerId: string, name: string): Promise<Row | null> {
    const resource = await this.dataSource.manager.findOneBy(ResourceEntity, { ownerId, type: 'DATASET', name });
    return resource ? this.load(resource.id) : null;
  }

  async get(id: string): Promise<DatasetView> {
    return toView(await this.load(id));
  }

  async update(req: RpcPayload<typeof ResourcesRpc.updateDataset>): Promise<DatasetView> {
    try {
      const row = await this.dataSource.transaction(async (manager) => {
        const current = await this.load(req.id, manager, true);
        const { name, generalAccess } = req.changes;
        if (name !== undefined) current.resource.name = name;
        if (generalAccess !== undefined) current.resource.generalAccess = generalAccess;
        current.resource.version += 1;
        await manager.save(current.resource);
        const updated = await this.load(req.id, manager);
        await addToOutbox(manager, Events.resourceUpdated, toResourceFacts(updated.resource));
        return updated;
      });
      this.outbox.kick();
      return toView(row);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new AppError('conflict', `A dataset named "${req.changes.name}" already exists in this account`);
      }
      throw err;
    }
  }

  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const { resource } = await this.load(id, manager, true);
      await manager.delete(DatasetItemEntity, { datasetId: id });
      await manager.delete(DatasetEntity, { id });
      await manager.delete(ResourceEntity, { id });
      await addToOutbox(manager, Events.resourceDeleted, {
        id,
        type: resource.type,
        ownerId: resource.ownerId,
        version: resource.version + 1,
      });
    });
    this.outbox.kick();
    return { ok: true };
  }

  async list(req: RpcPayload<typeof ResourcesRpc.listDatasets>): Promise<ListPage<DatasetView>> {
    const { offset, limit, desc } = req.page;
    const query = this.dataSource
      .getRepository(ResourceEntity)
      .createQueryBuilder('r')
      .innerJoinAndMapOne('r.dataset', DatasetEntity, 'd', 'd.id = r.id')
      .where('r.type = :type', { type: 'DATASET' });
    if (req.ownerId !== undefined) {
      query.andWhere('r.owner_id = :ownerId', { ownerId: req.ownerId });
      if (!req.unnamed) query.andWhere('r.name IS NOT NULL');
      query.orderBy('r.createdAt', desc ? 'DESC' : 'ASC').addOrderBy('r.id', 'ASC').skip(offset).take(limit);
    } else {
      query.andWhere({ id: In(req.ids ?? []) });
    }
    const [resources, total] = await query.getManyAndCount();
    const rows = resources.map((resource) => ({ resource, dataset: (resource as ResourceEntity & { dataset: DatasetEntity }).dataset }));
    if (req.ids) {
      // Keep the caller's order (the permissions service pages the ids).
      const position = new Map(req.ids.map((id, i) => [id, i]));
      rows.sort((a, b) => (position.get(a.resource.id) ?? 0) - (position.get(b.resource.id) ?? 0));
    }
    return { total, offset, limit, desc, count: rows.length, items: rows.map(toView) };
  }

  async pushItems(id: string, items: Record<string, unknown>[]): Promise<{ itemCount: number }> {
    return this.dataSource.transaction(async (manager) => {
      const { resource, dataset } = await this.load(id, manager, true);
      for (let start = 0; start < items.length; start += INSERT_CHUNK) {
        const chunk = items.slice(start, start + INSERT_CHUNK);
        await manager.insert(
          DatasetItemEntity,
          chunk.map((data, i) => ({ datasetId: id, position: dataset.itemCount + start + i, data })),
        );
      }
      dataset.itemCount += items.length;
      await manager.save(dataset);
      resource.modifiedAt = new Date();
      await manager.save(resource);
      return { itemCount: dataset.itemCount };
    });
  }

  async listItems(req: RpcPayload<typeof ResourcesRpc.listItems>): Promise<ListPage<Record<string, unknown>>> {
    const { dataset } = await this.load(req.id);
    const { offset, limit, desc } = req.page;
    const query = this.dataSource
      .getRepository(DatasetItemEntity)
      .createQueryBuilder('i')
      .where('i.dataset_id = :id', { id: req.id });
    if (req.skipEmpty) query.andWhere(`i.data <> '{}'::jsonb`);
    const rows = await query
      .orderBy('i.position', desc ? 'DESC' : 'ASC')
      .offset(offset)
      .limit(limit)
      .getMany();
    const items = rows.map((r) => project(r.data as Record<string, unknown>, req.fields, req.omit));
    return { total: dataset.itemCount, offset, limit, desc, count: items.length, items };
  }
}
