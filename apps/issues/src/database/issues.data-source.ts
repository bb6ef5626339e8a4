import { OutboxMessageEntity, ProcessedMessageEntity } from '@atrium/messaging';
import { ServiceDataSourceOptions } from '@atrium/persistence';
import { ISSUES_MIGRATIONS } from './migrations';

export const ISSUES_SCHEMA = 'issues';

export function issuesDataSourceOptions(url: string, poolSize?: number): ServiceDataSourceOptions {
  return {
    schema: ISSUES_SCHEMA,
    url,
    poolSize,
    entities: [OutboxMessageEntity, ProcessedMessageEntity],
    migrations: ISSUES_MIGRATIONS,
  };
}
