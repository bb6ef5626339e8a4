import { z } from 'zod';
import { storageType, StorageViewBase } from './resource-types';
import { rpc } from './rpc-route';
import { causedByField, idSchema } from './validation';

export interface DatasetView extends StorageViewBase {
  itemCount: number;
  cleanItemCount: number;
}

/** Datasets: items appended in order, exported in Apify's formats. */
export const DATASETS = storageType<DatasetView>()({
  type: 'DATASET',
  collection: 'datasets',
  idParam: 'datasetId',
  underRun: 'dataset',
  runDefault: 'defaultDatasetId',
  createdAs: 'dataset',
  publicContent: { field: 'itemsPublicUrl', path: 'items' },
});

/** Field names in item options (`fields`, `omit`, `unwind`, `flatten`): at most 100 of 200 characters. */
const itemFieldList = z.array(z.string().min(1).max(200)).max(100).optional();

/** Apify's item options, applied in this order: skipHidden, skipEmpty, fields and omit, unwind, flatten. */
export const datasetItemsTransform = z
  .object({
    fields: itemFieldList,
    omit: itemFieldList,
    unwind: itemFieldList,
    flatten: itemFieldList,
    skipHidden: z.boolean().default(false),
    skipEmpty: z.boolean().default(false),
  })
  .strict();
export type DatasetItemsTransform = z.output<typeof datasetItemsTransform>;

/** A table cell: what CSV, XLSX and HTML exports hold. */
export type DatasetCell = string | number | boolean | null;

export interface DatasetItemsChunk {
  /** `shape: items`: transformed items; `table`: their flattened rows (`a/b` names); `columns`: absent. */
  items?: Record<string, unknown>[];
  /** `shape: columns`: the cell names of the chunk's rows, in order of first appearance. */
  columns?: string[];
  /** What is left of the range after this chunk; null when the range is done. */
  rest: { from: number; to: number } | null;
}

export interface DatasetFieldStatistics {
  min: number | null;
  max: number | null;
  nullCount: number;
  emptyCount: number;
}

export interface DatasetStatistics {
  fieldStatistics: Record<string, DatasetFieldStatistics> | null;
}

export const MAX_ITEMS_PER_PUSH = 10_000;
/**
 * Fields one item may hold, nested ones included: far beyond a scraped item's hundreds. Every
 * export, view and statistic walks an item's fields; one item of 600,000 keys (7 MB) made a CSV
 * export take 20 s of the server's time, anonymously where the dataset is readable by id (attack pass).
 */
export const MAX_ITEM_FIELDS = 10_000;
/** Values one item may hold (fields and array elements, nested ones included): 200,000 zeros in one array made an XML export hold the process for seconds. */
export const MAX_ITEM_VALUES = 200_000;

/**
 * Which of an item's limits a JSON value is beyond: `fields` (object keys, at every depth) or
 * `values` (keys and array elements); null when within both. Stops counting at the limit.
 */
export function itemBeyond(value: unknown, maxFields = MAX_ITEM_FIELDS, maxValues = MAX_ITEM_VALUES) {
  let fields = 0;
  let values = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const next = stack.pop();
    if (next === null || typeof next !== 'object') continue;
    if (Array.isArray(next)) {
      if ((values += next.length) > maxValues) return 'values';
      for (const element of next) if (element !== null && typeof element === 'object') stack.push(element);
      continue;
    }
    for (const key in next) {
      if (++fields > maxFields) return 'fields';
      if (++values > maxValues) return 'values';
      const child = (next as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return null;
}

/** A dataset item: a JSON object within `MAX_ITEM_FIELDS` and `MAX_ITEM_VALUES`. */
export function datasetItemSchema(message?: string) {
  return z.record(z.unknown(), message ? { message } : undefined).superRefine((item, ctx) => {
    const beyond = itemBeyond(item);
    if (beyond)
      ctx.addIssue({
        code: 'custom',
        message:
          beyond === 'fields'
            ? `an item may hold at most ${MAX_ITEM_FIELDS.toLocaleString('en-US')} fields, nested ones included`
            : `an item may hold at most ${MAX_ITEM_VALUES.toLocaleString('en-US')} values (fields and array elements), nested ones included`,
      });
  });
}
const jsonItem = datasetItemSchema();

export const DatasetsRpc = {
  ...DATASETS.rpc,
  pushItems: rpc<{ itemCount: number }>()(
    'resources',
    'resources.datasets.push-items',
    z
      .object({ id: idSchema, items: z.array(jsonItem).min(1).max(MAX_ITEMS_PER_PUSH), ...causedByField })
      .strict(),
  ),
  /**
   * One chunk of a dataset's items for an export: the stored items at positions in `[from, to)`,
   * ascending (or descending with `desc`), transformed as Apify's item options say; the gateway
   * asks again with `rest` until it is null. Positions are dense and immutable (items are only
   * appended), so a range fixed from `itemCount` at the start is a consistent snapshot.
   */
  readItems: rpc<DatasetItemsChunk>()(
    'resources',
    'resources.datasets.read-items',
    z
      .object({
        id: idSchema,
        from: z.number().int().min(0),
        to: z.number().int().min(0),
        desc: z.boolean().default(false),
        /** `items`: transformed objects; `table`: each flattened to `a/b` cells; `columns`: only the cells' names. */
        shape: z.enum(['items', 'table', 'columns']).default('items'),
        transform: datasetItemsTransform,
      })
      .strict(),
  ),
  /** Per top-level field: min, max, nullCount, emptyCount over the dataset's items. */
  statistics: rpc<DatasetStatistics>()(
    'resources',
    'resources.datasets.statistics',
    z.object({ id: idSchema }).strict(),
  ),
} as const;
