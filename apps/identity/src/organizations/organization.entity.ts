import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An organization: an account (its `user_account` row, kind ORGANIZATION, shares the id) owned
 * by the user who created it. Deleting one keeps its account row, so its username is never
 * taken over by someone else while references to its resources may still name it.
 */
@Entity('organization')
export class OrganizationEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  /** The creator; ownership stays with them. */
  @Index('organization_owner_idx')
  @Column({ type: 'varchar', length: 17 })
  ownerId: string;

  @Column({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
