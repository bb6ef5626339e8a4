import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Ids of events a consumer has applied: a redelivered event is recognised and skipped. */
@Entity('processed_message')
export class ProcessedMessageEntity {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  consumer: string;

  @PrimaryColumn({ type: 'uuid' })
  messageId: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  processedAt: Date;
}
