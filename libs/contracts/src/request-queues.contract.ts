import { z } from 'zod';
import { storageType, StorageViewBase } from './resource-types';
import { rpc } from './rpc-route';
import { causedByField, idSchema, isoDateSchema } from './validation';

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
/** Apify's limits: requests per batch call, and requests per head lock. */
export const MAX_BATCH_REQUESTS = 25;
export const MAX_HEAD_LOCK_LIMIT = 25;
/** How long a lock may be taken for: more than nothing, at most a day. */
export const MAX_LOCK_SECS = 86_400;
/** Apify's `clientKey`: 1 to 32 characters naming one client of a queue. */
export const MAX_CLIENT_KEY_CHARS = 32;
export const clientKeySchema = z.string().min(1).max(MAX_CLIENT_KEY_CHARS);
export const lockSecsSchema = z.number().positive().max(MAX_LOCK_SECS);

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
  .object({
    id: idSchema.optional(),
    uniqueKey: uniqueKeySchema.optional(),
    ...requestFields,
    // What GET shows of a lock comes back with a request read and written back; it is not stored.
    lockExpiresAt: isoDateSchema.nullable().optional(),
    lockByClient: clientKeySchema.nullable().optional(),
  })
  .strict();

/** Body of `POST …/requests/batch`: 1 to 25 requests. */
export const batchAddRequestsBody = z.array(addRequestBody).min(1).max(MAX_BATCH_REQUESTS);

/** One entry of `DELETE …/requests/batch`: a request named by its id or its uniqueKey. */
export const requestToDeleteSchema = z
  .object({ id: idSchema.optional(), uniqueKey: uniqueKeySchema.optional() })
  .strict()
  .refine((r) => r.id !== undefined || r.uniqueKey !== undefined, {
    message: 'must name the request by id or uniqueKey',
  });
export const batchDeleteRequestsBody = z.array(requestToDeleteSchema).min(1).max(MAX_BATCH_REQUESTS);

/** `filter` of `GET …/requests`: requests in any of these states. */
export const REQUEST_LIST_FILTERS = ['locked', 'pending'] as const;

export interface RequestQueueView extends StorageViewBase {
  actId: string | null;
  actRunId: string | null;
  totalRequestCount: number;
  handledRequestCount: number;
  pendingRequestCount: number;
  hadMultipleClients: boolean;
}

/** Request queues: requests to crawl, in order, locked by the clients that take them. */
export const REQUEST_QUEUES = storageType<RequestQueueView>()({
  type: 'REQUEST_QUEUE',
  collection: 'request-queues',
  idParam: 'queueId',
  underRun: 'request-queue',
  runDefault: 'defaultRequestQueueId',
  createdAs: 'queue',
});

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
  /** While a client holds the request's lock: when it expires, and the client's key. */
  lockExpiresAt?: string;
  lockByClient?: string;
}

export interface QueueOperationResult {
  requestId: string;
  wasAlreadyPresent: boolean;
  wasAlreadyHandled: boolean;
}

export type QueueHeadItem = Pick<QueueRequestView, 'id' | 'retryCount' | 'uniqueKey' | 'url' | 'method'>;

export interface QueueHeadView {
  limit: number;
  queueModifiedAt: string;
  hadMultipleClients: boolean;
  items: QueueHeadItem[];
}

/** Apify's answer to `POST …/head/lock`. */
export interface LockedQueueHeadView extends QueueHeadView {
  lockSecs: number;
  /** Whether any client (this one included) holds a lock on a request of the queue. */
  queueHasLockedRequests: boolean;
  /** The key the locks are held under: the caller's, or one made for a caller that sent none. */
  clientKey: string;
  items: (QueueHeadItem & { lockExpiresAt: string })[];
}

export interface ProcessedRequestView extends QueueOperationResult {
  uniqueKey: string;
}

/** A request a batch call could not process (and the caller may send again). */
export interface UnprocessedRequestView {
  id?: string;
  uniqueKey: string;
  url?: string;
  method?: HttpMethod;
}

export interface BatchAddResult {
  processedRequests: ProcessedRequestView[];
  unprocessedRequests: UnprocessedRequestView[];
}

