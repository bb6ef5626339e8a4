import { DynamicModule, Module } from '@nestjs/common';
import { ResourcesRpc } from '@atrium/contracts';
import { ServiceConfig } from '@atrium/config';
import { healthControllerFor, MessagingModule, ServiceOutboxRelay } from '@atrium/messaging';
import { PersistenceModule } from '@atrium/persistence';
import { CatalogueMessageController } from './catalogue/catalogue.message.controller';
import { CatalogueService } from './catalogue/catalogue.service';
import { SignaturesService } from './catalogue/signatures.service';
import { resourcesDataSourceOptions } from './database/resources.data-source';
import { DatasetsMessageController } from './datasets/datasets.message.controller';
import { DatasetsService } from './datasets/datasets.service';

/** The catalogue and data of every resource type (datasets so far). */
@Module({})
export class ResourcesModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: ResourcesModule,
      imports: [
        PersistenceModule.forService({
          ...resourcesDataSourceOptions(config.DATABASE_URL, config.DB_POOL_SIZE),
          runMigrations: config.RUN_MIGRATIONS,
        }),
        MessagingModule.forRoot({ amqpUrl: config.AMQP_URL, rpcTimeoutMs: config.RPC_TIMEOUT_MS }),
      ],
      controllers: [healthControllerFor(ResourcesRpc.health), CatalogueMessageController, DatasetsMessageController],
      providers: [ServiceOutboxRelay, CatalogueService, SignaturesService, DatasetsService],
    };
  }
}
