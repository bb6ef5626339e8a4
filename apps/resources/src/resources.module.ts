import { ActorVersionsMessageController } from './actor-versions/actor-versions.message.controller';
import { ActorVersionsService } from './actor-versions/actor-versions.service';
import { DynamicModule, Module } from '@nestjs/common';
import {
  ACTOR_TASKS,
  DATASETS,
  ENVIRONMENT_GROUPS,
  ENVIRONMENTS,
  KEY_VALUE_STORES,
  REQUEST_QUEUES,
  ResourcesRpc,
  SCHEDULES,
} from '@atrium/contracts';
import { RunsMessageController } from './runs/runs.message.controller';
import { RunsService } from './runs/runs.service';
import { RunLeasesMessageController } from './runs/run-leases.message.controller';
import { RunLeasesService } from './runs/run-leases.service';
import { ResourcesConfig } from '@atrium/config';
import { healthControllerFor, MessagingModule, ServiceOutboxRelay } from '@atrium/messaging';
import { changeVersionControllerFor, PersistenceModule } from '@atrium/persistence';
import { AppContentsService } from './apps/app-contents.service';
import { AppModelsService } from './apps/app-models.service';
import { AppsMessageController } from './apps/apps.message.controller';
import { AppsService } from './apps/apps.service';
import { ActorTasksService } from './actor-tasks/actor-tasks.service';
import { ActorsMessageController } from './actors/actors.message.controller';
import { ActorsService } from './actors/actors.service';
import { BuildsMessageController } from './builds/builds.message.controller';
import { BuildsService } from './builds/builds.service';
import { CatalogueMessageController } from './catalogue/catalogue.message.controller';
import { CatalogueService } from './catalogue/catalogue.service';
import { catalogueMessageController } from './catalogue/catalogued-store';
import { SignaturesService } from './catalogue/signatures.service';
import { resourcesDataSourceOptions } from './database/resources.data-source';
import { DatasetsMessageController } from './datasets/datasets.message.controller';
import { DatasetsService } from './datasets/datasets.service';
import { EnvironmentGroupsService } from './environments/environment-groups.service';
import { EnvironmentsMessageController } from './environments/environments.message.controller';
import { EnvironmentsService } from './environments/environments.service';
import { KeyValueStoresMessageController } from './key-value-stores/key-value-stores.message.controller';
import { KeyValueStoresService } from './key-value-stores/key-value-stores.service';
import { RequestQueuesMessageController } from './request-queues/request-queues.message.controller';
import { RequestLocksService } from './request-queues/request-locks.service';
import { RequestQueuesService } from './request-queues/request-queues.service';
import { ScheduleFirer } from './schedules/schedule-firer';
import { SchedulerClock } from './schedules/scheduler-clock';
import { SchedulesMessageController } from './schedules/schedules.message.controller';
import { SchedulesService } from './schedules/schedules.service';
import { deploymentLimitsProvider } from './usage/deployment-limits';
import { UsageMessageController } from './usage/usage.message.controller';
import { UsageService } from './usage/usage.service';
import { ResourcesEventsConsumer } from './resources-events.consumer';
import { WEBHOOK_DELIVERY_OPTIONS, WebhookDispatcher } from './webhooks/webhook-dispatcher';
import { WebhooksMessageController } from './webhooks/webhooks.message.controller';
import { WebhooksService } from './webhooks/webhooks.service';

/** The catalogue and data of every resource type (datasets so far). */
@Module({})
export class ResourcesModule {
  static forRoot(config: ResourcesConfig): DynamicModule {
    return {
      module: ResourcesModule,
      imports: [
        PersistenceModule.forService({
          ...resourcesDataSourceOptions(config.DATABASE_URL, config.DB_POOL_SIZE),
          runMigrations: config.RUN_MIGRATIONS,
        }),
        MessagingModule.forRoot({ amqpUrl: config.AMQP_URL, rpcTimeoutMs: config.RPC_TIMEOUT_MS }),
      ],
      controllers: [
        healthControllerFor(ResourcesRpc.health),
        changeVersionControllerFor(ResourcesRpc.changeVersion, 'resources'),
        CatalogueMessageController,
        catalogueMessageController(DATASETS.rpc, DatasetsService),
        DatasetsMessageController,
        catalogueMessageController(KEY_VALUE_STORES.rpc, KeyValueStoresService),
        catalogueMessageController(REQUEST_QUEUES.rpc, RequestQueuesService),
        ActorsMessageController,
        ActorVersionsMessageController,
        BuildsMessageController,
        catalogueMessageController(ACTOR_TASKS.rpc, ActorTasksService),
        catalogueMessageController(SCHEDULES.rpc, SchedulesService),
        SchedulesMessageController,
        KeyValueStoresMessageController,
        RequestQueuesMessageController,
        RunsMessageController,
        RunLeasesMessageController,
        AppsMessageController,
        UsageMessageController,
        catalogueMessageController(ENVIRONMENTS.rpc, EnvironmentsService),
        catalogueMessageController(ENVIRONMENT_GROUPS.rpc, EnvironmentGroupsService),
        EnvironmentsMessageController,
        WebhooksMessageController,
      ],
      providers: [
        ServiceOutboxRelay,
        CatalogueService,
        SignaturesService,
        ResourcesEventsConsumer,
        DatasetsService,
        ActorsService,
        ActorVersionsService,
        BuildsService,
        ActorTasksService,
        SchedulesService,
        SchedulerClock,
        ScheduleFirer,
        KeyValueStoresService,
        RequestQueuesService,
        RequestLocksService,
        RunsService,
        RunLeasesService,
        AppsService,
        AppContentsService,
        AppModelsService,
        UsageService,
        EnvironmentsService,
        EnvironmentGroupsService,
        deploymentLimitsProvider(config),
        WebhooksService,
        WebhookDispatcher,
        {
          provide: WEBHOOK_DELIVERY_OPTIONS,
          useValue: {
            allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
            timeoutMs: config.WEBHOOK_TIMEOUT_MS,
            maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
            retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
          },
        },
      ],
    };
  }
}
