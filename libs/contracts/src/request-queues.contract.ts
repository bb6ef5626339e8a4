import { z } from 'zod';
import { GENERAL_ACCESS, GeneralAccess } from './access.enums';
import { ListPage, paginationSchema } from './resources.contract';
import { rpc } from './rpc-route';
import { causedByField, idSchema, isoDateSchema, resourceNameSchema } from './validation';

export const HTTP_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'TRACE',
  'OPTIONS',
  'CONNECT',
  'PATCH',
] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const MAX_REQUEST_URL_CHARS = 8192;
export const MAX_REQUEST_PAYLOAD_CHARS = 5_000_000;
export const MAX_REQUEST_USER_DATA_CHARS = 1_000_000;
export const MAX_HEAD_LIMIT = 1000;

/** The fields of a request that a client sets (Apify's request object, without `id`). */
const requestFields = {
  url: z.string().min(1).max(MAX_REQUEST_URL_CHARS).url(),
  method: z.enum(HTTP_METHODS).default('GET'),
  payload: z.string().max(MAX_REQUEST_PAYLOAD_CHARS).nullable().optional(),
  userData: z
    .record(z.unknown())
    .refine((v) => JSON.stringify(v).length <= MAX_REQUEST_USER_DATA_CHARS, {
      message: `must serialize to at most ${MAX_REQUEST_USER_DATA_CHARS} characters`,
    })
    .nullable()
    .optional(),
  headers: z
    .record(z.string().max(MAX_REQUEST_URL_CHARS))
    .refine((h) => Object.keys(h).length <= 200, { message: 'at most 200 headers' })
    .nullable()
    .optional(),
  retryCount: z.number().int().min(0).max(1_000_000).optional(),
  noRetry: z.boolean().optional(),
  errorMessages: z.array(z.string().max(10_000)).max(100).nullable().optional(),
  loadedUrl: z.string().max(MAX_REQUEST_URL_CHARS).nullable().optional(),
  handledAt: isoDateSchema.nullable().optional(),
};

const uniqueKeySchema = z.string().min(1).max(MAX_REQUEST_URL_CHARS);

/** Body of `POST …/requests`. */
export const addRequestBody = z.object({ uniqueKey: uniqueKeySchema, ...requestFields }).strict();
/**
 * Body of `PUT …/requests/:requestId`: the whole request, as apify-client sends it back. `id` and
 * `uniqueKey` may be repeated but not changed.
 */
export const updateRequestBody = z
  .object({ id: idSchema.optional(), uniqueKey: uniqueKeySchema.optional(), ...requestFields })
  .strict();

export const updateRequestQueueBody = z
  .object({
    name: resourceNameSchema.nullable().optional(),
    generalAccess: z.enum(GENERAL_ACCESS).optional(),
  })
  .strict();

export interface RequestQueueView {
  id: string;
  name: string | null;
  userId: string;
  createdAt: string;
  modifiedAt: string;
  accessedAt: string;
  actId: string | null;
  actRunId: string | null;
  totalRequestCount: number;
  handledRequestCount: number;
  pendingRequestCount: number;
  hadMultipleClients: boolean;
  generalAccess: GeneralAccess;
  urlSigningSecretKey: string;
}

/** A request as Apify returns it; optional fields are left out when unset. */
export interface QueueRequestView {
  id: string;
  uniqueKey: string;
  url: string;
  method: HttpMethod;
  payload?: string;
  userData: Record<string, unknown>;
  headers?: Record<string, string>;
  retryCount: number;
  noRetry: boolean;
  errorMessages: string[];
  loadedUrl?: string;
  handledAt?: string;
}

export interface QueueOperationResult {
  requestId: string;
  wasAlreadyPresent: boolean;
  wasAlreadyHandled: boolean;
}

export interface QueueHeadView {
  limit: number;
  queueModifiedAt: string;
  hadMultipleClients: false;
  items: Pick<QueueRequestView, 'id' | 'retryCount' | 'uniqueKey' | 'url' | 'method'>[];
}

export interface QueueRequestsPage {
  items: QueueRequestView[];
  count: number;
  limit: number;
  exclusiveStartId: string | null;
  /** The id after which the next page starts; absent on the last page. */
  nextExclusiveStartId: string | null;
}

const queueRef = { id: idSchema };
const requestRef = { id: idSchema, requestId: idSchema };

export const RequestQueuesRpc = {
  /** Creates a queue; with a name, returns the owner's existing queue of that name instead. */
  create: rpc<{ queue: RequestQueueView; created: boolean }>()(
    'resources',
    'resources.request-queues.create',
    z
      .object({
        ownerId: z.string().min(1),
        name: resourceNameSchema.optional(),
        createdBy: z.string().min(1),
      })
      .strict(),
  ),
  get: rpc<RequestQueueView>()('resources', 'resources.request-queues.get', z.object(queueRef).strict()),
  update: rpc<RequestQueueView>()(
    'resources',
    'resources.request-queues.update',
    z.object({ ...queueRef, changes: updateRequestQueueBody }).strict(),
  ),
  delete: rpc<{ ok: true }>()('resources', 'resources.request-queues.delete', z.object(queueRef).strict()),
  list: rpc<ListPage<RequestQueueView>>()(
    'resources',
    'resources.request-queues.list',
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
  /** Adds a request; one with the same `uniqueKey` already there is returned instead. */
  addRequest: rpc<QueueOperationResult>()(
    'resources',
    'resources.request-queues.add-request',
    z
      .object({
        ...queueRef,
        request: addRequestBody,
        forefront: z.boolean().default(false),
        ...causedByField,
      })
      .strict(),
  ),
  getRequest: rpc<QueueRequestView>()(
    'resources',
    'resources.request-queues.get-request',
    z.object(requestRef).strict(),
  ),
  /** Replaces a request's fields; with `handledAt` it leaves the head, with `forefront` it goes first. */
  updateRequest: rpc<QueueOperationResult>()(
    'resources',
    'resources.request-queues.update-request',
    z
      .object({
        ...requestRef,
        request: updateRequestBody,
        forefront: z.boolean().default(false),
        ...causedByField,
      })
      .strict(),
  ),
  deleteRequest: rpc<{ ok: true }>()(
    'resources',
    'resources.request-queues.delete-request',
    z.object({ ...requestRef, ...causedByField }).strict(),
  ),
  /** Every request, handled or not, in id order after `exclusiveStartId`. */
  listRequests: rpc<QueueRequestsPage>()(
    'resources',
    'resources.request-queues.list-requests',
    z
      .object({
        ...queueRef,
        limit: z.number().int().min(1).max(10_000).default(1000),
        exclusiveStartId: idSchema.optional(),
      })
      .strict(),
  ),
  /** The first unhandled requests in queue order. */
  head: rpc<QueueHeadView>()(
    'resources',
    'resources.request-queues.head',
    z.object({ ...queueRef, limit: z.number().int().min(1).max(MAX_HEAD_LIMIT).default(100) }).strict(),
  ),
} as const;
