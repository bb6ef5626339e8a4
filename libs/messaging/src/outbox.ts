import { PollingWorker } from './polling-worker';
import { currentRequestId, withRequestId } from './request-context';
import { currentTraceparent, inSpan, remoteContext, SpanKind } from './tracing';
import { Logger } from '@nestjs/common';
import { EventDefinition, EventEnvelope, EventPayload, MESSAGE_SCHEMA_VERSION } from '@atrium/contracts';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, LessThan } from 'typeorm';
import { EventBus } from './event-bus';
import { unwatchOutbox, watchOutbox } from './messaging-metrics';
import { OutboxMessageEntity } from './outbox-message.entity';

const BATCH_SIZE = 100;
const POLL_INTERVAL_MS = 1000;
const KEEP_PUBLISHED_MS = 60 * 60 * 1000;
/** How long a relay may take to publish a claimed batch before another relay retries it. */
const CLAIM_MS = 30_000;

/** Records an event inside the caller's transaction; it is published only if that transaction commits. */
export async function addToOutbox<E extends EventDefinition>(
  manager: EntityManager,
  event: E,
  payload: EventPayload<E>,
): Promise<void> {
  await addToOutboxReturning(manager, event, payload);
}

/**
 * addToOutbox, returning the envelope it wrote: for a writer whose consumer applies the event
 * before the writer answers (`PermissionsRpc.applyEvents`), by its id, once.
 */
export async function addToOutboxReturning<E extends EventDefinition>(
  manager: EntityManager,
  event: E,
  payload: EventPayload<E>,
): Promise<EventEnvelope<EventPayload<E>>> {
  const checked = event.payload.parse(payload) as EventPayload<E>;
  const envelope = {
    id: randomUUID(),
    name: event.name,
    occurredAt: new Date(),
    payload: checked,
    requestId: currentRequestId(),
  };
  await manager.insert(OutboxMessageEntity, {
    ...envelope,
    requestId: envelope.requestId ?? null,
    traceparent: currentTraceparent() ?? null,
    publishedAt: null,
  });
  return {
    ...envelope,
    occurredAt: envelope.occurredAt.toISOString(),
    schemaVersion: MESSAGE_SCHEMA_VERSION,
  };
}

/**
 * Publishes outbox rows in order, marking them published only after the broker confirmed them.
 * Replicas share the work by claiming batches (`FOR UPDATE SKIP LOCKED`, then a lease). A crash
 * between publish and mark republishes the row when the lease ends; consumers drop the
 * duplicate by its id.
 */
export class OutboxRelay {
  private readonly worker = new PollingWorker(
    () => this.drain(),
    POLL_INTERVAL_MS,
    new Logger('OutboxRelay'),
    'Outbox relay will retry',
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: EventBus,
  ) {}

  /** The outbox's schema: the service it belongs to, in metrics. */
  private get service(): string {
    return (this.dataSource.options as { schema?: string }).schema ?? 'default';
  }

  start(): void {
    watchOutbox(this.service, this.dataSource);
    this.worker.start();
    this.kick();
  }

  /** Publishes pending events now; called after a commit that wrote to the outbox. */
  kick(): void {
    this.worker.kick();
  }

  /** Resolves when everything written so far has been published (or a publish failed). */
  async flush(): Promise<void> {
    await this.worker.idle();
    await this.drain();
  }

  private async drain(): Promise<void> {
    while ((await this.publishBatch()) === BATCH_SIZE) {
      /* keep going while full batches come back */
    }
  }

  private async publishBatch(): Promise<number> {
    if (!this.dataSource.isInitialized) return 0;
    const repository = this.dataSource.getRepository(OutboxMessageEntity);
    // Claim a batch in a short transaction; no database lock is held while the broker is awaited.
    const rows = await this.dataSource.transaction(async (manager) => {
      const claimed = await manager
        .getRepository(OutboxMessageEntity)
        .createQueryBuilder('o')
        .where('o.published_at IS NULL')
        .andWhere('(o.claimed_until IS NULL OR o.claimed_until < now())')
        .orderBy('o.seq', 'ASC')
        .limit(BATCH_SIZE)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      if (claimed.length) {
        await manager.update(
          OutboxMessageEntity,
          claimed.map((r) => r.seq),
          {
            claimedUntil: new Date(Date.now() + CLAIM_MS),
          },
        );
      }
      return claimed;
    });
    try {
      for (const row of rows) await this.publishRow(row);
    } catch (err) {
      await repository.update(
        rows.map((r) => r.seq),
        { claimedUntil: null },
      );
      throw err;
    }
    if (rows.length) {
      await repository.update(
        rows.map((r) => r.seq),
        { publishedAt: new Date() },
      );
      await repository.delete({ publishedAt: LessThan(new Date(Date.now() - KEEP_PUBLISHED_MS)) });
    }
    return rows.length;
  }

  /** Publishes one row as part of the request (and trace) that wrote it. */
  private publishRow(row: OutboxMessageEntity): Promise<void> {
    return withRequestId(row.requestId ?? undefined, () =>
      inSpan(
        `publish ${row.name}`,
        SpanKind.PRODUCER,
        {
          'messaging.system': 'rabbitmq',
          'messaging.destination.name': row.name,
          'messaging.message.id': row.id,
        },
        () => {
          const traceparent = currentTraceparent();
          return this.bus.publish({
            id: row.id,
            name: row.name,
            occurredAt: row.occurredAt.toISOString(),
            payload: row.payload,
            ...(row.requestId && { requestId: row.requestId }),
            ...(traceparent && { traceparent }),
            schemaVersion: MESSAGE_SCHEMA_VERSION,
          });
        },
        remoteContext(row.traceparent),
      ),
    );
  }

  stop(): Promise<void> {
    unwatchOutbox(this.service, this.dataSource);
    return this.worker.stop();
  }
}
