import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * The personal access token an app collaborator was given, so that removing the collaborator
 * revokes it. What the collaborator may do is its grant (the permissions service).
 */
@Entity('app_collaborator')
export class AppCollaboratorEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  appId: string;

  @PrimaryColumn({ type: 'varchar', length: 100 })
  userId: string;

  @Column({ type: 'varchar', length: 17 })
  tokenId: string;

  @Column({ type: 'varchar', length: 100 })
  addedBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
