import { OutboxMessageEntity, ProcessedMessageEntity } from '@atrium/messaging';
import { ServiceDataSourceOptions } from '@atrium/persistence';
import { ActorTaskEntity } from '../actor-tasks/actor-task.entity';
import { ActorEntity } from '../actors/actor.entity';
import { ActorEnvVarEntity } from '../actor-versions/actor-env-var.entity';
import { ActorVersionEntity } from '../actor-versions/actor-version.entity';
import { AppAnnotationEntity } from '../apps/app-annotation.entity';
import { AppCollaboratorEntity } from '../apps/app-collaborator.entity';
import { AppComponentEntity } from '../apps/app-component.entity';
import { AppConceptEntity } from '../apps/app-concept.entity';
import { AppInputEntity } from '../apps/app-input.entity';
import { AppModelVersionEntity } from '../apps/app-model-version.entity';
import { AppModelEntity } from '../apps/app-model.entity';
import { AppEntity } from '../apps/app.entity';
import { BuildEntity } from '../builds/build.entity';
import { ResourceEntity } from '../catalogue/resource.entity';
import { RunEntity } from '../runs/run.entity';
import { DatasetItemEntity } from '../datasets/dataset-item.entity';
import { DatasetEntity } from '../datasets/dataset.entity';
import { EnvironmentGroupEntity } from '../environments/environment-group.entity';
import { EnvironmentEntity } from '../environments/environment.entity';
import { KeyValueRecordEntity } from '../key-value-stores/key-value-record.entity';
import { KeyValueStoreEntity } from '../key-value-stores/key-value-store.entity';
import { QueueRequestEntity } from '../request-queues/queue-request.entity';
import { RequestQueueEntity } from '../request-queues/request-queue.entity';
import { ScheduleLogEntryEntity } from '../schedules/schedule-log-entry.entity';
import { ScheduleEntity } from '../schedules/schedule.entity';
import { AccountUsageEntity } from '../usage/account-usage.entity';
import { ResourceUsageEntity } from '../usage/resource-usage.entity';
import { UsageLedgerEntryEntity } from '../usage/usage-ledger-entry.entity';
import { WebhookDispatchEntity } from '../webhooks/webhook-dispatch.entity';
import { WebhookEntity } from '../webhooks/webhook.entity';
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
      ActorVersionEntity,
      ActorEnvVarEntity,
      BuildEntity,
      ActorTaskEntity,
      ScheduleEntity,
      ScheduleLogEntryEntity,
      KeyValueStoreEntity,
      KeyValueRecordEntity,
      RequestQueueEntity,
      QueueRequestEntity,
      RunEntity,
      AppEntity,
      AppInputEntity,
      AppAnnotationEntity,
      AppConceptEntity,
      AppModelEntity,
      AppModelVersionEntity,
      AppComponentEntity,
      AppCollaboratorEntity,
      AccountUsageEntity,
      ResourceUsageEntity,
      UsageLedgerEntryEntity,
      WebhookEntity,
      WebhookDispatchEntity,
      EnvironmentEntity,
      EnvironmentGroupEntity,
      OutboxMessageEntity,
      ProcessedMessageEntity,
    ],
    migrations: RESOURCES_MIGRATIONS,
  };
}
