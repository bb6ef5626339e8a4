import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A concept of an app, under the id its users gave it ("dog"). */
@Entity('app_concept')
export class AppConceptEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  appId: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 100 })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
