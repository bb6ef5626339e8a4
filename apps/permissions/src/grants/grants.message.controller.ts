import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AccessListing, GrantView, PermissionsRpc, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { SharedWithQuery } from '../decisions/shared-with.query';
import { GrantsService } from './grants.service';

@Controller()
export class GrantsMessageController {
  constructor(
    private readonly grants: GrantsService,
    private readonly sharedWithQuery: SharedWithQuery,
  ) {}

  @RpcHandler(PermissionsRpc.listAccess)
  listAccess(@Payload() req: RpcPayload<typeof PermissionsRpc.listAccess>): Promise<AccessListing> {
    return this.grants.listAccess(req);
  }

  @RpcHandler(PermissionsRpc.createGrant)
  create(@Payload() req: RpcPayload<typeof PermissionsRpc.createGrant>): Promise<GrantView> {
    return this.grants.create(req);
  }

  @RpcHandler(PermissionsRpc.updateGrant)
  update(@Payload() req: RpcPayload<typeof PermissionsRpc.updateGrant>): Promise<GrantView> {
    return this.grants.update(req);
  }

  @RpcHandler(PermissionsRpc.manageAccessUntil)
  manageAccessUntil(
    @Payload() req: RpcPayload<typeof PermissionsRpc.manageAccessUntil>,
  ): Promise<{ until: string | null }> {
    return this.grants.manageAccessUntil(req);
  }

  @RpcHandler(PermissionsRpc.revokeGrant)
  revoke(@Payload() req: RpcPayload<typeof PermissionsRpc.revokeGrant>): Promise<{ ok: true }> {
    return this.grants.revoke(req);
  }

  @RpcHandler(PermissionsRpc.listSharedWith)
  sharedWith(
    @Payload() req: RpcPayload<typeof PermissionsRpc.listSharedWith>,
  ): Promise<{ total: number; resourceIds: string[]; nextCursor: string | null }> {
    return this.sharedWithQuery.list(req);
  }
}
