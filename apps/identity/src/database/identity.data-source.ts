import { OutboxMessageEntity, ProcessedMessageEntity } from '@atrium/messaging';
import { ServiceDataSourceOptions } from '@atrium/persistence';
import { ApiTokenEntity } from '../api-tokens/api-token.entity';
import { UserEntity } from '../accounts/user.entity';
import { RefreshTokenEntity } from '../sessions/refresh-token.entity';
import { IDENTITY_MIGRATIONS } from './migrations';

export const IDENTITY_SCHEMA = 'identity';

export function identityDataSourceOptions(url: string, poolSize?: number): ServiceDataSourceOptions {
  return {
    schema: IDENTITY_SCHEMA,
    url,
    poolSize,
    entities: [UserEntity, RefreshTokenEntity, ApiTokenEntity, OutboxMessageEntity, ProcessedMessageEntity],
    migrations: IDENTITY_MIGRATIONS,
  };
}
