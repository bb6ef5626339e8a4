import { GeneralAccess, ResourceType } from '@atrium/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The resources service's catalogue facts; a deleted resource stays as a tombstone so stale events lose. */
@Entity('resource_projection')
@Index('resource_projection_owner_type_name_idx', ['ownerId', 'type', 'name'])
// sharedWithMe: the default storages of the runs shared with a user, from those runs' ids.
@Index('resource_projection_run_idx', ['runId'], { where: '"run_id" IS NOT NULL' })
export class ResourceProjectionEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 40 })
  type: ResourceType;

  @Column({ type: 'varchar', length: 17 })
  ownerId: string;

  @Column({ type: 'varchar', length: 63, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 40 })
  generalAccess: GeneralAccess;

  @Column({ type: 'boolean', default: false })
  isPublic: boolean;

  @Column({ type: 'varchar', length: 17, nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 17, nullable: true })
  taskId: string | null;

  @Column({ type: 'varchar', length: 17, nullable: true })
  runId: string | null;

  @Column({ type: 'varchar', length: 17, nullable: true })
  groupId: string | null;

  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'boolean', default: false })
  deleted: boolean;
}
