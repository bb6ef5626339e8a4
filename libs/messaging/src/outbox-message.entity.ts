import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

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

  /** While set and in the future, a relay is publishing the row; after it, another may retry. */
  @Column({ type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  publishedAt: Date | null;
}
