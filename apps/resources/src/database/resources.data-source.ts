import { OutboxMessageEntity, ProcessedMessageEntity } from '@atrium/messaging';
import { ServiceDataSourceOptions } from '@atrium/persistence';
import { ActorTaskEntity } from '../actor-tasks/actor-task.entity';
import { ActorEntity } from '../actors/actor.entity';
import { BuildEntity } from '../builds/build.entity';
import { ResourceEntity } from '../catalogue/resource.entity';
import { RunEntity } from '../runs/run.entity';
import { DatasetItemEntity } from '../datasets/dataset-item.entity';
import { DatasetEntity } from '../datasets/dataset.entity';
import { KeyValueRecordEntity } from '../key-value-stores/key-value-record.entity';
import { KeyValueStoreEntity } from '../key-value-stores/key-value-store.entity';
import { QueueRequestEntity } from '../request-queues/queue-request.entity';
import { RequestQueueEntity } from '../request-queues/request-queue.entity';
import { ScheduleEntity } from '../schedules/schedule.entity';
import { RESOURCES_MIGRATIONS } from './migrations';

export const RESOURCES_SCHEMA = 'resources';

export function resourcesDataSourceOptions(url: string, poolSize?: number): ServiceDataSourceOptions {
  return {
    schema: RESOURCES_SCHEMA,
    url,
    poolSize,
    entities: [
      ResourceEntity,
      DatasetEntity,
      DatasetItemEntity,
      ActorEntity,
      BuildEntity,
      ActorTaskEntity,
      ScheduleEntity,
      KeyValueStoreEntity,
      KeyValueRecordEntity,
      RequestQueueEntity,
      QueueRequestEntity,
      RunEntity,
      OutboxMessageEntity,
      ProcessedMessageEntity,
    ],
    migrations: RESOURCES_MIGRATIONS,
  };
}
