import { AccountGeneralAccess } from '@atrium/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Identity's account facts, as far as decisions need them. */
@Entity('account_projection')
export class AccountProjectionEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;

  @Column({ type: 'varchar', length: 30 })
  username: string;

  @Index('account_projection_username_lower_idx')
  @Column({ type: 'varchar', length: 30 })
  usernameLower: string;

  @Column({ type: 'varchar', length: 40 })
  generalResourceAccess: AccountGeneralAccess;

  @Column({ type: 'boolean', default: false })
  shareRunsWithPublicActorCreators: boolean;

  @Column({ type: 'integer' })
  version: number;
}
