import { Injectable } from '@nestjs/common';
import {
  AppError,
  DATASETS,
  DatasetFieldStatistics,
  DatasetItemsChunk,
  DatasetItemsTransform,
  DatasetsRpc,
  DatasetStatistics,
  DatasetView,
  ListPage,
  RpcPayload,
} from '@atrium/contracts';
import { preparedQuery } from '@atrium/persistence';
import { CatalogueService } from '../catalogue/catalogue.service';
import { CataloguedListRequest } from '../catalogue/catalogued-list.query';
import { CataloguedStore, storageView } from '../catalogue/catalogued-store';
import { ResourceEntity } from '../catalogue/resource.entity';
import { DatasetItemEntity } from './dataset-item.entity';
import {
  isCleanItem,
  MAX_UNWOUND,
  tableColumns,
  toTableRow,
  transformItem,
  UnwindTooLarge,
} from './dataset-item.transform';
import { DatasetEntity } from './dataset.entity';

const INSERT_CHUNK = 2000;
/**
 * The escapes JSON.stringify writes for what PostgreSQL's text cannot hold (exports and
 * statistics read items as text): NUL, and a surrogate without its pair (a well-formed
 * JSON.stringify escapes only unpaired ones; a pair is written as its character). Not preceded by
 * an escaped backslash: `\\u0000` is a backslash and `u0000`.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(0000|d[89a-f][0-9a-f]{2})/;

/**
 * One export chunk: at most this many stored items, and no more once their stored size passes
 * the budget (always at least one), so a chunk's RPC message and memory stay small whatever the
 * items weigh. Column discovery sends back only names, so it reads bigger chunks.
 */
const CHUNK = { items: { rows: 1000, bytes: 1 << 20 }, columns: { rows: 5000, bytes: 16 << 20 } };
/** Statistics cover at most this many distinct top-level fields (Apify's table column limit). */
const MAX_STATISTICS_FIELDS = 2000;

type GetRow = Pick<
  ResourceEntity,
  'id' | 'name' | 'ownerId' | 'createdAt' | 'modifiedAt' | 'generalAccess' | 'signingKey'
> & { itemCount: number; cleanItemCount: number };

function toView({
  resource,
  state,
}: {
  resource: Omit<GetRow, 'itemCount' | 'cleanItemCount'>;
  state: Pick<DatasetEntity, 'itemCount' | 'cleanItemCount'>;
}): DatasetView {
  return storageView(resource, resource.modifiedAt, {
    itemCount: state.itemCount,
    cleanItemCount: state.cleanItemCount,
  });
}

/** Datasets: items appended in order, read in chunks for exports, and their statistics. */
@Injectable()
export class DatasetsService extends CataloguedStore<DatasetEntity, DatasetView> {
  constructor(catalogue: CatalogueService) {
    super(catalogue.dataSource, catalogue, catalogue.outbox, STORE);
  }

  /**
   * The read path of every `GET /v2/datasets/:id`: the catalogue row and the dataset row in one
   * round trip (a prepared statement), without entity hydration. Not found is answered as
   * `load` answers it.
   */
  override async get(id: string): Promise<DatasetView> {
    const [row] = await preparedQuery<GetRow>(
      this.dataSource,
      'resources.get-dataset',
      this.getStatement('one'),
      [id],
    );
    if (!row) return toView(await this.load(id));
    return toView({ resource: row, state: row });
  }

