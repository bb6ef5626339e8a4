import { ActorJobStatus, BuildView } from '@atrium/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Build-specific state; the catalogue row (`resource`) holds its Actor (`actorId`) and the Actor's owner. */
@Entity('actor_build')
export class BuildEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  /** `MAJOR.MINOR.N`: the version built and the Actor's build counter. */
  @Column({ type: 'varchar', length: 40 })
  buildNumber: string;

  /** Tag the build gets on the Actor once it succeeds (the version's `buildTag`, else `latest`). */
  @Column({ type: 'varchar', length: 100 })
  tag: string;

  @Column({ type: 'varchar', length: 20 })
  status: ActorJobStatus;

  @Column({ type: 'timestamptz' })
  startedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'jsonb' })
  meta: BuildView['meta'];

  @Column({ type: 'jsonb' })
  options: BuildView['options'];

  /** What happened to the build, one timestamped line each (Atrium's builds have no builder output). */
  @Column({ type: 'text', default: '' })
  log: string;

  @Column({ type: 'text', nullable: true })
  inputSchema: string | null;

  @Column({ type: 'jsonb', nullable: true })
  actorDefinition: Record<string, unknown> | null;
}
