import { ActorRunOptions } from '@atrium/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Task-specific state; the catalogue row (`resource`) holds owner, name and its Actor (`actorId`). */
@Entity('actor_task')
export class ActorTaskEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  title: string | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  options: ActorRunOptions;

  @Column({ type: 'jsonb', nullable: true })
  input: Record<string, unknown> | null;
}
