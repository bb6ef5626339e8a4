import { WebhookEventType } from '@atrium/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An account's webhook: which events of which Actor, task or run it watches (one condition
 * column set) and where it posts them. Not a catalogue resource: who may see or edit it follows
 * from its owner and from access to its condition's target (decided by the gateway).
 */
@Entity('webhook')
@Index('webhook_user_created_idx', ['userId', 'createdAt'])
@Index('webhook_condition_actor_idx', ['conditionActorId'], { where: 'condition_actor_id IS NOT NULL' })
@Index('webhook_condition_task_idx', ['conditionActorTaskId'], {
  where: 'condition_actor_task_id IS NOT NULL',
})
@Index('webhook_condition_run_idx', ['conditionActorRunId'], { where: 'condition_actor_run_id IS NOT NULL' })
@Index('webhook_user_idempotency_key_uq', ['userId', 'idempotencyKey'], {
  unique: true,
  where: 'idempotency_key IS NOT NULL',
})
export class WebhookEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  /** The owner account (the creator's, or the organization its token acts as). */
  @Column({ type: 'varchar', length: 17 })
  userId: string;

  /** The user who created it; it fires only while this user may write to the condition's target. */
  @Column({ type: 'varchar', length: 17 })
  createdBy: string;

  @Column({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz' })
  modifiedAt: Date;

  @Column({ type: 'boolean' })
  isAdHoc: boolean;

  @Column({ type: 'jsonb' })
  eventTypes: WebhookEventType[];

  @Column({ type: 'varchar', length: 17, nullable: true })
  conditionActorId: string | null;

  @Column({ type: 'varchar', length: 17, nullable: true })
  conditionActorTaskId: string | null;

  @Column({ type: 'varchar', length: 17, nullable: true })
  conditionActorRunId: string | null;

  @Column({ type: 'boolean' })
  ignoreSslErrors: boolean;

  @Column({ type: 'boolean' })
  doNotRetry: boolean;

  @Column({ type: 'varchar', length: 2000 })
  requestUrl: string;

  @Column({ type: 'text' })
  payloadTemplate: string;

  @Column({ type: 'text', nullable: true })
  headersTemplate: string | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  description: string | null;

  @Column({ type: 'boolean' })
  shouldInterpolateStrings: boolean;

  @Column({ type: 'boolean' })
  isApifyIntegration: boolean;

  @Column({ type: 'varchar', length: 256, nullable: true })
  idempotencyKey: string | null;
}
