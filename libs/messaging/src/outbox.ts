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
/** How often a relay deletes what it published more than KEEP_PUBLISHED_MS ago. */
const PRUNE_EVERY_MS = 60 * 1000;
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

/** What the relay reads of a claimed row. */
type ClaimedMessage = Pick<
  OutboxMessageEntity,
  'seq' | 'id' | 'name' | 'payload' | 'occurredAt' | 'requestId' | 'traceparent'
>;

interface ClaimedRow {
  seq: string;
  id: string;
  name: string;
  payload: unknown;
  occurred_at: Date;
  request_id: string | null;
  traceparent: string | null;
}

/**
 * One statement (its own transaction) that claims the next batch: rows neither published nor
 * leased to a live claim, locked without waiting for another relay's (`SKIP LOCKED`), leased for
 * CLAIM_MS, and returned in order.
 */
function claimStatement(table: string): string {
  return `
    WITH claimed AS (
      UPDATE ${table} SET claimed_until = now() + interval '${CLAIM_MS} milliseconds'
      WHERE seq IN (
        SELECT seq FROM ${table}
        WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY seq LIMIT ${BATCH_SIZE}
        FOR UPDATE SKIP LOCKED)
      RETURNING seq, id, name, payload, occurred_at, request_id, traceparent)
    SELECT * FROM claimed ORDER BY seq`;
}

function fromClaimedRow(row: ClaimedRow): ClaimedMessage {
  return {
    seq: row.seq,
    id: row.id,
    name: row.name,
    payload: row.payload,
    occurredAt: row.occurred_at,
    requestId: row.request_id,
    traceparent: row.traceparent,
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

  private claimSql: string | undefined;
  /** When published rows past KEEP_PUBLISHED_MS are next deleted (after a batch). */
  private pruneAfter = 0;

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
    // Claims a batch in one statement (no database lock is held while the broker is awaited):
    // the oldest rows no relay holds, leased for CLAIM_MS, in order.
    this.claimSql ??= claimStatement(repository.metadata.tablePath);
    const rows = (await this.dataSource.query<ClaimedRow[]>(this.claimSql)).map(fromClaimedRow);
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
      // Published rows are kept KEEP_PUBLISHED_MS; pruned now and then, not after every batch.
      if (Date.now() >= this.pruneAfter) {
        this.pruneAfter = Date.now() + PRUNE_EVERY_MS;
        await repository.delete({ publishedAt: LessThan(new Date(Date.now() - KEEP_PUBLISHED_MS)) });
      }
    }
    return rows.length;
  }

  /** Publishes one row as part of the request (and trace) that wrote it. */
  private publishRow(row: ClaimedMessage): Promise<void> {
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
