import { ActorTasksRpc } from './actor-tasks.contract';
import { ActorVersionsRpc } from './actor-versions.contract';
import { ActorsRpc } from './actors.contract';
import { AppsRpc } from './apps.contract';
import { CollaborationRpc } from './collaboration.contract';
import { DatasetsRpc } from './datasets.contract';
import { EnvironmentGroupsRpc, EnvironmentsRpc } from './environments.contract';
import { IdentityRpc } from './identity.contract';
import { IssuesRpc } from './issues.contract';
import { OrganizationsRpc } from './organizations.contract';
import { KeyValueStoresRpc } from './key-value-stores.contract';
import { PermissionsRpc } from './permissions.contract';
import { RequestQueuesRpc } from './request-queues.contract';
import { ResourcesRpc } from './resources.contract';
import { RpcRoute, ServiceName } from './rpc-route';
import { RunsRpc } from './runs.contract';
import { RunLeasesRpc } from './run-leases.contract';
import { SchedulesRpc } from './schedules.contract';
import { UsageRpc } from './usage.contract';
import { WebhooksRpc } from './webhooks.contract';

/** Every RPC route of every service, for contract tests and handler coverage checks. */
export const ALL_RPC_ROUTES: Record<ServiceName, readonly RpcRoute[]> = {
  identity: [
    ...Object.values(IdentityRpc),
    ...Object.values(CollaborationRpc),
    ...Object.values(OrganizationsRpc),
  ],
  resources: [
    ...Object.values(ResourcesRpc),
    ...Object.values(DatasetsRpc),
    ...Object.values(RunsRpc),
    ...Object.values(RunLeasesRpc),
    ...Object.values(ActorsRpc),
    ...Object.values(ActorVersionsRpc),
    ...Object.values(ActorTasksRpc),
    ...Object.values(SchedulesRpc),
    ...Object.values(KeyValueStoresRpc),
    ...Object.values(RequestQueuesRpc),
    ...Object.values(EnvironmentsRpc),
    ...Object.values(EnvironmentGroupsRpc),
    ...Object.values(AppsRpc),
    ...Object.values(UsageRpc),
    ...Object.values(WebhooksRpc),
  ],
  permissions: Object.values(PermissionsRpc),
  issues: Object.values(IssuesRpc),
};
