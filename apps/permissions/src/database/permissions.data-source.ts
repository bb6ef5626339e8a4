import { OutboxMessageEntity, ProcessedMessageEntity } from '@atrium/messaging';
import { ServiceDataSourceOptions } from '@atrium/persistence';
import { AuditEntryEntity } from '../audit/audit-entry.entity';
import { GrantEntity } from '../grants/grant.entity';
import { AccountProjectionEntity } from '../projections/account-projection.entity';
import { MembershipProjectionEntity } from '../memberships/membership-projection.entity';
import { TokenCreationEntity } from '../token-creations/token-creation.entity';
import { ResourceProjectionEntity } from '../projections/resource-projection.entity';
import { PERMISSIONS_MIGRATIONS } from './migrations';

export const PERMISSIONS_SCHEMA = 'permissions';

export function permissionsDataSourceOptions(url: string, poolSize?: number): ServiceDataSourceOptions {
  return {
    schema: PERMISSIONS_SCHEMA,
    url,
    poolSize,
    entities: [
      AuditEntryEntity,
      GrantEntity,
      AccountProjectionEntity,
      ResourceProjectionEntity,
      MembershipProjectionEntity,
      TokenCreationEntity,
      OutboxMessageEntity,
      ProcessedMessageEntity,
    ],
    migrations: PERMISSIONS_MIGRATIONS,
  };
}
