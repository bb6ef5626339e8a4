import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AppError, AuditEntryView, PermissionsRpc, RpcPayload } from '@atrium/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntryEntity } from './audit-entry.entity';

export type NewAuditEntry = Omit<AuditEntryEntity, 'id' | 'occurredAt'>;

const FLUSH_INTERVAL_MS = 200;
const MAX_BUFFERED = 1000;

const toView = (e: AuditEntryEntity): AuditEntryView => ({
  id: e.id,
  occurredAt: e.occurredAt.toISOString(),
  action: e.action,
  actorId: e.actorId,
  subjectId: e.subjectId,
  resourceId: e.resourceId,
  resourceType: e.resourceType,
  accountId: e.accountId,
  before: e.before ?? null,
  after: e.after ?? null,
});

/**
 * The audit log. Changes of access are recorded in the transaction that makes them; denials,
 * which happen on the check path, are buffered and written in batches off that path.
 */
@Injectable()
export class AuditLogService implements OnApplicationShutdown {
  private readonly logger = new Logger(AuditLogService.name);
  private buffer: NewAuditEntry[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly dataSource: DataSource) {}

  /** Records a change inside the caller's transaction: it exists exactly if the change does. */
  async record(manager: EntityManager, entry: NewAuditEntry): Promise<void> {
    await manager.insert(AuditEntryEntity, entry);
  }

  /** Queues a denial; it is written within FLUSH_INTERVAL_MS, never on the request path. */
  recordLater(entry: NewAuditEntry): void {
    if (this.buffer.length >= MAX_BUFFERED) return; // under a flood, drop rather than grow without bound
    this.buffer.push(entry);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
  }

  async flush(): Promise<void> {
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (!batch.length || !this.dataSource.isInitialized) return;
    try {
      await this.dataSource.manager.insert(AuditEntryEntity, batch);
    } catch (err) {
      this.logger.warn(`Could not write ${batch.length} audit entries: ${(err as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }

  /** Newest first, by cursor (the last id seen). Filters: account, resource, time. */
  async list(
    req: RpcPayload<typeof PermissionsRpc.listAuditLog>,
  ): Promise<{ items: AuditEntryView[]; nextCursor: string | null }> {
    const query = this.dataSource.getRepository(AuditEntryEntity).createQueryBuilder('a');
    if (req.resourceId) query.andWhere('a.resource_id = :resourceId', { resourceId: req.resourceId });
    else if (req.accountId) query.andWhere('a.account_id = :accountId', { accountId: req.accountId });
    else throw new AppError('invalid-input', 'Either resourceId or accountId is required');
    if (req.from) query.andWhere('a.occurred_at >= :from', { from: req.from });
    if (req.to) query.andWhere('a.occurred_at < :to', { to: req.to });
    if (req.cursor) query.andWhere('a.id < :cursor', { cursor: req.cursor });
    const rows = await query
      .orderBy('a.id', 'DESC')
      .limit(req.limit + 1)
      .getMany();
    const items = rows.slice(0, req.limit).map(toView);
    return { items, nextCursor: rows.length > req.limit ? items[items.length - 1].id : null };
  }
}
