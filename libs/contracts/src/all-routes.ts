import { ActorTasksRpc } from './actor-tasks.contract';
import { ActorsRpc } from './actors.contract';
import { IdentityRpc } from './identity.contract';
import { IssuesRpc } from './issues.contract';
import { KeyValueStoresRpc } from './key-value-stores.contract';
import { PermissionsRpc } from './permissions.contract';
import { RequestQueuesRpc } from './request-queues.contract';
import { ResourcesRpc } from './resources.contract';
import { RpcRoute, ServiceName } from './rpc-route';
import { RunsRpc } from './runs.contract';
import { SchedulesRpc } from './schedules.contract';

/** Every RPC route of every service, for contract tests and handler coverage checks. */
export const ALL_RPC_ROUTES: Record<ServiceName, readonly RpcRoute[]> = {
  identity: Object.values(IdentityRpc),
  resources: [
    ...Object.values(ResourcesRpc),
    ...Object.values(RunsRpc),
    ...Object.values(ActorsRpc),
    ...Object.values(ActorTasksRpc),
    ...Object.values(SchedulesRpc),
    ...Object.values(KeyValueStoresRpc),
    ...Object.values(RequestQueuesRpc),
  ],
  permissions: Object.values(PermissionsRpc),
  issues: Object.values(IssuesRpc),
};
