import { OutboxMessageEntity, ProcessedMessageEntity } from '@atrium/messaging';
import { ServiceDataSourceOptions } from '@atrium/persistence';
import { ResourceEntity } from '../catalogue/resource.entity';
import { DatasetItemEntity } from '../datasets/dataset-item.entity';
import { DatasetEntity } from '../datasets/dataset.entity';
import { RESOURCES_MIGRATIONS } from './migrations';

export const RESOURCES_SCHEMA = 'resources';

export function resourcesDataSourceOptions(url: string, poolSize?: number): ServiceDataSourceOptions {
  return {
    schema: RESOURCES_SCHEMA,
    url,
    poolSize,
    entities: [ResourceEntity, DatasetEntity, DatasetItemEntity, OutboxMessageEntity, ProcessedMessageEntity],
    migrations: RESOURCES_MIGRATIONS,
  };
}
