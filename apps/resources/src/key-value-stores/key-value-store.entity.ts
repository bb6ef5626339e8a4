import { Column, Entity, PrimaryColumn } from 'typeorm';

/** PostgreSQL returns bigint as a string; the totals here stay far below 2^53. */
const bigintAsNumber = { to: (v: number) => v, from: (v: string | number) => Number(v) };

/** Store-specific state; the catalogue row (`resource`) holds owner, name and access. */
@Entity('key_value_store')
export class KeyValueStoreEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'integer', default: 0 })
  recordCount: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  storageBytes: number;

  /** Last change of the store's content (the catalogue row's time covers name and access). */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  contentModifiedAt: Date;
}
