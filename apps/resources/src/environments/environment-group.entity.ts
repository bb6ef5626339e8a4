import { Entity, PrimaryColumn } from 'typeorm';

/**
 * An environment group beside its catalogue row (same id). The catalogue's `groupId` holds the
 * parent group, so that the permissions service sees the parent chain in the resource facts.
 */
@Entity('environment_group')
export class EnvironmentGroupEntity {
  @PrimaryColumn({ type: 'varchar', length: 17 })
  id: string;
}
