import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('key_value_record')
export class KeyValueRecordEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  storeId: string;

  /** Byte-wise ("C") collation: listing order and `exclusiveStartKey` agree whatever the locale. */
  @PrimaryColumn({ type: 'varchar', length: 256, collation: 'C' })
  key: string;

  @Column({ type: 'bytea' })
  value: Buffer;

  @Column({ type: 'varchar', length: 255 })
  contentType: string;

  @Column({ type: 'integer' })
  size: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  modifiedAt: Date;
}
