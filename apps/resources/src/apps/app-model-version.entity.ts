import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** What one training of a model learned: predictions use the latest version as it was trained. */
@Entity('app_model_version')
@Index('app_model_version_uq', ['modelId', 'version'], { unique: true })
export class AppModelVersionEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  modelId: string;

  @Column({ type: 'varchar', length: 17 })
  appId: string;

  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'text', array: true })
  conceptIds: string[];

  /** The annotated inputs it learned from. */
  @Column({ type: 'text', array: true })
  inputIds: string[];

  /** Per concept: its name and the words of its examples, as learned. */
  @Column({ type: 'jsonb' })
  concepts: { id: string; name: string; examples: number; words: string[] }[];

  @Column({ type: 'varchar', length: 100 })
  trainedBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
