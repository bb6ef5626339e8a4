import { ActorSourceType, ActorVersionView } from '@atrium/contracts';
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One version of an Actor's source (`MAJOR.MINOR`); its environment variables are rows of their own. */
@Entity('actor_version')
export class ActorVersionEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  actorId: string;

  @PrimaryColumn({ type: 'varchar', length: 7 })
  versionNumber: string;

  @Column({ type: 'varchar', length: 20 })
  sourceType: ActorSourceType;

  @Column({ type: 'boolean', default: false })
  applyEnvVarsToBuild: boolean;

  @Column({ type: 'varchar', length: 100, nullable: true })
  buildTag: string | null;

  /** Only the field of its `sourceType` is kept. */
  @Column({ type: 'jsonb', nullable: true })
  sourceFiles: ActorVersionView['sourceFiles'] | null;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  gitRepoUrl: string | null;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  tarballUrl: string | null;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  gitHubGistUrl: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
