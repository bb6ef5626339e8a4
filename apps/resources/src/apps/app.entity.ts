import { Column, Entity, PrimaryColumn } from 'typeorm';

/** App-specific state; the catalogue row (`resource`, type APP) holds owner and name. */
@Entity('app')
export class AppEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;
}
