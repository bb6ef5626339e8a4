import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A primary account's collaboration role: policies (system or the primary's custom ones) combined. */
@Entity('collaboration_role')
@Index('collaboration_role_primary_name_uq', ['primaryId', 'nameLower'], { unique: true })
export class CollaborationRoleEntity {
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
  policyIds: string[];

  @Column({ type: 'boolean', default: false })
  receiveNotifications: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  modifiedAt: Date;
}
