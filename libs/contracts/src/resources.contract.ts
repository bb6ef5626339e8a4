import { z } from 'zod';
import { GENERAL_ACCESS, GeneralAccess, RESOURCE_TYPES, STORAGE_TYPES } from './access.enums';
import { changedByField, ResourceFacts } from './facts';
import { signingKeyRotationSchema } from './signing-keys';
import { healthRequest, HealthResponse, rpc } from './rpc-route';
import { causedByField, idSchema, resourceNameSchema } from './validation';

export const paginationSchema = z
  .object({
    offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(1000),
    desc: z.boolean().default(false),
  })
  .strict();

export const updateDatasetBody = z
  .object({
    name: resourceNameSchema.nullable().optional(),
    generalAccess: z.enum(GENERAL_ACCESS).optional(),
  })
  .strict();

export interface DatasetView {
  id: string;
  name: string | null;
  userId: string;
  createdAt: string;
  modifiedAt: string;
  accessedAt: string;
  itemCount: number;
  cleanItemCount: number;
  generalAccess: GeneralAccess;
  urlSigningSecretKey: string;
}

export interface ListPage<T> {
  total: number;
  offset: number;
  limit: number;
  count: number;
  desc: boolean;
  items: T[];
}

/** Field names in item options (`fields`, `omit`, `unwind`, `flatten`): at most 100 of 200 characters. */
const itemFieldList = z.array(z.string().min(1).max(200)).max(100).optional();

/** Apify's item options, applied in this order: skipHidden, skipEmpty, unwind, flatten, fields, omit. */
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
const jsonItem = z.record(z.unknown());

export const ResourcesRpc = {
  health: rpc<HealthResponse>()('resources', 'resources.health', healthRequest),
  /** Creates a dataset; with a name, returns the owner's existing dataset of that name instead. */
  createDataset: rpc<{ dataset: DatasetView; created: boolean }>()(
    'resources',
    'resources.datasets.create',
    z
      .object({
        ownerId: z.string().min(1),
        name: resourceNameSchema.optional(),
        createdBy: z.string().min(1),
      })
      .strict(),
  ),
  getDataset: rpc<DatasetView>()('resources', 'resources.datasets.get', z.object({ id: idSchema }).strict()),
  updateDataset: rpc<DatasetView>()(
    'resources',
    'resources.datasets.update',
    z.object({ id: idSchema, changes: updateDatasetBody, ...changedByField }).strict(),
  ),
  deleteDataset: rpc<{ ok: true }>()(
    'resources',
    'resources.datasets.delete',
    z.object({ id: idSchema }).strict(),
  ),
  listDatasets: rpc<ListPage<DatasetView>>()(
    'resources',
    'resources.datasets.list',
    z
      .object({
        ownerId: z.string().min(1).optional(),
        ids: z.array(idSchema).max(1000).optional(),
        unnamed: z.boolean().default(false),
        page: paginationSchema,
      })
      .strict()
      .refine((r) => (r.ownerId === undefined) !== (r.ids === undefined), {
        message: 'exactly one of ownerId or ids is required',
      }),
  ),
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
  getDatasetStatistics: rpc<DatasetStatistics>()(
    'resources',
    'resources.datasets.statistics',
    z.object({ id: idSchema }).strict(),
  ),
  /** Checks a pre-signed URL's signature against the storage's current signing key. */
  verifySignature: rpc<{ valid: true }>()(
    'resources',
    'resources.signatures.verify',
    z
      .object({
        type: z.enum(STORAGE_TYPES),
        id: idSchema,
        signature: z.string().min(1).max(200),
        /** Set for a record's signature; absent for storage content (items, keys). */
        recordKey: z.string().min(1).max(256).optional(),
      })
      .strict(),
  ),
  /** Replaces a storage's signing key: every URL signed with the old one stops working. */
  rotateSigningKey: rpc<{ urlSigningSecretKey: string }>()(
    'resources',
    'resources.signatures.rotate-key',
    z.object({ type: z.enum(STORAGE_TYPES), id: idSchema }).strict(),
  ),
  /**
   * Applies a rotation its changer declared (`signing-keys.rotation-requested`) now, before the
   * change is answered; once per `rotationId`, whichever of this call and the event comes first.
   */
  rotateSigningKeys: rpc<{ rotated: number }>()(
    'resources',
    'resources.signatures.rotate-keys',
    signingKeyRotationSchema,
  ),
  getResourceFacts: rpc<ResourceFacts | null>()(
    'resources',
    'resources.catalogue.get-facts',
    z.object({ id: z.string().min(1).max(100) }).strict(),
  ),
  findResourceFactsByName: rpc<ResourceFacts | null>()(
    'resources',
    'resources.catalogue.find-facts-by-name',
    z.object({ type: z.enum(RESOURCE_TYPES), ownerId: z.string().min(1), name: resourceNameSchema }).strict(),
  ),
} as const;
