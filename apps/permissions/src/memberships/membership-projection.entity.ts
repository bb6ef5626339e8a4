import { MembershipBinding, MembershipKind } from '@atrium/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Identity's memberships (organization members, account-collaboration members), with the
 * permissions of their roles already resolved per binding; inactive ones stay so stale events lose.
 */
@Entity('membership_projection')
@Index('membership_projection_user_idx', ['userId', 'active'])
export class MembershipProjectionEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  accountId: string;

  @PrimaryColumn({ type: 'varchar', length: 17 })
  userId: string;

  @PrimaryColumn({ type: 'varchar', length: 20 })
  kind: MembershipKind;

  @Column({ type: 'boolean' })
  active: boolean;

  @Column({ type: 'varchar', length: 300 })
  roleName: string;

  @Column({ type: 'jsonb' })
  bindings: MembershipBinding[];

  @Column({ type: 'integer' })
  version: number;
}
