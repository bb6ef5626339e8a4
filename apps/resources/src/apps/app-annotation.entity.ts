import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** Says which of the app's concepts an input shows: what models learn from and searches find. */
@Entity('app_annotation')
@Index('app_annotation_app_created_idx', ['appId', 'createdAt'])
@Index('app_annotation_input_idx', ['inputId'])
export class AppAnnotationEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 17 })
  appId: string;

  @Column({ type: 'varchar', length: 17 })
  inputId: string;

  @Column({ type: 'text', array: true })
  conceptIds: string[];

  @Column({ type: 'varchar', length: 100 })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
