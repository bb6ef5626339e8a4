import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { IdentityRpc, MembershipFacts, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { CollaborationMembersService } from '../collaboration/collaboration-members.service';
import { OrganizationMembershipsService } from './organization-memberships.service';

@Controller()
export class MembershipsMessageController {
  constructor(
    private readonly organizations: OrganizationMembershipsService,
    private readonly collaborations: CollaborationMembersService,
  ) {}

  /** Every kind of membership a user has in an account, for the permissions service's read-through. */
  @RpcHandler(IdentityRpc.getMembershipFacts)
  async facts(
    @Payload() { accountId, userId }: RpcPayload<typeof IdentityRpc.getMembershipFacts>,
  ): Promise<MembershipFacts[]> {
    return [
      ...(await this.organizations.membershipFacts(accountId, userId)),
      ...(await this.collaborations.membershipFacts(accountId, userId)),
    ];
  }
}
