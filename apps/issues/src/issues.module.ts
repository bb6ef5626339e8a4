import { DynamicModule, Module } from '@nestjs/common';
import { IssuesRpc } from '@atrium/contracts';
import { ServiceConfig } from '@atrium/config';
import { healthControllerFor, MessagingModule, ServiceOutboxRelay } from '@atrium/messaging';
import { PersistenceModule } from '@atrium/persistence';
import { issuesDataSourceOptions } from './database/issues.data-source';

/** Actor issues, comments, subscriptions and notifications (features arrive with issue 5). */
@Module({})
export class IssuesModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: IssuesModule,
      imports: [
        PersistenceModule.forService({
          ...issuesDataSourceOptions(config.DATABASE_URL, config.DB_POOL_SIZE),
          runMigrations: config.RUN_MIGRATIONS,
        }),
        MessagingModule.forRoot({ amqpUrl: config.AMQP_URL, rpcTimeoutMs: config.RPC_TIMEOUT_MS }),
      ],
      controllers: [healthControllerFor(IssuesRpc.health)],
      providers: [ServiceOutboxRelay],
    };
  }
}
