import { Column, Entity, PrimaryColumn } from 'typeorm';

/** PostgreSQL returns bigint as a string; order numbers stay far below 2^53. */
export const bigintAsNumber = {
  to: (v: number | null) => v,
  from: (v: string | number | null) => (v === null ? null : Number(v)),
};

/** Queue-specific state; the catalogue row (`resource`) holds owner, name and access. */
@Entity('request_queue')
export class RequestQueueEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'integer', default: 0 })
  totalRequestCount: number;

  @Column({ type: 'integer', default: 0 })
  handledRequestCount: number;

  /** Order numbers handed out so far: forefront requests take ever lower ones, others ever higher. */
  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  lowestOrderNo: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  highestOrderNo: number;

  /**
   * The first client that wrote or locked ('' for one without a `clientKey`, which counts as a new
   * client each time); `hadMultipleClients` turns true for good when another one comes.
   */
  @Column({ type: 'varchar', length: 32, nullable: true })
  clientKey: string | null;

  @Column({ type: 'boolean', default: false })
  hadMultipleClients: boolean;

  /** Last change of the queue's requests (the catalogue row's time covers name and access). */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  contentModifiedAt: Date;
}
