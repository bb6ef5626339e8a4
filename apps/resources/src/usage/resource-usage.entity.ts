import { ResourceType } from '@atrium/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint-as-number';

/**
 * What one resource holds of its owner's usage: it counts for the user who created it, with the
 * bytes stored in it; released when the resource is removed.
 */
@Entity('resource_usage')
@Index('resource_usage_account_idx', ['accountId', 'createdBy'])
export class ResourceUsageEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  resourceId: string;

  @Column({ type: 'varchar', length: 17 })
  accountId: string;

  @Column({ type: 'varchar', length: 40 })
  type: ResourceType;

  @Column({ type: 'varchar', length: 17 })
  createdBy: string;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  storageBytes: number;
}
