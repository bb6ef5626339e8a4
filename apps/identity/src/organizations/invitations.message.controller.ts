import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { OrganizationsRpc, RpcPayload, RpcResponse } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { OrganizationInvitationsService } from './organization-invitations.service';

type Req<K extends keyof typeof OrganizationsRpc> = RpcPayload<(typeof OrganizationsRpc)[K]>;
type Res<K extends keyof typeof OrganizationsRpc> = Promise<RpcResponse<(typeof OrganizationsRpc)[K]>>;

@Controller()
export class InvitationsMessageController {
  constructor(private readonly invitations: OrganizationInvitationsService) {}

  @RpcHandler(OrganizationsRpc.createInvitation)
  create(@Payload() req: Req<'createInvitation'>): Res<'createInvitation'> {
    return this.invitations.create(req.organizationId, req.userId, req.invitation);
  }

  @RpcHandler(OrganizationsRpc.listInvitations)
  listOfOrganization(@Payload() req: Req<'listInvitations'>): Res<'listInvitations'> {
    return this.invitations.listOfOrganization(req.organizationId, req.userId);
  }

  @RpcHandler(OrganizationsRpc.listMyInvitations)
  listMine(@Payload() req: Req<'listMyInvitations'>): Res<'listMyInvitations'> {
    return this.invitations.listMine(req.userId);
  }

  @RpcHandler(OrganizationsRpc.acceptInvitation)
  accept(@Payload() req: Req<'acceptInvitation'>): Res<'acceptInvitation'> {
    return this.invitations.accept(req.userId, req.invitationId);
  }

  @RpcHandler(OrganizationsRpc.acceptInvitationByToken)
  acceptByToken(@Payload() req: Req<'acceptInvitationByToken'>): Res<'acceptInvitationByToken'> {
    return this.invitations.acceptByToken(req.userId, req.token);
  }

  @RpcHandler(OrganizationsRpc.declineInvitation)
  decline(@Payload() req: Req<'declineInvitation'>): Res<'declineInvitation'> {
    return this.invitations.decline(req.userId, req.invitationId);
  }

  @RpcHandler(OrganizationsRpc.cancelInvitation)
  cancel(@Payload() req: Req<'cancelInvitation'>): Res<'cancelInvitation'> {
    return this.invitations.cancel(req.userId, req.invitationId);
  }
}
