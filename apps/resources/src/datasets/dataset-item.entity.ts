import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('dataset_item')
export class DatasetItemEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  datasetId: string;

  /** Position in the dataset, from 0, in push order. */
  @PrimaryColumn({ type: 'integer' })
  position: number;

  /** `json`, not `jsonb`: the item's keys stay in the order they were pushed, as Apify keeps them. */
  @Column({ type: 'json' })
  data: object;
}
