import { Column, Entity, Index, MigrationInterface, PrimaryGeneratedColumn, QueryRunner } from 'typeorm';

/** An event written in the same transaction as the change it reports; the relay publishes it. */
@Entity('outbox_message')
@Index('outbox_message_unpublished_idx', ['seq'], { where: 'published_at IS NULL' })
export class OutboxMessageEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  seq: string;

  @Column({ type: 'uuid', unique: true })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'jsonb' })
  payload: unknown;

  @Column({ type: 'timestamptz' })
  occurredAt: Date;

  /** The request whose handling wrote it, carried on to its consumers (see request-context.ts). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  requestId: string | null;

  /** The trace context of the work that wrote it (W3C `traceparent`), when tracing is on. */
  @Column({ type: 'varchar', length: 55, nullable: true })
  traceparent: string | null;

  /** While set and in the future, a relay is publishing the row; after it, another may retry. */
  @Column({ type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  publishedAt: Date | null;
}

/**
 * The migration that adds `request_id` to a service's outbox (one class per service schema, each
 * listed in that service's migrations).
 */
export function outboxRequestIdMigration(schema: string, timestamp: number) {
  return class implements MigrationInterface {
    name = `OutboxRequestId${timestamp}`;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(
        `ALTER TABLE "${schema}"."outbox_message" ADD "request_id" character varying(64)`,
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`ALTER TABLE "${schema}"."outbox_message" DROP COLUMN "request_id"`);
    }
  };
}

/** The migration that adds `traceparent` to a service's outbox (one class per service schema). */
export function outboxTraceparentMigration(schema: string, timestamp: number) {
  return class implements MigrationInterface {
    name = `OutboxTraceparent${timestamp}`;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(
        `ALTER TABLE "${schema}"."outbox_message" ADD "traceparent" character varying(55)`,
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`ALTER TABLE "${schema}"."outbox_message" DROP COLUMN "traceparent"`);
    }
  };
}
