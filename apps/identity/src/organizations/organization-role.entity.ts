import { BuiltInRole, RolePermissions } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A named set of permissions of one organization; each member holds exactly one. */
@Entity('organization_role')
@Index('organization_role_name_uq', ['organizationId', 'nameLower'], { unique: true })
export class OrganizationRoleEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  organizationId: string;

  @Column({ type: 'varchar', length: 50 })
  name: string;

  @Column({ type: 'varchar', length: 50 })
  nameLower: string;

  /** The four roles an organization starts with; null for custom roles. OWNER is fixed. */
  @Column({ type: 'varchar', length: 20, nullable: true })
  builtIn: BuiltInRole | null;

  /** As stored; the Owner's effective permissions are always all of them. */
  @Column({ type: 'jsonb' })
  permissions: RolePermissions;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
