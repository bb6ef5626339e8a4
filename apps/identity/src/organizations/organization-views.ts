import {
  InvitationStatus,
  InvitationView,
  OrganizationMemberView,
  OrganizationRoleView,
  OrganizationView,
} from '@atrium/contracts';
import { UserEntity } from '../accounts/user.entity';
import { OrganizationMemberEntity } from '../memberships/organization-member.entity';
import { OrganizationInvitationEntity } from './organization-invitation.entity';
import { OrganizationRoleEntity } from './organization-role.entity';
import { OrganizationEntity } from './organization.entity';
import { effectivePermissions } from './role-permissions';

export function toOrganizationView(
  organization: OrganizationEntity,
  account: UserEntity,
  role: OrganizationRoleEntity,
): OrganizationView {
  return {
    id: organization.id,
    username: account.username,
    ownerId: organization.ownerId,
    createdAt: organization.createdAt.toISOString(),
    settings: {
      generalResourceAccess: account.generalResourceAccess,
      shareRunsWithPublicActorCreators: account.shareRunsWithPublicActorCreators,
    },
    role: { id: role.id, name: role.name, permissions: effectivePermissions(role) },
  };
}

export function toRoleView(role: OrganizationRoleEntity, memberCount: number): OrganizationRoleView {
  return {
    id: role.id,
    organizationId: role.organizationId,
    name: role.name,
    builtIn: role.builtIn,
    permissions: effectivePermissions(role),
    memberCount,
    createdAt: role.createdAt.toISOString(),
  };
}

export function toMemberView(
  member: OrganizationMemberEntity,
  user: Pick<UserEntity, 'username'>,
  role: Pick<OrganizationRoleEntity, 'name'>,
): OrganizationMemberView {
  return {
    userId: member.userId,
    username: user.username,
    roleId: member.roleId,
    roleName: role.name,
    joinedAt: member.joinedAt.toISOString(),
  };
}

/** A PENDING invitation past its time reads as EXPIRED. */
export function invitationStatus(
  invitation: OrganizationInvitationEntity,
  now = new Date(),
): InvitationStatus {
  return invitation.status === 'PENDING' && invitation.expiresAt <= now ? 'EXPIRED' : invitation.status;
}

export function toInvitationView(
  invitation: OrganizationInvitationEntity,
  names: { organizationUsername: string; username: string | null; roleName: string },
): InvitationView {
  return {
    id: invitation.id,
    organizationId: invitation.organizationId,
    organizationUsername: names.organizationUsername,
    userId: invitation.inviteeId,
    username: invitation.inviteeId ? names.username : null,
    email: invitation.email,
    roleId: invitation.roleId,
    roleName: names.roleName,
    status: invitationStatus(invitation),
    invitedBy: invitation.invitedBy,
    createdAt: invitation.createdAt.toISOString(),
    expiresAt: invitation.expiresAt.toISOString(),
    respondedAt: invitation.respondedAt?.toISOString() ?? null,
  };
}
