import { z, ZodTypeAny } from 'zod';
import { GENERAL_ACCESS, GeneralAccess, ResourceType, StorageType } from './access.enums';
import { changedByField } from './facts';
import { ListPage, paginationSchema } from './resources.contract';
import { rpc, RpcRoute } from './rpc-route';
import { idSchema, resourceNameSchema } from './validation';

/**
 * What every catalogued resource type says about itself once; its RPC routes, its gateway CRUD
 * controller (`apps/gateway/src/http/catalogue-controller.ts`) and its store in the resources
 * service (`apps/resources/src/catalogue/catalogued-store.ts`) are made from it. The type's own
 * folders keep only what is special about it.
 */
export interface ResourceTypeDescriptor<
  T extends ResourceType = ResourceType,
  U extends ZodTypeAny = ZodTypeAny,
> {
  /** The catalogue type. */
  readonly type: T;
  /** The collection under `/v2` (`datasets`), and the RPC namespace (`resources.datasets.*`). */
  readonly collection: string;
  /** The route parameter naming one resource: `/v2/datasets/:datasetId`. */
  readonly idParam: string;
  /** What `PUT` may change. */
  readonly updateBody: U;
}

/** A storage type: a catalogued type with a run's default one, served under runs too. */
export interface StorageTypeDescriptor<
  T extends StorageType = StorageType,
> extends ResourceTypeDescriptor<T> {
  /** The segment under a run: `run(id).dataset()` → `actor-runs/:runId/dataset`. */
  readonly underRun: string;
  /** The run's field naming its default one. */
  readonly runDefault: 'defaultDatasetId' | 'defaultKeyValueStoreId' | 'defaultRequestQueueId';
  /** The field `create` answers the view in: `{ dataset, created }`. */
  readonly createdAs: string;
  /** Content readable by a pre-signed URL, shown on the view as `field` (`itemsPublicUrl` → `…/items`). */
  readonly publicContent?: { readonly field: string; readonly path: string };
}

/** What every storage view shows first and last (between them, what the type counts). */
export interface StorageViewBase {
  id: string;
  name: string | null;
  userId: string;
  createdAt: string;
  modifiedAt: string;
  accessedAt: string;
  generalAccess: GeneralAccess;
  urlSigningSecretKey: string;
}

/** A storage's name and general access: all `PUT` changes on any storage. */
export const updateStorageBody = z
  .object({
    name: resourceNameSchema.nullable().optional(),
    generalAccess: z.enum(GENERAL_ACCESS).optional(),
  })
  .strict();

/** The owner's resources of a type (a page), or the given ids (the permissions service pages those). */
export function catalogueListRequest<S extends z.ZodRawShape>(extra: S) {
  return z
    .object({
      ownerId: z.string().min(1).optional(),
      ids: z.array(idSchema).max(1000).optional(),
      ...extra,
      page: paginationSchema,
    })
    .strict()
    .refine((r) => (r.ownerId === undefined) !== (r.ids === undefined), {
      message: 'exactly one of ownerId or ids is required',
    });
}

const byId = z.object({ id: idSchema }).strict();

/** The routes every catalogued type answers: get, update, delete and list. */
export function catalogueRoutes<V>() {
  return <U extends ZodTypeAny, S extends z.ZodRawShape>(
    descriptor: ResourceTypeDescriptor<ResourceType, U>,
    listFields: S,
  ) => {
    const pattern = (verb: string) => `resources.${descriptor.collection}.${verb}`;
    return {
      get: rpc<V>()('resources', pattern('get'), byId),
      update: rpc<V>()(
        'resources',
        pattern('update'),
        z.object({ id: idSchema, changes: descriptor.updateBody, ...changedByField }).strict(),
      ),
      delete: rpc<{ ok: true }>()('resources', pattern('delete'), byId),
      list: rpc<ListPage<V>>()('resources', pattern('list'), catalogueListRequest(listFields)),
    };
  };
}

/**
 * The descriptor of a catalogued type that is not a storage, with its five catalogue routes
 * (`rpc`): create (taking `createRequest`, answering the view), get, update, delete and list
 * (taking `listRequest`, most often `catalogueListRequest({})`).
 */
export function catalogueType<V>() {
  return <const D extends ResourceTypeDescriptor, C extends ZodTypeAny, L extends ZodTypeAny>(
    descriptor: D,
    createRequest: C,
    listRequest: L,
  ) => ({
    ...descriptor,
    rpc: {
      create: rpc<V>()('resources', `resources.${descriptor.collection}.create`, createRequest),
      ...catalogueRoutes<V>()(descriptor, {}),
      list: rpc<ListPage<V>>()('resources', `resources.${descriptor.collection}.list`, listRequest),
    },
  });
}

/** The five catalogue routes of any type, as the generic store's RPC handlers use them. */
export interface CatalogueRoutes<V> {
  create: RpcRoute<ZodTypeAny, unknown>;
  get: RpcRoute<typeof byId, V>;
  update: RpcRoute<ZodTypeAny, V>;
  delete: RpcRoute<typeof byId, { ok: true }>;
  list: RpcRoute<ZodTypeAny, ListPage<V>>;
}

/** What `create` of a storage answers: the view under the descriptor's `createdAs`, and whether it is new. */
export type Created<K extends string, V> = { [F in K]: V } & { created: boolean };
/** `Created` of any storage type, as the generic store answers it. */
export type CreatedStorage = { created: boolean } & Record<string, unknown>;

/** A storage create request: with a name, the owner's existing storage of that name is answered instead. */
export const createStorageRequest = z
  .object({ ownerId: z.string().min(1), name: resourceNameSchema.optional(), createdBy: z.string().min(1) })
  .strict();

/**
 * The descriptor of a storage type with its five catalogue routes (`rpc`): create, get, update,
 * delete and list (`unnamed`: unnamed ones too).
 */
export function storageType<V>() {
  return <const D extends Omit<StorageTypeDescriptor, 'updateBody'>>(descriptor: D) => {
    const full = { ...descriptor, updateBody: updateStorageBody };
    return {
      ...full,
      rpc: {
        create: rpc<Created<D['createdAs'], V>>()(
          'resources',
          `resources.${descriptor.collection}.create`,
          createStorageRequest,
        ),
        ...catalogueRoutes<V>()(full, { unnamed: z.boolean().default(false) }),
      },
    };
  };
}

/** The five catalogue routes of a storage type, as the generic store and controller use them. */
export interface StorageRoutes<V> {
  create: RpcRoute<typeof createStorageRequest, CreatedStorage>;
  get: RpcRoute<typeof byId, V>;
  update: RpcRoute<ZodTypeAny, V>;
  delete: RpcRoute<typeof byId, { ok: true }>;
  list: RpcRoute<ZodTypeAny, ListPage<V>>;
}
