import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An environment variable of an Actor version. A secret's value lives in `secretValue`, which no
 * query loads unless it asks for it by name (`select: false`): a path serving readers cannot
 * return it by accident, and `value` is null for every secret.
 */
@Entity('actor_env_var')
export class ActorEnvVarEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  actorId: string;

  @PrimaryColumn({ type: 'varchar', length: 7 })
  versionNumber: string;

  @PrimaryColumn({ type: 'varchar', length: 100 })
  name: string;

  /** Order within the version, as the owner listed them. */
  @Column({ type: 'integer' })
  position: number;

  @Column({ type: 'boolean', default: false })
  isSecret: boolean;

  @Column({ type: 'text', nullable: true })
  value: string | null;

  @Column({ type: 'text', nullable: true, select: false })
  secretValue?: string | null;
}
