import { EnvironmentStatus } from '@atrium/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

export interface StoredDeployment {
  id: string;
  artifact: string;
  deployedBy: string;
  deployedAt: string;
}

export interface StoredLogLine {
  at: string;
  message: string;
}

/** An environment's state beside its catalogue row (same id): status, settings, deployments, log. */
@Entity('environment')
export class EnvironmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 20 })
  status: EnvironmentStatus;

  @Column({ type: 'varchar', length: 40 })
  region: string;

  @Column({ type: 'jsonb' })
  config: Record<string, unknown>;

  /** Newest last; only the latest ones are kept. */
  @Column({ type: 'jsonb' })
  deployments: StoredDeployment[];

  /** Newest last; only the latest lines are kept. */
  @Column({ type: 'jsonb' })
  log: StoredLogLine[];
}
