import { HttpMethod } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './request-queue.entity';

@Entity('queue_request')
@Index('queue_request_unique_key_uq', ['queueId', 'uniqueKeyHash'], { unique: true })
@Index('queue_request_head_idx', ['queueId', 'orderNo'], { where: 'order_no IS NOT NULL' })
@Index('queue_request_queue_id_idx', ['queueId', 'id'])
@Index('queue_request_lock_idx', ['queueId', 'lockExpiresAt'], { where: 'lock_expires_at IS NOT NULL' })
export class QueueRequestEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  queueId: string;

  /** SHA-256 of uniqueKey: unique per queue however long the key (a B-tree entry is bounded). */
  @Column({ type: 'varchar', length: 64 })
  uniqueKeyHash: string;

  @Column({ type: 'text' })
  uniqueKey: string;

  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'varchar', length: 10 })
  method: HttpMethod;

  @Column({ type: 'text', nullable: true })
  payload: string | null;

  @Column({ type: 'jsonb' })
  userData: object;

  @Column({ type: 'jsonb', nullable: true })
  headers: Record<string, string> | null;

  @Column({ type: 'integer', default: 0 })
  retryCount: number;

  @Column({ type: 'boolean', default: false })
  noRetry: boolean;

  @Column({ type: 'jsonb' })
  errorMessages: string[];

  @Column({ type: 'text', nullable: true })
  loadedUrl: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  handledAt: Date | null;

  /** Position in the queue's head; null once handled. */
  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  orderNo: number | null;

  /**
   * Until when a client holds the request (listAndLockHead, prolongRequestLock): a lock holds while
   * this is after the database's now(), on whichever replica asks. Null when never or no more held.
   */
  @Column({ type: 'timestamptz', nullable: true })
  lockExpiresAt: Date | null;

  /** The holder's client key (Apify's `clientKey`, or one made for a caller that sent none). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  lockClientKey: string | null;

  /** The run whose token took the lock: the run may prolong or drop it whatever key it sends. */
  @Column({ type: 'varchar', length: 17, nullable: true })
  lockRunId: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