  /**
   * A page of datasets; given ids (what the permissions service pages for `sharedWithMe`), read
   * as `get` reads one — one prepared statement, no entity hydration — in the given order.
   */
  override async list(req: CataloguedListRequest): Promise<ListPage<DatasetView>> {
    if (!req.ids) return super.list(req);
    const rows = await preparedQuery<GetRow>(
      this.dataSource,
      'resources.get-datasets',
      this.getStatement('many'),
      [req.ids],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const items = [...new Set(req.ids)].flatMap((id) => {
      const row = byId.get(id);
      return row ? [toView({ resource: row, state: row })] : [];
    });
    return { total: items.length, ...req.page, count: items.length, items };
  }

  private readonly statements: { one?: string; many?: string } = {};
  /** The read of one dataset by id (`one`), or of those of an array of ids (`many`). */
  private getStatement(shape: 'one' | 'many'): string {
    const known = this.statements[shape];
    if (known) return known;
    const resource = this.dataSource.getMetadata(ResourceEntity);
    const dataset = this.dataSource.getMetadata(DatasetEntity);
    const column = (metadata: typeof resource, property: string) => {
      const found = metadata.findColumnWithPropertyName(property);
      if (!found) throw new Error(`No column ${metadata.name}.${property}`);
      return `"${found.databaseName}"`;
    };
    const r = (property: keyof ResourceEntity) => `r.${column(resource, property)} AS "${property}"`;
    const match = shape === 'one' ? '= $1' : '= ANY($1::varchar[])';
    return (this.statements[shape] = `
      SELECT ${(['id', 'name', 'ownerId', 'createdAt', 'modifiedAt', 'generalAccess', 'signingKey'] as const)
        .map(r)
        .join(', ')}, d.${column(dataset, 'itemCount')} AS "itemCount",
        d.${column(dataset, 'cleanItemCount')} AS "cleanItemCount"
      FROM ${resource.tablePath} r
      JOIN ${dataset.tablePath} d ON d.${column(dataset, 'id')} = r.${column(resource, 'id')}
      WHERE r.${column(resource, 'id')} ${match} AND r.${column(resource, 'type')} = 'DATASET'`);
  }

  /** Appends items; their JSON bytes count against the owner's storage (`causedBy`: default the owner). */
  async pushItems(
    id: string,
    items: Record<string, unknown>[],
    causedBy?: string,
  ): Promise<{ itemCount: number }> {
    let bytes = 0;
    for (const [index, item] of items.entries()) {
      const json = JSON.stringify(item);
      const unstorable = UNSTORABLE_ESCAPE.exec(json)?.[1];
      if (unstorable) {
        const which = items.length > 1 ? ` (item ${index + 1} of ${items.length})` : '';
        throw new AppError(
          'invalid-input',
          unstorable === '0000'
            ? `Field "body" is invalid${which}: items cannot contain the NUL character (\\u0000)`
            : `Field "body" is invalid${which}: items cannot contain an unpaired surrogate (\\u${unstorable}); a string must be valid Unicode`,
        );
      }
      bytes += Buffer.byteLength(json);
    }
    return this.dataSource.transaction(async (manager) => {
      const { resource, state: dataset } = await this.load(id, manager, true);
      await this.catalogue.usage.storageChanged(manager, id, bytes, causedBy);
      for (let start = 0; start < items.length; start += INSERT_CHUNK) {
        const chunk = items.slice(start, start + INSERT_CHUNK);
        await manager.insert(
          DatasetItemEntity,
          chunk.map((data, i) => ({ datasetId: id, position: dataset.itemCount + start + i, data })),
        );
      }
      dataset.itemCount += items.length;
      dataset.cleanItemCount += items.filter(isCleanItem).length;
      await manager.save(dataset);
      resource.modifiedAt = new Date();
      await manager.save(resource);
      return { itemCount: dataset.itemCount };
    });
  }

  /**
   * A chunk of the stored items at positions in `[from, to)`, read by primary key in position
   * order (no OFFSET scan), transformed as the export asks. Offset and limit are the gateway's
   * range, counted in stored items as Apify counts them (before skipping and unwinding).
   */
  async readItems(req: RpcPayload<typeof DatasetsRpc.readItems>): Promise<DatasetItemsChunk> {
    const { from, to, desc, shape, transform } = req;
    if (from >= to) return { items: [], rest: null };
    const budget = shape === 'columns' ? CHUNK.columns : CHUNK.items;
    const order = desc ? 'DESC' : 'ASC';
    // The running stored size (pg_column_size reads no TOASTed value) cuts the chunk at the budget.
    const rows: { position: number; data: Record<string, unknown> }[] = await this.dataSource.query(
      `SELECT position, data FROM (
         SELECT i.position, i.data,
                sum(pg_column_size(i.data)) OVER (ORDER BY i.position ${order}) - pg_column_size(i.data) AS before
         FROM ${this.dataSource.getMetadata(DatasetItemEntity).tablePath} i
         WHERE i.dataset_id = $1 AND i.position >= $2 AND i.position < $3
         ORDER BY i.position ${order}
         LIMIT $4
       ) page WHERE page.before < $5 ORDER BY position ${order}`,
      // Positions are dense, so the chunk's window is known: no plan can read past it.
      desc
        ? [req.id, Math.max(from, to - budget.rows), to, budget.rows, budget.bytes]
        : [req.id, from, Math.min(to, from + budget.rows), budget.rows, budget.bytes],
    );
    const last = rows.at(-1)?.position;
    // Positions are dense and items are never removed but with their dataset, and a chunk holds at
    // least one row: none for a range that holds some means the dataset is gone (deleted while it
    // was read). Said, not ended quietly: an export cut there looked complete (a 200 and a
    // well-formed body with the first items only); now it is cut short, which its client sees.
    if (last === undefined) throw AppError.notFound('The dataset');
    let rest = desc
      ? last > from
        ? { from, to: last }
        : null
      : last + 1 < to
        ? { from: last + 1, to }
        : null;
    const { items, through } = transformChunk(rows, transform, budget);
    // Cut short where the transformed items filled the budget: the rest follows from the next item.
    if (through !== undefined && through !== last)
      rest = desc ? { from, to: through } : { from: through + 1, to };
    if (shape === 'items') return { items, rest };
    const table = items.map(toTableRow);
    if (shape === 'table') return { items: table, rest };
    return { columns: tableColumns(table), rest };
  }

  /**
   * Statistics of every top-level field (Atrium keeps no dataset schema, so every field counts
   * as one): min and max of its numbers, or of the lengths of its strings and arrays, or of the
   * key counts of its objects; how many items hold null in it; how many lack it.
   */
  async statistics(id: string): Promise<DatasetStatistics> {
    const { state: dataset } = await this.load(id);
    const measure = `CASE json_typeof(f.value)
        WHEN 'number' THEN (f.value #>> '{}')::numeric
        WHEN 'string' THEN length(f.value #>> '{}')
        WHEN 'array' THEN json_array_length(f.value)
        WHEN 'object' THEN (SELECT count(*) FROM json_object_keys(f.value))
      END`;
    const rows: { field: string; min: string | null; max: string | null; nulls: string; present: string }[] =
      await this.dataSource.query(
        `SELECT f.key AS field, min(${measure}) AS min, max(${measure}) AS max,
                count(*) FILTER (WHERE json_typeof(f.value) = 'null') AS nulls, count(*) AS present
         FROM ${this.dataSource.getMetadata(DatasetItemEntity).tablePath} i, json_each(i.data) f
         WHERE i.dataset_id = $1
         GROUP BY f.key ORDER BY f.key LIMIT ${MAX_STATISTICS_FIELDS}`,
        [id],
      );
    const number = (value: string | null) => (value === null ? null : Number(value));
    const fieldStatistics: Record<string, DatasetFieldStatistics> = {};
    for (const row of rows) {
      fieldStatistics[row.field] = {
        min: number(row.min),
        max: number(row.max),
        nullCount: Number(row.nulls),
        emptyCount: dataset.itemCount - Number(row.present),
      };
    }
    return { fieldStatistics };
  }
}

/** What the catalogued store keeps of a dataset: its row, its view, and its items (deleted with it). */
const ITEMS = { entity: DatasetItemEntity, by: 'datasetId' };
const STORE = { descriptor: DATASETS, state: DatasetEntity, toView, content: ITEMS };

/** Bytes (as JSON) of what one stored item may unwind into: a chunk stays far under RabbitMQ 4's 16 MiB message limit. */
const MAX_UNWOUND_BYTES = 8 << 20;

/**
 * Stored items transformed in order until what they made fills the chunk's budget (unwinding can
 * make thousands of items of one): `through` is the position of the last one taken. An item that
 * unwinds into more than MAX_UNWOUND items, or MAX_UNWOUND_BYTES, is refused, naming its position:
 * one small item must not make gigabytes (a product of three 200-element arrays is 8 million).
 */
function transformChunk(
  rows: readonly { position: number; data: Record<string, unknown> }[],
  transform: DatasetItemsTransform,
  budget: { rows: number; bytes: number },
): { items: Record<string, unknown>[]; through: number | undefined } {
  const items: Record<string, unknown>[] = [];
  let bytes = 0;
  for (const row of rows) {
    let made: Record<string, unknown>[];
    try {
      made = transformItem(row.data, transform);
    } catch (err) {
      if (!(err instanceof UnwindTooLarge)) throw err;
      throw unwoundTooLarge(row.position, err.message);
    }
    // Measured as they will be sent, and only past one item (unwound), stopping at the bound.
    let size = 0;
    if (made.length > 1)
      for (const one of made) {
        size += Buffer.byteLength(JSON.stringify(one)); // as sent: UTF-8
        if (size > MAX_UNWOUND_BYTES)
          throw unwoundTooLarge(row.position, `unwinds into more than ${MAX_UNWOUND_BYTES >> 20} MB`);
      }
    items.push(...made);
    bytes += size;
    if (items.length >= budget.rows || bytes >= budget.bytes) return { items, through: row.position };
  }
  return { items, through: rows.at(-1)?.position };
}

const unwoundTooLarge = (position: number, what: string) =>
  new AppError(
    'invalid-input',
    `Field "query.unwind" is invalid: the item at position ${position} ${what} (at most ${MAX_UNWOUND} items, ${MAX_UNWOUND_BYTES >> 20} MB)`,
  );
