import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { OrganizationsRpc, RpcPayload, RpcResponse } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { OrganizationRolesService } from './organization-roles.service';
import { OrganizationTokensService } from './organization-tokens.service';
import { OrganizationsService } from './organizations.service';

type Req<K extends keyof typeof OrganizationsRpc> = RpcPayload<(typeof OrganizationsRpc)[K]>;
type Res<K extends keyof typeof OrganizationsRpc> = Promise<RpcResponse<(typeof OrganizationsRpc)[K]>>;

/** Organizations, their roles and their API tokens; every call names the caller, checked here. */
@Controller()
export class OrganizationsMessageController {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly roles: OrganizationRolesService,
    private readonly tokens: OrganizationTokensService,
  ) {}

  @RpcHandler(OrganizationsRpc.create)
  create(@Payload() req: Req<'create'>): Res<'create'> {
    return this.organizations.create(req.userId, req.organization);
  }

  @RpcHandler(OrganizationsRpc.list)
  list(@Payload() req: Req<'list'>): Res<'list'> {
    return this.organizations.list(req.userId);
  }

  @RpcHandler(OrganizationsRpc.get)
  get(@Payload() req: Req<'get'>): Res<'get'> {
    return this.organizations.get(req.organizationId, req.userId);
  }

  @RpcHandler(OrganizationsRpc.update)
  update(@Payload() req: Req<'update'>): Res<'update'> {
    return this.organizations.update(req.organizationId, req.userId, req.changes);
  }

  @RpcHandler(OrganizationsRpc.delete)
  delete(@Payload() req: Req<'delete'>): Res<'delete'> {
    return this.organizations.delete(req.organizationId, req.userId);
  }

  @RpcHandler(OrganizationsRpc.listRoles)
  listRoles(@Payload() req: Req<'listRoles'>): Res<'listRoles'> {
    return this.roles.list(req.organizationId, req.userId);
  }

  @RpcHandler(OrganizationsRpc.createRole)
  createRole(@Payload() req: Req<'createRole'>): Res<'createRole'> {
    return this.roles.create(req.organizationId, req.userId, req.role);
  }

  @RpcHandler(OrganizationsRpc.updateRole)
  updateRole(@Payload() req: Req<'updateRole'>): Res<'updateRole'> {
    return this.roles.update(req.organizationId, req.userId, req.roleId, req.changes);
  }

  @RpcHandler(OrganizationsRpc.deleteRole)
  deleteRole(@Payload() req: Req<'deleteRole'>): Res<'deleteRole'> {
    return this.roles.delete(req.organizationId, req.userId, req.roleId);
  }

  @RpcHandler(OrganizationsRpc.listTokens)
  listTokens(@Payload() req: Req<'listTokens'>): Res<'listTokens'> {
    return this.tokens.list(req.organizationId, req.userId);
  }

  @RpcHandler(OrganizationsRpc.createToken)
  createToken(@Payload() req: Req<'createToken'>): Res<'createToken'> {
    return this.tokens.create(req.organizationId, req.userId, req.token);
  }

  @RpcHandler(OrganizationsRpc.revokeToken)
  revokeToken(@Payload() req: Req<'revokeToken'>): Res<'revokeToken'> {
    return this.tokens.revoke(req.organizationId, req.userId, req.tokenId);
  }
}
