import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Dataset-specific state; the catalogue row (`resource`) holds owner, name and access. */
@Entity('dataset')
export class DatasetEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'integer', default: 0 })
  itemCount: number;

  /** Items that `clean=true` returns: those with a field that is not hidden (`#…`). */
  @Column({ type: 'integer', default: 0 })
  cleanItemCount: number;
}
