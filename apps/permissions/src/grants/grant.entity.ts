import { Permission, ResourceType } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Access rights given to one user on one resource, optionally from `notBefore` and until `expiresAt`. */
@Entity('grant')
@Index('grant_resource_subject_uq', ['resourceId', 'subjectId'], { unique: true })
// Who has access: a resource's grants in id order (keyset pages).
@Index('grant_resource_id_idx', ['resourceId', 'id'])
@Index('grant_subject_type_created_idx', ['subjectId', 'resourceType', 'createdAt'])
// sharedWithMe: a subject's grants of a type in id order (count and keyset pages from the index).
@Index('grant_subject_type_resource_idx', ['subjectId', 'resourceType', 'resourceId'])
// The expired grant sweep (ExpiredGrantSweeper): only grants with an expiry, oldest first.
@Index('grant_expires_at_idx', ['expiresAt'], { where: '"expires_at" IS NOT NULL' })
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

  /** The grant applies from then on; null: at once. */
  @Column({ type: 'timestamptz', nullable: true })
  notBefore: Date | null;

  @Column({ type: 'varchar', length: 17 })
  grantedBy: string;

  /** What gave the grant when it was not given by hand, e.g. `ACTOR_ISSUE` and the id. */
  @Column({ type: 'varchar', length: 40, nullable: true }) sourceType: string | null;
  @Column({ type: 'varchar', length: 17, nullable: true }) sourceId: string | null;
  /** Given as a side effect (a run attached to an issue), not by sharing the resource. */
  @Column({ type: 'boolean', default: false }) hidden: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  modifiedAt: Date;
}
