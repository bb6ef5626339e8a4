import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { OrganizationsRpc, RpcPayload, RpcResponse } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { OrganizationMembersService } from './organization-members.service';

type Req<K extends keyof typeof OrganizationsRpc> = RpcPayload<(typeof OrganizationsRpc)[K]>;
type Res<K extends keyof typeof OrganizationsRpc> = Promise<RpcResponse<(typeof OrganizationsRpc)[K]>>;

@Controller()
export class OrganizationMembersMessageController {
  constructor(private readonly members: OrganizationMembersService) {}

  @RpcHandler(OrganizationsRpc.listMembers)
  list(@Payload() req: Req<'listMembers'>): Res<'listMembers'> {
    return this.members.list(req.organizationId, req.userId);
  }

  @RpcHandler(OrganizationsRpc.updateMember)
  update(@Payload() req: Req<'updateMember'>): Res<'updateMember'> {
    return this.members.changeRole(req.organizationId, req.userId, req.memberId, req.changes.roleId);
  }

  @RpcHandler(OrganizationsRpc.removeMember)
  remove(@Payload() req: Req<'removeMember'>): Res<'removeMember'> {
    return this.members.remove(req.organizationId, req.userId, req.memberId);
  }
}
