import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  CollaborationChange,
  CollaborationMemberView,
  CollaborationPolicyView,
  CollaborationRoleView,
  CollaborationRpc,
  CollaborationView,
  RpcPayload,
} from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { CollaborationMembersService } from './collaboration-members.service';
import { CollaborationRolesService } from './collaboration-roles.service';

type Payload<K extends keyof typeof CollaborationRpc> = RpcPayload<(typeof CollaborationRpc)[K]>;

@Controller()
export class CollaborationMessageController {
  constructor(
    private readonly roles: CollaborationRolesService,
    private readonly members: CollaborationMembersService,
  ) {}

  @RpcHandler(CollaborationRpc.listPolicies)
  listPolicies(@Payload() req: Payload<'listPolicies'>): Promise<CollaborationPolicyView[]> {
    return this.roles.listPolicies(req.primaryId);
  }

  @RpcHandler(CollaborationRpc.createPolicy)
  createPolicy(@Payload() req: Payload<'createPolicy'>): Promise<CollaborationPolicyView> {
    return this.roles.createPolicy(req);
  }

  @RpcHandler(CollaborationRpc.updatePolicy)
  updatePolicy(
    @Payload() req: Payload<'updatePolicy'>,
  ): Promise<CollaborationChange<CollaborationPolicyView>> {
    return this.roles.updatePolicy(req);
  }

  @RpcHandler(CollaborationRpc.deletePolicy)
  deletePolicy(@Payload() req: Payload<'deletePolicy'>): Promise<{ ok: true }> {
    return this.roles.deletePolicy(req);
  }

  @RpcHandler(CollaborationRpc.listRoles)
  listRoles(@Payload() req: Payload<'listRoles'>): Promise<CollaborationRoleView[]> {
    return this.roles.listRoles(req.primaryId);
  }

  @RpcHandler(CollaborationRpc.createRole)
  createRole(@Payload() req: Payload<'createRole'>): Promise<CollaborationRoleView> {
    return this.roles.createRole(req);
  }

  @RpcHandler(CollaborationRpc.updateRole)
  updateRole(@Payload() req: Payload<'updateRole'>): Promise<CollaborationChange<CollaborationRoleView>> {
    return this.roles.updateRole(req);
  }

  @RpcHandler(CollaborationRpc.deleteRole)
  deleteRole(@Payload() req: Payload<'deleteRole'>): Promise<{ ok: true }> {
    return this.roles.deleteRole(req);
  }

  @RpcHandler(CollaborationRpc.inviteMember)
  invite(@Payload() req: Payload<'inviteMember'>): Promise<CollaborationChange<CollaborationMemberView>> {
    return this.members.invite(req);
  }

  @RpcHandler(CollaborationRpc.listMembers)
  listMembers(@Payload() req: Payload<'listMembers'>): Promise<CollaborationMemberView[]> {
    return this.members.list(req.primaryId);
  }

  @RpcHandler(CollaborationRpc.getMember)
  getMember(@Payload() req: Payload<'getMember'>): Promise<CollaborationMemberView> {
    return this.members.get(req);
  }

  @RpcHandler(CollaborationRpc.updateMember)
  updateMember(
    @Payload() req: Payload<'updateMember'>,
  ): Promise<CollaborationChange<CollaborationMemberView>> {
    return this.members.update(req);
  }

  @RpcHandler(CollaborationRpc.changeMemberStatus)
  changeMemberStatus(
    @Payload() req: Payload<'changeMemberStatus'>,
  ): Promise<CollaborationChange<CollaborationMemberView>> {
    return this.members.changeStatus(req);
  }

  @RpcHandler(CollaborationRpc.listCollaborations)
  listCollaborations(@Payload() req: Payload<'listCollaborations'>): Promise<CollaborationView[]> {
    return this.members.listCollaborations(req.userId);
  }

  @RpcHandler(CollaborationRpc.respondToCollaboration)
  respond(
    @Payload() req: Payload<'respondToCollaboration'>,
  ): Promise<CollaborationChange<CollaborationView>> {
    return this.members.respond(req);
  }

  @RpcHandler(CollaborationRpc.acceptCollaborationByToken)
  acceptByToken(
    @Payload() req: Payload<'acceptCollaborationByToken'>,
  ): Promise<CollaborationChange<CollaborationView>> {
    return this.members.acceptByToken(req);
  }
}
