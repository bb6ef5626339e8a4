import { Injectable } from '@nestjs/common';
import {
  AppError,
  BatchAddResult,
  HttpMethod,
  BatchDeleteResult,
  QueueClient,
  QueueHeadView,
  QueueOperationResult,
  QueueRequestsPage,
  QueueRequestView,
  REQUEST_QUEUES,
  RequestQueuesRpc,
  RequestQueueView,
  RpcPayload,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { createHash } from 'node:crypto';
import { EntityManager, In } from 'typeorm';
import { CatalogueService, CataloguedRow } from '../catalogue/catalogue.service';
import { CataloguedStore, storageView } from '../catalogue/catalogued-store';
import { recordQueueClient } from './queue-clients';
import { QueueRequestEntity } from './queue-request.entity';
import { RequestQueueEntity } from './request-queue.entity';

const later = (a: Date, b: Date) => (a > b ? a : b);
const hashUniqueKey = (uniqueKey: string) => createHash('sha256').update(uniqueKey).digest('hex');

function toView({ resource, state: queue }: CataloguedRow<RequestQueueEntity>): RequestQueueView {
  return storageView(resource, later(resource.modifiedAt, queue.contentModifiedAt), {
    actId: resource.actorId,
    actRunId: resource.runId,
    totalRequestCount: queue.totalRequestCount,
    handledRequestCount: queue.handledRequestCount,
    pendingRequestCount: queue.totalRequestCount - queue.handledRequestCount,
    hadMultipleClients: queue.hadMultipleClients,
  });
}

/** A lock shows while it holds (the clock only words the view; PostgreSQL's decides the locks). */
function lockOf(r: QueueRequestEntity): Pick<QueueRequestView, 'lockExpiresAt' | 'lockByClient'> {
  if (r.lockExpiresAt === null || r.handledAt !== null || r.lockExpiresAt.getTime() <= Date.now()) return {};
  return {
    lockExpiresAt: r.lockExpiresAt.toISOString(),
    ...(r.lockClientKey !== null ? { lockByClient: r.lockClientKey } : {}),
  };
}

function toRequestView(r: QueueRequestEntity): QueueRequestView {
  return {
    id: r.id,
    uniqueKey: r.uniqueKey,
    url: r.url,
    method: r.method,
    ...(r.payload !== null ? { payload: r.payload } : {}),
    userData: r.userData as Record<string, unknown>,
    ...(r.headers !== null ? { headers: r.headers } : {}),
    retryCount: r.retryCount,
    noRetry: r.noRetry,
    errorMessages: r.errorMessages,
    ...(r.loadedUrl !== null ? { loadedUrl: r.loadedUrl } : {}),
    ...(r.handledAt !== null ? { handledAt: r.handledAt.toISOString() } : {}),
    ...lockOf(r),
  };
}

const NO_LOCK = { lockExpiresAt: null, lockClientKey: null, lockRunId: null };

type RequestFields = RpcPayload<typeof RequestQueuesRpc.updateRequest>['request'];

/** The stored form of a request's settable fields; what is left out takes its default. */
function storedFields(request: RequestFields) {
  return {
    url: request.url,
    method: request.method,
    payload: request.payload ?? null,
    userData: (request.userData ?? {}) as object,
    headers: request.headers ?? null,
    retryCount: request.retryCount ?? 0,
    noRetry: request.noRetry ?? false,
    errorMessages: request.errorMessages ?? [],
    loadedUrl: request.loadedUrl ?? null,
    handledAt: request.handledAt ? new Date(request.handledAt) : null,
  };
}

type StoredFields = ReturnType<typeof storedFields>;

/** A request's size as counted against its owner's storage: its stored fields as JSON. */
function requestBytes(uniqueKey: string, fields: StoredFields): number {
  return Buffer.byteLength(JSON.stringify({ uniqueKey, ...fields }));
}

function storedFieldsOf(r: QueueRequestEntity): StoredFields {
  const {
    url,
    method,
    payload,
    userData,
    headers,
    retryCount,
    noRetry,
    errorMessages,
    loadedUrl,
    handledAt,
  } = r;
  return {
    url,
    method,
    payload,
    userData,
    headers,
    retryCount,
    noRetry,
    errorMessages,
    loadedUrl,
    handledAt,
  };
}

/** Request queues: requests in order, their locks (see `RequestLocksService`), and their clients. */
@Injectable()
export class RequestQueuesService extends CataloguedStore<RequestQueueEntity, RequestQueueView> {
  constructor(catalogue: CatalogueService) {
    super(catalogue.dataSource, catalogue, catalogue.outbox, STORE);
  }

  private async findRequest(
    manager: EntityManager,
    queueId: string,
    requestId: string,
  ): Promise<QueueRequestEntity> {
    const request = await manager.findOneBy(QueueRequestEntity, { id: requestId, queueId });
    if (!request) throw AppError.notFound('The request');
    return request;
  }

  /** The next place in the head: first for forefront requests, else last. */
  private nextOrderNo(queue: RequestQueueEntity, forefront: boolean): number {
    if (forefront) return --queue.lowestOrderNo;
    return ++queue.highestOrderNo;
  }

  /** Adds a request; its bytes count against the owner's storage (`causedBy`: default the owner). */
  async addRequest(
    req: RpcPayload<typeof RequestQueuesRpc.addRequest>,
    causedBy?: string,
  ): Promise<QueueOperationResult> {
    const { processedRequests } = await this.batchAddRequests(
      { id: req.id, requests: [req.request], forefront: req.forefront, client: req.client },
      causedBy,
    );
    const { requestId, wasAlreadyPresent, wasAlreadyHandled } = processedRequests[0];
    return { requestId, wasAlreadyPresent, wasAlreadyHandled };
  }

  /**
   * Adds up to 25 requests in one transaction under the queue's row lock, so that de-duplication
   * and the counts hold whatever the concurrency and the replica; their bytes are charged at once,
   * so a quota refusal adds none of them.
   */
  async batchAddRequests(
    req: Pick<
      RpcPayload<typeof RequestQueuesRpc.batchAddRequests>,
      'id' | 'requests' | 'forefront' | 'client'
    >,
    causedBy?: string,
  ): Promise<BatchAddResult> {
    return this.dataSource.transaction(async (manager) => {
      await recordQueueClient(manager, req.id, req.client);
      const queue = await this.lockState(manager, req.id);
      const hashes = req.requests.map((r) => hashUniqueKey(r.uniqueKey));
      const existing = await manager.find(QueueRequestEntity, {
        where: { queueId: req.id, uniqueKeyHash: In([...new Set(hashes)]) },
        select: { id: true, handledAt: true, uniqueKeyHash: true },
      });
      const present = new Map(existing.map((r) => [r.uniqueKeyHash, r]));
      const inserted: QueueRequestEntity[] = [];
      let bytes = 0;
      const processedRequests = req.requests.map((request, i) => {
        const found = present.get(hashes[i]);
        if (found) {
          return {
            requestId: found.id,
            uniqueKey: request.uniqueKey,
            wasAlreadyPresent: true,
            wasAlreadyHandled: found.handledAt !== null,
          };
        }
        const fields = storedFields(request);
        bytes += requestBytes(request.uniqueKey, fields);
        const row = manager.create(QueueRequestEntity, {
          ...fields,
          id: newId(),
          queueId: req.id,
          uniqueKey: request.uniqueKey,
          uniqueKeyHash: hashes[i],
          orderNo: fields.handledAt !== null ? null : this.nextOrderNo(queue, req.forefront),
          ...NO_LOCK,
        });
        inserted.push(row);
        present.set(hashes[i], row);
        return {
          requestId: row.id,
          uniqueKey: request.uniqueKey,
          wasAlreadyPresent: false,
          wasAlreadyHandled: false,
        };
      });
      if (inserted.length === 0) return { processedRequests, unprocessedRequests: [] };
      await this.catalogue.usage.storageChanged(manager, req.id, bytes, causedBy);
      await manager.insert(QueueRequestEntity, inserted);
      queue.totalRequestCount += inserted.length;
      queue.handledRequestCount += inserted.filter((r) => r.handledAt !== null).length;
      queue.contentModifiedAt = new Date();
      await manager.save(queue);
      return { processedRequests, unprocessedRequests: [] };
    });
  }

  /**
   * Deletes up to 25 requests named by id or uniqueKey, in one transaction: the rows are locked in
   * id order (as unlocking does), counts and bytes follow. One that is not there counts as deleted.
   */
  async batchDeleteRequests(
    req: RpcPayload<typeof RequestQueuesRpc.batchDeleteRequests>,
    causedBy?: string,
  ): Promise<BatchDeleteResult> {
    return this.dataSource.transaction(async (manager) => {
      await recordQueueClient(manager, req.id, req.client);
      const queue = await this.lockState(manager, req.id);
      const ids = req.requests.flatMap((r) => (r.id !== undefined ? [r.id] : []));
      const hashes = req.requests.flatMap((r) =>
        r.id === undefined && r.uniqueKey !== undefined ? [hashUniqueKey(r.uniqueKey)] : [],
      );
      const found = await manager.find(QueueRequestEntity, {
        where: [
          ...(ids.length ? [{ queueId: req.id, id: In(ids) }] : []),
          ...(hashes.length ? [{ queueId: req.id, uniqueKeyHash: In(hashes) }] : []),
        ],
        order: { id: 'ASC' },
        lock: { mode: 'pessimistic_write' },
      });
      const byId = new Map(found.map((r) => [r.id, r]));
      const byHash = new Map(found.map((r) => [r.uniqueKeyHash, r]));
      const processedRequests = req.requests.map((r) => {
        const row = r.id !== undefined ? byId.get(r.id) : byHash.get(hashUniqueKey(r.uniqueKey!));
        return row ? { id: row.id, uniqueKey: row.uniqueKey } : r;
      });
      if (found.length > 0) {
        const bytes = found.reduce((sum, r) => sum + requestBytes(r.uniqueKey, storedFieldsOf(r)), 0);
        await this.catalogue.usage.storageChanged(manager, req.id, -bytes, causedBy);
        await manager.delete(QueueRequestEntity, { id: In(found.map((r) => r.id)) });
        queue.totalRequestCount -= found.length;
        queue.handledRequestCount -= found.filter((r) => r.handledAt !== null).length;
        queue.contentModifiedAt = new Date();
        await manager.save(queue);
      }
      return { processedRequests, unprocessedRequests: [] };
    });
  }

  async getRequest(id: string, requestId: string): Promise<QueueRequestView> {
    await this.load(id);
    return toRequestView(await this.findRequest(this.dataSource.manager, id, requestId));
  }

  /**
   * Replaces the request's fields, as Apify does: handled leaves the head; unhandled goes to its
   * front with `forefront`, else to its back (a reclaimed request is retried after the others).
   */
  async updateRequest(
    req: RpcPayload<typeof RequestQueuesRpc.updateRequest>,
    causedBy?: string,
  ): Promise<QueueOperationResult> {
    if (req.request.id !== undefined && req.request.id !== req.requestId) {
      throw new AppError('invalid-input', 'Field "request.id" must be the id of the request being updated');
    }
    return this.dataSource.transaction(async (manager) => {
      await recordQueueClient(manager, req.id, req.client);
      const queue = await this.lockState(manager, req.id);
      const current = await this.findRequest(manager, req.id, req.requestId);
      if (req.request.uniqueKey !== undefined && req.request.uniqueKey !== current.uniqueKey) {
        throw new AppError('invalid-input', 'The uniqueKey of a request cannot be changed');
      }
      const fields = storedFields(req.request);
      await this.catalogue.usage.storageChanged(
        manager,
        req.id,
        requestBytes(current.uniqueKey, fields) - requestBytes(current.uniqueKey, storedFieldsOf(current)),
        causedBy,
      );
      const wasHandled = current.handledAt !== null;
      const handled = fields.handledAt !== null;
      await manager.update(
        QueueRequestEntity,
        { id: current.id },
        // A handled request leaves the head and whatever lock it had; an unhandled one keeps its lock.
        handled
          ? { ...fields, orderNo: null, ...NO_LOCK }
          : { ...fields, orderNo: this.nextOrderNo(queue, req.forefront) },
      );
      queue.handledRequestCount += (handled ? 1 : 0) - (wasHandled ? 1 : 0);
      queue.contentModifiedAt = new Date();
      await manager.save(queue);
      return { requestId: current.id, wasAlreadyPresent: true, wasAlreadyHandled: wasHandled };
    });
  }

  async deleteRequest(
    id: string,
    requestId: string,
    client: QueueClient,
    causedBy?: string,
  ): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      await recordQueueClient(manager, id, client);
      const queue = await this.lockState(manager, id);
      const current = await this.findRequest(manager, id, requestId);
      await this.catalogue.usage.storageChanged(
        manager,
        id,
        -requestBytes(current.uniqueKey, storedFieldsOf(current)),
        causedBy,
      );
      await manager.delete(QueueRequestEntity, { id: current.id });
      queue.totalRequestCount -= 1;
      queue.handledRequestCount -= current.handledAt !== null ? 1 : 0;
      queue.contentModifiedAt = new Date();
      await manager.save(queue);
    });
    return { ok: true };
  }

  async listRequests(req: RpcPayload<typeof RequestQueuesRpc.listRequests>): Promise<QueueRequestsPage> {
    await this.load(req.id);
    const query = this.dataSource.manager
      .createQueryBuilder(QueueRequestEntity, 'r')
      .where('r.queue_id = :queueId', { queueId: req.id })
      .orderBy('r.id', 'ASC')
      // One more than asked, to tell whether another page follows.
      .limit(req.limit + 1);
    if (req.exclusiveStartId !== undefined) query.andWhere('r.id > :after', { after: req.exclusiveStartId });
    if (req.filter) {
      const states = [
        ...(req.filter.includes('pending') ? ['r.order_no IS NOT NULL'] : []),
        ...(req.filter.includes('locked') ? ['(r.order_no IS NOT NULL AND r.lock_expires_at > now())'] : []),
      ];
      query.andWhere(`(${states.join(' OR ')})`);
    }
    const found = await query.getMany();
    const items = found.slice(0, req.limit).map(toRequestView);
    return {
      items,
      count: items.length,
      limit: req.limit,
      exclusiveStartId: req.exclusiveStartId ?? null,
      nextExclusiveStartId: found.length > req.limit ? items[items.length - 1].id : null,
    };
  }

  /** The head without the requests some client holds locked (their locks decided by PostgreSQL's clock). */
  async head(req: RpcPayload<typeof RequestQueuesRpc.head>): Promise<QueueHeadView> {
    const { resource, state: queue } = await this.load(req.id);
    const found: { id: string; retry_count: number; unique_key: string; url: string; method: HttpMethod }[] =
      await this.dataSource.manager.query(
        `SELECT id, retry_count, unique_key, url, method FROM resources.queue_request
          WHERE queue_id = $1 AND order_no IS NOT NULL
            AND (lock_expires_at IS NULL OR lock_expires_at <= now())
          ORDER BY order_no LIMIT $2`,
        [req.id, req.limit],
      );
    return {
      limit: req.limit,
      queueModifiedAt: later(resource.modifiedAt, queue.contentModifiedAt).toISOString(),
      hadMultipleClients: queue.hadMultipleClients,
      items: found.map((r) => ({
        id: r.id,
        retryCount: r.retry_count,
        uniqueKey: r.unique_key,
        url: r.url,
        method: r.method,
      })),
    };
  }
}

/** What the catalogued store keeps of a queue: its row, its view, and its requests (deleted with it). */
const REQUESTS = { entity: QueueRequestEntity, by: 'queueId' };
const STORE = { descriptor: REQUEST_QUEUES, state: RequestQueueEntity, toView, content: REQUESTS };
