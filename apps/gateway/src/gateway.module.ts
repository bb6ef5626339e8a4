import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { keyWrites } from './http/idempotency.interceptor';
import { ThrottlerModule } from '@nestjs/throttler';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { DATASETS, KEY_VALUE_STORES, REQUEST_QUEUES } from '@atrium/contracts';
import { MessagingModule, RpcClient } from '@atrium/messaging';
import { AccessQueriesController } from './access/access-queries.controller';
import { AccessController } from './access/access.controller';
import { AuditLogController } from './access/audit-log.controller';
import { ActorIssuesController } from './actor-issues/actor-issues.controller';
import { IssueAccess } from './actor-issues/issue-access';
import { NotificationsController } from './actor-issues/notifications.controller';
import { ActorTasksCatalogueController, ActorTasksController } from './actor-tasks/actor-tasks.controller';
import { ActorBuildsController } from './actors/actor-builds.controller';
import { ActorVersionsController } from './actors/actor-versions.controller';
import { ActorsController } from './actors/actors.controller';
import { APP_CONTENT_CONTROLLERS } from './apps/app-contents.controller';
import { AppCollaboratorsController } from './apps/app-collaborators.controller';
import { AppOperationsController } from './apps/app-operations.controller';
import { AppsController } from './apps/apps.controller';
import { CollaboratorTokens } from './apps/collaborator-tokens';
import { AuthController } from './auth/auth.controller';
import { authThrottler } from './auth/auth-throttle';
import { SessionController } from './auth/session.controller';
import { SharedThrottlerStorage } from './auth/shared-throttler-storage';
import { AuthenticationGuard } from './auth/authentication.guard';
import { SessionVerifications } from './auth/session-verifications';
import { TokenVerifications } from './auth/token-verifications';
import { AccessDecisions } from './authorization/access-decisions';
import { CachedViews } from './http/cached-views';
import { ChangeVersions } from './authorization/kept-reads';
import { AccessDeclarationsCheck } from './authorization/access-declarations.check';
import { AuthorizationGuard } from './authorization/authorization.guard';
import { RunReferences } from './runs/run-references';
import { RunLogs } from './runs/run-logs';
import { CollaborationMembersController } from './collaboration/collaboration-members.controller';
import { CollaborationRolesController } from './collaboration/collaboration-roles.controller';
import { CollaborationsController } from './collaboration/collaborations.controller';
import { DatasetsController } from './datasets/datasets.controller';
import {
  EnvironmentGroupsCatalogueController,
  EnvironmentsCatalogueController,
} from './environments/environment-catalogue';
import { EnvironmentsController } from './environments/environments.controller';
import { HealthController } from './health/health.controller';
import { datasetView, keyValueStoreView, requestQueueView } from './http/views';
import { storageCatalogueController } from './http/catalogue-controller';
import { KeyValueStoresController } from './key-value-stores/key-value-stores.controller';
import { GatewayMetrics } from './health/metrics';
import { InvitationsController } from './organizations/invitations.controller';
import { OrganizationMembersController } from './organizations/organization-members.controller';
import { OrganizationTokensController } from './organizations/organization-tokens.controller';
import { OrganizationsController } from './organizations/organizations.controller';
import { RequestQueuesController } from './request-queues/request-queues.controller';
import { RunsController } from './runs/runs.controller';
import { RunLeasesController } from './runs/run-leases.controller';
import { StoreController } from './store/store.controller';
import { SchedulesCatalogueController, SchedulesController } from './schedules/schedules.controller';
import { UsageController } from './usage/usage.controller';
import { WebhookAccess } from './webhooks/webhook-access';
import { WebhooksController } from './webhooks/webhooks.controller';
import { UsersController } from './users/users.controller';

/** Every controller of the REST API: what the gateway serves and the OpenAPI document describes. */
export const GATEWAY_CONTROLLERS = [
  HealthController,
  AuthController,
  SessionController,
  UsersController,
  storageCatalogueController(DATASETS, datasetView),
  DatasetsController,
  AccessController,
  AccessQueriesController,
  AuditLogController,
  ActorsController,
  ActorBuildsController,
  ActorVersionsController,
  ActorTasksCatalogueController,
  ActorTasksController,
  SchedulesCatalogueController,
  SchedulesController,
  RunsController,
  RunLeasesController,
  StoreController,
  storageCatalogueController(KEY_VALUE_STORES, keyValueStoreView),
  KeyValueStoresController,
  storageCatalogueController(REQUEST_QUEUES, requestQueueView),
  RequestQueuesController,
  ActorIssuesController,
  NotificationsController,
  AppsController,
  AppCollaboratorsController,
  AppOperationsController,
  ...APP_CONTENT_CONTROLLERS,
  UsageController,
  WebhooksController,
  CollaborationRolesController,
  CollaborationMembersController,
  CollaborationsController,
  EnvironmentsCatalogueController,
  EnvironmentsController,
  EnvironmentGroupsCatalogueController,
  OrganizationsController,
  OrganizationMembersController,
  OrganizationTokensController,
  InvitationsController,
] as const;
// Every write is a keyed request (the interceptor on each non-GET route; reads need none).
keyWrites(GATEWAY_CONTROLLERS);

/** The public REST API: authentication, per-request authorization, and RPC to the services. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, metrics: GatewayMetrics): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        DiscoveryModule,
        MessagingModule.forRoot({ amqpUrl: config.AMQP_URL, rpcTimeoutMs: config.RPC_TIMEOUT_MS }),
        // Applied only where ThrottlerGuard is used: the auth endpoints. Counted by identity, shared
        // by every replica (shared-throttler-storage.ts).
        ThrottlerModule.forRootAsync({
          inject: [RpcClient],
          useFactory: (rpc: RpcClient) => ({
            throttlers: [authThrottler(config.AUTH_RATE_LIMIT_PER_MINUTE)],
            storage: new SharedThrottlerStorage(rpc),
            errorMessage: (_context, { timeToExpire }) =>
              `Too many sign-in requests from this address; try again in ${Math.max(1, Math.ceil(timeToExpire))} seconds`,
          }),
        }),
      ],
      controllers: [...GATEWAY_CONTROLLERS],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: GatewayMetrics, useValue: metrics },
        AccessDecisions,
        CachedViews,
        ChangeVersions,
        AccessDeclarationsCheck,
        RunReferences,
        RunLogs,
        TokenVerifications,
        SessionVerifications,
        IssueAccess,
        CollaboratorTokens,
        WebhookAccess,
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        { provide: APP_GUARD, useClass: AuthorizationGuard },
      ],
    };
  }
}
