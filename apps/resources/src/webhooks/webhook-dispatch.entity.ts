import {
  WebhookDispatchCallView,
  WebhookDispatchEventType,
  WebhookDispatchStatus,
  WebhookEventData,
} from '@atrium/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One event to deliver to one webhook, and every call made for it. A dispatcher replica claims an
 * ACTIVE row whose attempt is due (`FOR UPDATE SKIP LOCKED`, then a lease in `claimedUntil`), so
 * no two replicas make the same call.
 */
@Entity('webhook_dispatch')
@Index('webhook_dispatch_webhook_created_idx', ['webhookId', 'createdAt'])
@Index('webhook_dispatch_due_idx', ['nextAttemptAt'], { where: "status = 'ACTIVE'" })
export class WebhookDispatchEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  webhookId: string;

  /** The webhook's owner account. */
  @Column({ type: 'varchar', length: 17 })
  userId: string;

  @Column({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'varchar', length: 20 })
  status: WebhookDispatchStatus;

  @Column({ type: 'varchar', length: 40 })
  eventType: WebhookDispatchEventType;

  @Column({ type: 'jsonb', nullable: true })
  eventData: WebhookEventData | null;

  /** The run or build as it was when the event occurred: the payload's `{{resource}}`, the same on every retry. */
  @Column({ type: 'jsonb', nullable: true })
  resource: object | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  calls: WebhookDispatchCallView[];

  @Column({ type: 'timestamptz' })
  nextAttemptAt: Date;

  /** While in the future, a dispatcher is making a call for this row. */
  @Column({ type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;
}
