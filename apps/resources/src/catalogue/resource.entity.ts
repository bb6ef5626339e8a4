import { GeneralAccess, ResourceType } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** The catalogue row every resource has, whatever its type: owner, name, general access. */
@Entity('resource')
@Index('resource_owner_type_name_uq', ['ownerId', 'type', 'name'], { unique: true, where: 'name IS NOT NULL' })
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
