import { Injectable } from '@nestjs/common';
import {
  AppError,
  HttpMethod,
  LockedQueueHeadView,
  QueueClient,
  RequestQueuesRpc,
  RpcPayload,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '@atrium/persistence';
import { recordQueueClient } from './queue-clients';
import { RequestQueuesService } from './request-queues.service';

interface LockedRow {
  id: string;
  unique_key: string;
  url: string;
  method: HttpMethod;
  retry_count: number;
  order_no: string;
  lock_expires_at: Date;
}

interface LockState {
  handled: boolean;
  locked: boolean;
  lock_expires_at: Date | null;
}

/** A live lock is the caller's when it was taken under the caller's client key or by its run. */
const heldBy = (clientKeyParam: string, runIdParam: string) =>
  `(lock_client_key = ${clientKeyParam} OR lock_run_id = ${runIdParam})`;
const HELD_BY_CALLER = heldBy('$3', '$4');
const LOCK_HOLDS = `lock_expires_at > now()`;

/**
 * Request locks as Apify's API defines them (listAndLockHead, prolongRequestLock,
 * deleteRequestLock, unlockRequests), kept in the request rows: who holds a lock and until when
 * is PostgreSQL's state under PostgreSQL's clock, never a replica's memory, so any number of
 * resources replicas agree. Row locks are taken after the queue's row (when it is needed) and
 * among requests in id order, as the queue's other writes do, so no two of them deadlock.
 */
@Injectable()
export class RequestLocksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly queues: RequestQueuesService,
  ) {}

  /**
   * Locks the first `limit` requests of the head that no one holds. `FOR UPDATE SKIP LOCKED`
   * passes over the rows another caller is locking at that moment, and a row that caller has just
   * locked fails the re-checked condition, so concurrent callers never get the same request.
   */
  async lockHead(req: RpcPayload<typeof RequestQueuesRpc.lockHead>): Promise<LockedQueueHeadView> {
    // A caller without a key is a new client: it gets one, to prolong and drop its locks with.
    const clientKey = req.client.clientKey ?? newId();
    await recordQueueClient(this.dataSource.manager, req.id, req.client);
    const { resource, state: queue } = await this.queues.load(req.id);
    const { items, queueHasLockedRequests } = await this.dataSource.transaction(async (manager) => {
      const locked = returnedRows<LockedRow>(
        await manager.query(
          `WITH picked AS (
             SELECT id FROM resources.queue_request
              WHERE queue_id = $1 AND order_no IS NOT NULL
                AND (lock_expires_at IS NULL OR lock_expires_at <= now())
              ORDER BY order_no
              LIMIT $2
              FOR UPDATE SKIP LOCKED)
           UPDATE resources.queue_request r
              SET lock_expires_at = now() + make_interval(secs => $3), lock_client_key = $4, lock_run_id = $5
             FROM picked
            WHERE r.id = picked.id
        RETURNING r.id, r.unique_key, r.url, r.method, r.retry_count, r.order_no, r.lock_expires_at`,
          [req.id, req.limit, req.lockSecs, clientKey, req.client.runId ?? null],
        ),
      );
      const others: { any: boolean }[] = locked.length
        ? [{ any: true }]
        : await manager.query(
            `SELECT EXISTS (SELECT 1 FROM resources.queue_request
                             WHERE queue_id = $1 AND ${LOCK_HOLDS} AND order_no IS NOT NULL) AS any`,
            [req.id],
          );
      return {
        items: locked.sort((a, b) => Number(a.order_no) - Number(b.order_no)),
        queueHasLockedRequests: others[0].any,
      };
    });
    const modifiedAt =
      resource.modifiedAt > queue.contentModifiedAt ? resource.modifiedAt : queue.contentModifiedAt;
    return {
      limit: req.limit,
      queueModifiedAt: modifiedAt.toISOString(),
      hadMultipleClients: queue.hadMultipleClients,
      lockSecs: req.lockSecs,
      queueHasLockedRequests,
      clientKey,
      items: items.map((r) => ({
        id: r.id,
        retryCount: r.retry_count,
        uniqueKey: r.unique_key,
        url: r.url,
        method: r.method,
        lockExpiresAt: new Date(r.lock_expires_at).toISOString(),
      })),
    };
  }

  /**
   * Sets the caller's lock to end `lockSecs` from now. A request no one holds (its lock ended) is
   * taken anew; one another client holds, or one already handled, is refused and left as it was.
   */
  async prolongRequestLock(
    req: RpcPayload<typeof RequestQueuesRpc.prolongRequestLock>,
  ): Promise<{ lockExpiresAt: string }> {
    const lockExpiresAt = await this.dataSource.transaction(async (manager) => {
      await recordQueueClient(manager, req.id, req.client);
      // Moving it to the front takes an order number: the queue's row first, as every writer does.
      const frontOrderNo = req.forefront ? await this.takeFrontOrderNo(manager, req.id) : null;
      const [row] = returnedRows<{ lock_expires_at: Date }>(
        await manager.query(
          `UPDATE resources.queue_request
              SET lock_expires_at = now() + make_interval(secs => $5),
                  lock_client_key = CASE WHEN ${LOCK_HOLDS} THEN lock_client_key ELSE $3 END,
                  lock_run_id = CASE WHEN ${LOCK_HOLDS} THEN lock_run_id ELSE $4 END,
                  order_no = COALESCE($6, order_no)
            WHERE queue_id = $1 AND id = $2 AND order_no IS NOT NULL
              AND (lock_expires_at IS NULL OR NOT ${LOCK_HOLDS} OR ${HELD_BY_CALLER})
        RETURNING lock_expires_at`,
          [
            req.id,
            req.requestId,
            req.client.clientKey ?? null,
            req.client.runId ?? null,
            req.lockSecs,
            frontOrderNo,
          ],
        ),
      );
      if (!row) throw await this.refusal(manager, req.id, req.requestId, 'prolong');
      return new Date(row.lock_expires_at);
    });
    return { lockExpiresAt: lockExpiresAt.toISOString() };
  }

  /**
   * Ends the caller's lock and puts the request back in the head: first with `forefront`, else last.
   * A request no one holds, or already handled, is left as it is (the lock is gone either way).
   */
  async deleteRequestLock(req: RpcPayload<typeof RequestQueuesRpc.deleteRequestLock>): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      await recordQueueClient(manager, req.id, req.client);
      await this.lockQueueRow(manager, req.id);
      const [state] = await this.lockState(manager, req.id, req.requestId, req.client, true);
      if (!state) throw AppError.notFound(`Request "${req.requestId}"`);
      if (state.handled || !state.locked) return;
      if (!state.held) throw this.lockedByAnother(req.requestId, state.lock_expires_at);
      const orderNo = req.forefront
        ? await this.takeFrontOrderNo(manager, req.id)
        : await this.takeBackOrderNo(manager, req.id);
      await manager.query(
        `UPDATE resources.queue_request
            SET lock_expires_at = NULL, lock_client_key = NULL, lock_run_id = NULL, order_no = $3
          WHERE queue_id = $1 AND id = $2`,
        [req.id, req.requestId, orderNo],
      );
    });
    return { ok: true };
  }

  /** Ends every lock the caller holds on the queue, leaving each request where it was in the head. */
  async unlockRequests(
    req: RpcPayload<typeof RequestQueuesRpc.unlockRequests>,
  ): Promise<{ unlockedCount: number }> {
    await this.queues.load(req.id);
    // A caller with neither a key nor a run is a new client: it holds nothing.
    if (req.client.clientKey === undefined && req.client.runId === undefined) return { unlockedCount: 0 };
    await recordQueueClient(this.dataSource.manager, req.id, req.client);
    const unlocked = returnedRows<{ id: string }>(
      await this.dataSource.manager.query(
        `UPDATE resources.queue_request
            SET lock_expires_at = NULL, lock_client_key = NULL, lock_run_id = NULL
          WHERE id IN (SELECT id FROM resources.queue_request
                        WHERE queue_id = $1 AND ${LOCK_HOLDS} AND ${heldBy('$2', '$3')}
                        ORDER BY id FOR UPDATE)
            AND ${LOCK_HOLDS}
      RETURNING id`,
        [req.id, req.client.clientKey ?? null, req.client.runId ?? null],
      ),
    );
    return { unlockedCount: unlocked.length };
  }

  private async lockQueueRow(manager: EntityManager, queueId: string): Promise<void> {
    const rows: unknown[] = await manager.query(
      `SELECT id FROM resources.request_queue WHERE id = $1 FOR UPDATE`,
      [queueId],
    );
    if (rows.length === 0) throw AppError.notFound('The request queue');
  }

  private async takeFrontOrderNo(manager: EntityManager, queueId: string): Promise<number> {
    const [row] = returnedRows<{ order_no: string }>(
      await manager.query(
        `UPDATE resources.request_queue SET lowest_order_no = lowest_order_no - 1, content_modified_at = now()
          WHERE id = $1 RETURNING lowest_order_no AS order_no`,
        [queueId],
      ),
    );
    if (!row) throw AppError.notFound('The request queue');
    return Number(row.order_no);
  }

  private async takeBackOrderNo(manager: EntityManager, queueId: string): Promise<number> {
    const [row] = returnedRows<{ order_no: string }>(
      await manager.query(
        `UPDATE resources.request_queue SET highest_order_no = highest_order_no + 1, content_modified_at = now()
          WHERE id = $1 RETURNING highest_order_no AS order_no`,
        [queueId],
      ),
    );
    if (!row) throw AppError.notFound('The request queue');
    return Number(row.order_no);
  }

  private lockState(
    manager: EntityManager,
    queueId: string,
    requestId: string,
    client: QueueClient,
    forUpdate: boolean,
  ): Promise<(LockState & { held: boolean })[]> {
    return manager.query(
      `SELECT order_no IS NULL AS handled,
              COALESCE(${LOCK_HOLDS}, false) AS locked,
              COALESCE(${HELD_BY_CALLER}, false) AS held,
              lock_expires_at
         FROM resources.queue_request WHERE queue_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
      [queueId, requestId, client.clientKey ?? null, client.runId ?? null],
    );
  }

  /** Why a lock operation changed nothing: no such request, handled, or another client's lock. */
  private async refusal(
    manager: EntityManager,
    queueId: string,
    requestId: string,
    operation: string,
  ): Promise<AppError> {
    const [state] = await this.lockState(manager, queueId, requestId, {}, false);
    if (!state) return AppError.notFound(`Request "${requestId}"`);
    if (state.handled) {
      return new AppError(
        'request-handled-or-locked',
        `Cannot ${operation} the lock of request "${requestId}": it has already been handled`,
      );
    }
    return this.lockedByAnother(requestId, state.lock_expires_at);
  }

  private lockedByAnother(requestId: string, until: Date | null): AppError {
    const when = until ? ` until ${new Date(until).toISOString()}` : '';
    return new AppError(
      'request-handled-or-locked',
      `Request "${requestId}" is locked by another client${when}; only the client that locked it (same clientKey or run) may prolong or delete its lock`,
    );
  }
}
