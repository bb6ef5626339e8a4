import { DynamicModule, Module } from '@nestjs/common';
import { IssuesRpc } from '@atrium/contracts';
import { ServiceConfig } from '@atrium/config';
import { healthControllerFor, MessagingModule, ServiceOutboxRelay } from '@atrium/messaging';
import { PersistenceModule } from '@atrium/persistence';
import { CommentsMessageController } from './comments/comments.message.controller';
import { CommentsService } from './comments/comments.service';
import { issuesDataSourceOptions } from './database/issues.data-source';
import { IssuesMessageController } from './issues/issues.message.controller';
import { IssuesService } from './issues/issues.service';
import { NotificationsMessageController } from './notifications/notifications.message.controller';
import { NotificationsService } from './notifications/notifications.service';
import { SubscriptionsMessageController } from './subscriptions/subscriptions.message.controller';
import { SubscriptionsService } from './subscriptions/subscriptions.service';

/** Actor issues, comments, subscriptions and notifications; publishes `issues.run-attached`. */
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
      controllers: [
        healthControllerFor(IssuesRpc.health),
        IssuesMessageController,
        CommentsMessageController,
        SubscriptionsMessageController,
        NotificationsMessageController,
      ],
      providers: [
        ServiceOutboxRelay,
        IssuesService,
        CommentsService,
        SubscriptionsService,
        NotificationsService,
      ],
    };
  }
}
