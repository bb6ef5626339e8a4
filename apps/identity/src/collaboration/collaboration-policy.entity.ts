import { EnvironmentOperation } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A primary account's custom policy: a named set of environment operations. */
@Entity('collaboration_policy')
@Index('collaboration_policy_primary_name_uq', ['primaryId', 'nameLower'], { unique: true })
export class CollaborationPolicyEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  primaryId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 100 })
  nameLower: string;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  description: string | null;

  @Column({ type: 'text', array: true })
  permissions: EnvironmentOperation[];

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  modifiedAt: Date;
}
