import { ActorRunOptions, TaggedBuildView } from '@atrium/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Actor-specific state; the catalogue row (`resource`) holds owner, name and `isPublic`, and its
 * versions are rows of `actor_version` (actor-versions/).
 */
@Entity('actor')
export class ActorEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  title: string | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'boolean', default: false })
  isDeprecated: boolean;

  @Column({ type: 'varchar', length: 200, nullable: true })
  seoTitle: string | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  seoDescription: string | null;

  @Column({ type: 'jsonb', default: () => `'[]'::jsonb` })
  categories: string[];

  /** Only the options the owner set; Apify's defaults fill the rest when read. */
  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  defaultRunOptions: ActorRunOptions;

  @Column({ type: 'jsonb', nullable: true })
  exampleRunInput: { body: string; contentType: string } | null;

  /** Tag → the last build that succeeded with it. */
  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  taggedBuilds: Record<string, TaggedBuildView>;

  /** Builds created so far: the last part of the next build number. */
  @Column({ type: 'integer', default: 0 })
  buildCount: number;
}
