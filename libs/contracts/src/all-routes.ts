import { IdentityRpc } from './identity.contract';
import { IssuesRpc } from './issues.contract';
import { PermissionsRpc } from './permissions.contract';
import { ResourcesRpc } from './resources.contract';
import { RpcRoute, ServiceName } from './rpc-route';

/** Every RPC route of every service, for contract tests and handler coverage checks. */
export const ALL_RPC_ROUTES: Record<ServiceName, readonly RpcRoute[]> = {
  identity: Object.values(IdentityRpc),
  resources: Object.values(ResourcesRpc),
  permissions: Object.values(PermissionsRpc),
  issues: Object.values(IssuesRpc),
};
