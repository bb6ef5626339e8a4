import { Logger } from '@nestjs/common';
import { EventDefinition, EventEnvelope, EventPayload, safeParseInternal } from '@atrium/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { EventHandler, PoisonMessageError } from './event-bus';
import { ProcessedMessageEntity } from './processed-message.entity';
import { noteSchemaVersion } from './schema-version';

const logger = new Logger('Events');

export type EventWork<E extends EventDefinition> = (
  payload: EventPayload<E>,
  manager: EntityManager,
) => Promise<void>;

/** One handler per event: validated payload, applied in a transaction that also records the event id. */
export class EventHandlers {
  private readonly handlers = new Map<string, { event: EventDefinition; work: EventWork<EventDefinition> }>();

  constructor(
    private readonly dataSource: DataSource,
    readonly consumer: string,
  ) {}

  on<E extends EventDefinition>(event: E, work: EventWork<E>): this {
    this.handlers.set(event.name, { event, work: work as EventWork<EventDefinition> });
    return this;
  }

  get eventNames(): string[] {
    return [...this.handlers.keys()];
  }

  /** The bus-facing handler: exactly one effect per event id, whatever the redeliveries. */
  readonly handle: EventHandler = async (envelope: EventEnvelope) => {
    const entry = this.handlers.get(envelope.name);
    if (!entry) throw new PoisonMessageError(`${this.consumer} has no handler for ${envelope.name}`);
    noteSchemaVersion('event', envelope.name, envelope.schemaVersion);
    // Read tolerantly: a publisher of another release may send fields this one does not know.
    const parsed = safeParseInternal(entry.event.payload, envelope.payload);
    if (!parsed.success)
      throw new PoisonMessageError(`Invalid ${envelope.name} payload: ${parsed.error.message}`);
    if (!/^[0-9a-f-]{36}$/i.test(envelope.id))
      throw new PoisonMessageError(`Invalid event id ${envelope.id}`);
    const started = performance.now();
    const applied = await this.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(ProcessedMessageEntity)
        .values({ consumer: this.consumer, messageId: envelope.id })
        .orIgnore()
        .returning(['messageId'])
        .execute();
      if (!inserted.raw.length) return false; // already applied
      await entry.work(parsed.data, manager);
      return true;
    });
    // One debug line per event, under the request that caused it (see request-context.ts).
    logger.debug(
      `${this.consumer} ${applied ? 'applied' : 'had already applied'} ${envelope.name} in ${(performance.now() - started).toFixed(1)} ms`,
    );
  };
}
