import { DynamicModule, Module } from '@nestjs/common';
import { PermissionsRpc } from '@atrium/contracts';
import { PermissionsConfig } from '@atrium/config';
import { healthControllerFor, MessagingModule, ServiceOutboxRelay } from '@atrium/messaging';
import { changeVersionControllerFor, PersistenceModule } from '@atrium/persistence';
import { permissionsDataSourceOptions } from './database/permissions.data-source';
import { ChecksMessageController } from './decisions/checks.message.controller';
import { AuditLogMessageController } from './audit/audit-log.message.controller';
import { AuditLogService } from './audit/audit-log.service';
import { AccountDecisionsService } from './decisions/account-decisions.service';
import { DecisionsService } from './decisions/decisions.service';
import { DecisionFactsQuery } from './decisions/decision-facts.query';
import { FactsMirror } from './decisions/facts-mirror';
import { DataSource } from 'typeorm';
import { MoveChecksService } from './decisions/move-checks.service';
import { MovesMessageController } from './decisions/moves.message.controller';
import { SharedWithQuery } from './decisions/shared-with.query';
import { GrantsMessageController } from './grants/grants.message.controller';
import { GrantStorageKeys } from './grants/grant-storage-keys';
import { ExpiredGrantSweeper } from './grants/expired-grant-sweeper';
import { GrantsService } from './grants/grants.service';
import { IssueRunGrantsConsumer } from './grants/issue-run-grants.consumer';
import { MembershipsService } from './memberships/memberships.service';
import { EventApplicationMessageController } from './projections/event-application.message.controller';
import { ProjectionEventsConsumer } from './projections/projection-events.consumer';
import { ProjectionsService } from './projections/projections.service';
import { TokenCreationsService } from './token-creations/token-creations.service';

/** Grants, projections and the decision engine. */
@Module({})
export class PermissionsModule {
  static forRoot(config: PermissionsConfig): DynamicModule {
    return {
      module: PermissionsModule,
      imports: [
        PersistenceModule.forService({
          ...permissionsDataSourceOptions(config.DATABASE_URL, config.DB_POOL_SIZE),
          runMigrations: config.RUN_MIGRATIONS,
        }),
        MessagingModule.forRoot({ amqpUrl: config.AMQP_URL, rpcTimeoutMs: config.RPC_TIMEOUT_MS }),
      ],
      controllers: [
        healthControllerFor(PermissionsRpc.health),
        changeVersionControllerFor(PermissionsRpc.changeVersion, 'permissions'),
        ChecksMessageController,
        MovesMessageController,
        GrantsMessageController,
        AuditLogMessageController,
        EventApplicationMessageController,
      ],
      providers: [
        ServiceOutboxRelay,
        ProjectionsService,
        MembershipsService,
        GrantsService,
        GrantStorageKeys,
        ExpiredGrantSweeper,
        TokenCreationsService,
        DecisionsService,
        AccountDecisionsService,
        MoveChecksService,
        AuditLogService,
        SharedWithQuery,
        DecisionFactsQuery,
        {
          provide: FactsMirror,
          useFactory: (ds: DataSource) => new FactsMirror(ds, config),
          inject: [DataSource],
        },
        ProjectionEventsConsumer,
        IssueRunGrantsConsumer,
      ],
    };
  }
}
