import { Permission, ResourceType } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Access rights given to one user on one resource, optionally until `expiresAt`. */
@Entity('grant')
@Index('grant_resource_subject_uq', ['resourceId', 'subjectId'], { unique: true })
@Index('grant_subject_type_created_idx', ['subjectId', 'resourceType', 'createdAt'])
export class GrantEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 40 })
  resourceType: ResourceType;

  @Column({ type: 'varchar', length: 17 })
  resourceId: string;

  @Column({ type: 'varchar', length: 17 })
  subjectId: string;

  @Column({ type: 'text', array: true })
  permissions: Permission[];

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'varchar', length: 17 })
  grantedBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  modifiedAt: Date;
}
