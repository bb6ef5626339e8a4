import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A resource a scoped API token created: rule 1 lets that token do everything on it. */
@Entity('token_creation')
export class TokenCreationEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  tokenId: string;

  @PrimaryColumn({ type: 'varchar', length: 17 })
  resourceId: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