export interface BatchDeleteResult {
  /** Each request as named, with its id and uniqueKey when it was there. */
  processedRequests: { id?: string; uniqueKey?: string }[];
  unprocessedRequests: UnprocessedRequestView[];
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

/**
 * Who calls, for locks and `hadMultipleClients`: the `clientKey` it sent, and the run whose token
 * it uses. A lock is held by its client key and by its run: either one may prolong or drop it.
 */
export const queueClientSchema = z
  .object({ clientKey: clientKeySchema.optional(), runId: idSchema.optional() })
  .strict();
export type QueueClient = z.output<typeof queueClientSchema>;
const clientField = { client: queueClientSchema.default({}) };

export const RequestQueuesRpc = {
  ...REQUEST_QUEUES.rpc,
  /** Adds a request; one with the same `uniqueKey` already there is returned instead. */
  addRequest: rpc<QueueOperationResult>()(
    'resources',
    'resources.request-queues.add-request',
    z
      .object({
        ...queueRef,
        request: addRequestBody,
        forefront: z.boolean().default(false),
        ...clientField,
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
        ...clientField,
        ...causedByField,
      })
      .strict(),
  ),
  deleteRequest: rpc<{ ok: true }>()(
    'resources',
    'resources.request-queues.delete-request',
    z.object({ ...requestRef, ...clientField, ...causedByField }).strict(),
  ),
  /**
   * Every request, handled or not, in id order after `exclusiveStartId`; with `filter`, only those
   * pending (unhandled) or locked (a lock that holds), either if both are named.
   */
  listRequests: rpc<QueueRequestsPage>()(
    'resources',
    'resources.request-queues.list-requests',
    z
      .object({
        ...queueRef,
        limit: z.number().int().min(1).max(10_000).default(1000),
        exclusiveStartId: idSchema.optional(),
        filter: z.array(z.enum(REQUEST_LIST_FILTERS)).min(1).max(2).optional(),
      })
      .strict(),
  ),
  /** The first unhandled requests in queue order that no client holds locked. */
  head: rpc<QueueHeadView>()(
    'resources',
    'resources.request-queues.head',
    z.object({ ...queueRef, limit: z.number().int().min(1).max(MAX_HEAD_LIMIT).default(100) }).strict(),
  ),
  /**
   * Adds 1 to 25 requests at once, all or none (a quota or validation failure changes nothing);
   * each one whose `uniqueKey` is already there (or earlier in the batch) is answered as present.
   */
  batchAddRequests: rpc<BatchAddResult>()(
    'resources',
    'resources.request-queues.batch-add-requests',
    z
      .object({
        ...queueRef,
        requests: batchAddRequestsBody,
        forefront: z.boolean().default(false),
        ...clientField,
        ...causedByField,
      })
      .strict(),
  ),
  /** Deletes 1 to 25 requests named by id or uniqueKey; one that is not there counts as deleted. */
  batchDeleteRequests: rpc<BatchDeleteResult>()(
    'resources',
    'resources.request-queues.batch-delete-requests',
    z.object({ ...queueRef, requests: batchDeleteRequestsBody, ...clientField, ...causedByField }).strict(),
  ),
  /**
   * Locks the first `limit` requests of the head no one holds, for `lockSecs`, for the caller:
   * concurrent callers (on any replica) never get the same request while its lock holds.
   */
  lockHead: rpc<LockedQueueHeadView>()(
    'resources',
    'resources.request-queues.lock-head',
    z
      .object({
        ...queueRef,
        limit: z.number().int().min(1).max(MAX_HEAD_LOCK_LIMIT).default(MAX_HEAD_LOCK_LIMIT),
        lockSecs: lockSecsSchema,
        ...clientField,
      })
      .strict(),
  ),
  /**
   * Extends the caller's lock to `lockSecs` from now (taking it anew if no one holds it); with
   * `forefront` the request goes to the front of the head for when the lock ends.
   */
  prolongRequestLock: rpc<{ lockExpiresAt: string }>()(
    'resources',
    'resources.request-queues.prolong-request-lock',
    z
      .object({
        ...requestRef,
        lockSecs: lockSecsSchema,
        forefront: z.boolean().default(false),
        ...clientField,
      })
      .strict(),
  ),
  /** Ends the caller's lock; the request goes back to the head, first with `forefront`, else last. */
  deleteRequestLock: rpc<{ ok: true }>()(
    'resources',
    'resources.request-queues.delete-request-lock',
    z.object({ ...requestRef, forefront: z.boolean().default(false), ...clientField }).strict(),
  ),
  /** Ends every lock the caller holds on the queue (by its client key or its run). */
  unlockRequests: rpc<{ unlockedCount: number }>()(
    'resources',
    'resources.request-queues.unlock-requests',
    z.object({ ...queueRef, ...clientField }).strict(),
  ),
} as const;
