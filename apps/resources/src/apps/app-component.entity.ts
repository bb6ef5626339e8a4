import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const APP_COMPONENT_KINDS = ['workflows', 'tasks', 'collectors', 'vocabs'] as const;
export type AppComponentKind = (typeof APP_COMPONENT_KINDS)[number];

/**
 * A workflow, labeling task, collector or vocabulary of an app: named, and made of references to
 * the app's models (workflows, collectors) or concepts (tasks, vocabularies).
 */
@Entity('app_component')
@Index('app_component_app_kind_created_idx', ['appId', 'kind', 'createdAt'])
export class AppComponentEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  appId: string;

  @Column({ type: 'varchar', length: 20 })
  kind: AppComponentKind;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'text', array: true })
  modelIds: string[];

  @Column({ type: 'text', array: true })
  conceptIds: string[];

  @Column({ type: 'varchar', length: 100 })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
