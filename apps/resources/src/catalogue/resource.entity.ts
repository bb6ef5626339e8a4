import { GeneralAccess, ResourceType } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** The catalogue row every resource has, whatever its type: owner, name, general access. */
@Entity('resource')
@Index('resource_owner_type_name_uq', ['ownerId', 'type', 'name'], {
  unique: true,
  where: 'name IS NOT NULL',
})
@Index('resource_owner_type_created_idx', ['ownerId', 'type', 'createdAt'])
export class ResourceEntity {
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

  /** Actors only. */
  @Column({ type: 'boolean', default: false })
  isPublic: boolean;

  /** The Actor of a run, build or task; the task of a task's run; the run of a run's default storage. */
  @Index('resource_actor_idx')
  @Column({ type: 'varchar', length: 17, nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 17, nullable: true })
  taskId: string | null;

  @Column({ type: 'varchar', length: 17, nullable: true })
  runId: string | null;

  /** Environments: their group; environment groups: their parent group. */
  @Index('resource_group_idx')
  @Column({ type: 'varchar', length: 17, nullable: true })
  groupId: string | null;

  /** Key for pre-signed URLs of this resource's content. */
  @Column({ type: 'varchar', length: 64 })
  signingKey: string;

  /** Bumped on every change the permissions service projects, so stale events lose. */
  @Column({ type: 'integer', default: 1 })
  version: number;

  @Column({ type: 'varchar', length: 17 })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  modifiedAt: Date;
}
