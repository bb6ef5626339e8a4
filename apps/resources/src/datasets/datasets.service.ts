import { Injectable } from '@nestjs/common';
import { DatasetView, ListPage, ResourcesRpc, RpcPayload } from '@atrium/contracts';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { preparedQuery } from '@atrium/persistence';
import { DataSource, EntityManager } from 'typeorm';
import { CatalogueService, NewResource } from '../catalogue/catalogue.service';
import { listCatalogued } from '../catalogue/catalogued-list.query';
import { ResourceEntity } from '../catalogue/resource.entity';
import { UsageService } from '../usage/usage.service';
import { DatasetItemEntity } from './dataset-item.entity';
import { DatasetEntity } from './dataset.entity';

const INSERT_CHUNK = 2000;

type Row = { resource: ResourceEntity; dataset: DatasetEntity };
type GetRow = Pick<
  ResourceEntity,
  'id' | 'name' | 'ownerId' | 'createdAt' | 'modifiedAt' | 'generalAccess' | 'signingKey'
> & { itemCount: number };

function toView({
  resource,
  dataset,
}: {
  resource: Omit<GetRow, 'itemCount'>;
  dataset: DatasetEntity;
}): DatasetView {
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
  const picked = fields
    ? Object.fromEntries(fields.filter((f) => f in item).map((f) => [f, item[f]]))
    : { ...item };
  for (const key of omit ?? []) delete picked[key];
  return picked;
}

@Injectable()
export class DatasetsService {
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
  ): Promise<Row> {
    const resource = await this.catalogue.load(manager, 'DATASET', id, lock);
    const dataset = await manager.findOneByOrFail(DatasetEntity, { id });
    return { resource, dataset };
  }

  /** Creates a dataset in `manager`'s transaction (also used for a run's default dataset). */
  async createIn(manager: EntityManager, input: Omit<NewResource, 'type'>): Promise<Row> {
    const resource = await this.catalogue.create(manager, { ...input, type: 'DATASET' });
    await manager.insert(DatasetEntity, { id: resource.id, itemCount: 0 });
    return this.load(resource.id, manager);
  }

  async create(
    req: RpcPayload<typeof ResourcesRpc.createDataset>,
  ): Promise<{ dataset: DatasetView; created: boolean }> {
    const { row, created } = await this.catalogue.getOrCreate(
      { type: 'DATASET', ownerId: req.ownerId, name: req.name },
      (manager) => this.createIn(manager, { ownerId: req.ownerId, name: req.name, createdBy: req.createdBy }),
      (id) => this.load(id),
    );
    return { dataset: toView(row), created };
  }

  /**
   * The read path of every `GET /v2/datasets/:id`: the catalogue row and the dataset row in one
   * round trip (a prepared statement), without entity hydration. Not found is answered as
   * `load` answers it.
   */
  async get(id: string): Promise<DatasetView> {
    const [row] = await preparedQuery<GetRow>(this.dataSource, 'resources.get-dataset', this.getStatement(), [
      id,
    ]);
    if (!row) return toView(await this.load(id));
    return toView({ resource: row, dataset: { id: row.id, itemCount: row.itemCount } });
  }

  private getSql: string | undefined;
  private getStatement(): string {
    if (this.getSql) return this.getSql;
    const resource = this.dataSource.getMetadata(ResourceEntity);
    const dataset = this.dataSource.getMetadata(DatasetEntity);
    const column = (metadata: typeof resource, property: string) => {
      const found = metadata.findColumnWithPropertyName(property);
      if (!found) throw new Error(`No column ${metadata.name}.${property}`);
      return `"${found.databaseName}"`;
    };
    const r = (property: keyof ResourceEntity) => `r.${column(resource, property)} AS "${property}"`;
    return (this.getSql = `
      SELECT ${(['id', 'name', 'ownerId', 'createdAt', 'modifiedAt', 'generalAccess', 'signingKey'] as const)
        .map(r)
        .join(', ')}, d.${column(dataset, 'itemCount')} AS "itemCount"
      FROM ${resource.tablePath} r
      JOIN ${dataset.tablePath} d ON d.${column(dataset, 'id')} = r.${column(resource, 'id')}
      WHERE r.${column(resource, 'id')} = $1 AND r.${column(resource, 'type')} = 'DATASET'`);
  }

  async update(req: RpcPayload<typeof ResourcesRpc.updateDataset>): Promise<DatasetView> {
    const row = await this.dataSource.transaction(async (manager) => {
      const current = await this.load(req.id, manager, true);
      await this.catalogue.update(manager, current.resource, req.changes);
      return current;
    });
    this.outbox.kick();
    return toView(row);
  }

  async delete(id: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const { resource } = await this.load(id, manager, true);
      await manager.delete(DatasetItemEntity, { datasetId: id });
      await manager.delete(DatasetEntity, { id });
      await this.catalogue.remove(manager, resource);
    });
    this.outbox.kick();
    return { ok: true };
  }

  async list(req: RpcPayload<typeof ResourcesRpc.listDatasets>): Promise<ListPage<DatasetView>> {
    const { total, rows } = await listCatalogued(this.dataSource, 'DATASET', DatasetEntity, req);
    const items = rows.map(({ resource, state }) => toView({ resource, dataset: state }));
    return { total, ...req.page, count: items.length, items };
  }

  /** Appends items; their JSON bytes count against the owner's storage (`causedBy`: default the owner). */
  async pushItems(
    id: string,
    items: Record<string, unknown>[],
    causedBy?: string,
  ): Promise<{ itemCount: number }> {
    const bytes = items.reduce((sum, item) => sum + Buffer.byteLength(JSON.stringify(item)), 0);
    return this.dataSource.transaction(async (manager) => {
      const { resource, dataset } = await this.load(id, manager, true);
      await this.usage.storageChanged(manager, id, bytes, causedBy);
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

  async listItems(
    req: RpcPayload<typeof ResourcesRpc.listItems>,
  ): Promise<ListPage<Record<string, unknown>>> {
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
