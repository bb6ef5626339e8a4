import { z } from 'zod';
import {
  ACCOUNT_GENERAL_ACCESS,
  CATEGORY_PERMISSIONS,
  ORGANIZATION_PERMISSIONS,
  OrganizationPermission,
  Permission,
} from './access.enums';
import {
  createTokenBody,
  ApiTokenView,
  CreatedApiToken,
  mailedTokenSchema,
  UserSettings,
} from './identity.contract';
import { rpc } from './rpc-route';
import { SigningKeyRotation } from './signing-keys';
import { idSchema, usernameSchema } from './validation';

/** The categories of an organization's resources a role gives permissions on (Apify). */
export const ROLE_CATEGORIES = ['ACTOR', 'ACTOR_TASK', 'SCHEDULE', 'STORAGE'] as const;
export type RoleCategory = (typeof ROLE_CATEGORIES)[number];

/** A role's permissions: per resource category, and on the organization itself. */
export type RolePermissions = Record<RoleCategory, Permission[]> & {
  ORGANIZATION: OrganizationPermission[];
};

const uniqueList = <T extends string>(values: readonly [T, ...T[]], max: number) =>
  z
    .array(z.enum(values))
    .max(max)
    .transform((list) => [...new Set(list)].sort());
const categoryList = (category: RoleCategory) =>
  uniqueList(CATEGORY_PERMISSIONS[category] as [Permission, ...Permission[]], 20).default([]);

export const rolePermissionsSchema = z
  .object({
    ACTOR: categoryList('ACTOR'),
    ACTOR_TASK: categoryList('ACTOR_TASK'),
    SCHEDULE: categoryList('SCHEDULE'),
    STORAGE: categoryList('STORAGE'),
    ORGANIZATION: uniqueList(ORGANIZATION_PERMISSIONS, 20).default([]),
  })
  .strict();

export const roleNameSchema = z.string().trim().min(1).max(50);

export const createOrganizationBody = z.object({ username: usernameSchema }).strict();

export const updateOrganizationBody = z
  .object({
    username: usernameSchema.optional(),
    settings: z
      .object({
        generalResourceAccess: z.enum(ACCOUNT_GENERAL_ACCESS).optional(),
        shareRunsWithPublicActorCreators: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((b) => b.username !== undefined || (b.settings && Object.keys(b.settings).length > 0), {
    message: 'username or settings is required',
  });

export const createOrganizationRoleBody = z
  .object({ name: roleNameSchema, permissions: rolePermissionsSchema.default({}) })
  .strict();
export const updateOrganizationRoleBody = z
  .object({ name: roleNameSchema.optional(), permissions: rolePermissionsSchema.optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.permissions !== undefined, {
    message: 'name or permissions is required',
  });

export const updateOrganizationMemberBody = z.object({ roleId: idSchema }).strict();

export const createOrganizationInvitationBody = z
  .object({
    /**
     * The invitee: a user's id or username, or an email address — an invitation to an address is
     * mailed with a one-time token and accepted only by an account that verified that address.
     */
    user: z.string().trim().min(1).max(254),
    roleId: idSchema,
  })
  .strict();

export const INVITATION_STATUSES = ['PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED', 'EXPIRED'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];
/** An invitation not answered within this time is EXPIRED. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** How many organizations one user may own. */
export const MAX_OWNED_ORGANIZATIONS = 10;

export type BuiltInRole = 'OWNER' | 'ADMINISTRATOR' | 'DEVELOPER' | 'READ_ONLY';

export interface OrganizationView {
  id: string;
  username: string;
  ownerId: string;
  createdAt: string;
  settings: UserSettings;
  /** The caller's role in it. */
  role: { id: string; name: string; permissions: RolePermissions };
}
export interface OrganizationRoleView {
  id: string;
  organizationId: string;
  name: string;
  /** Set on the four roles every organization starts with; null for custom roles. */
  builtIn: BuiltInRole | null;
  permissions: RolePermissions;
  memberCount: number;
  createdAt: string;
}
export interface OrganizationMemberView {
  userId: string;
  username: string;
  roleId: string;
  roleName: string;
  joinedAt: string;
}
export interface InvitationView {
  id: string;
  organizationId: string;
  organizationUsername: string;
  /** The invitee; for an invitation to an email address, null until it is accepted. */
  userId: string | null;
  username: string | null;
  /** The address an invitation by email was sent to; null when the invitee was named by id or username. */
  email: string | null;
  roleId: string;
  roleName: string;
  status: InvitationStatus;
  invitedBy: string;
  createdAt: string;
  expiresAt: string;
  respondedAt: string | null;
}
/**
 * A change that affects members' access: the gateway refreshes each (org, user) membership, and
 * drops the organization API tokens the change revoked before it responds.
 */
export interface MembershipChange<T> {
  result: T;
  organizationId: string;
  affectedUserIds: string[];
  /**
   * Organization tokens revoked by the change: those a member created that its role no longer
   * covers (it lost MANAGE_ACCESS_TOKENS, or a token's scope outgrew the role), or all of a member's
   * when it is removed or leaves.
   */
  revokedTokenIds: string[];
  /**
   * New signing keys for the organization's storages, when the change took a member's reach of
   * them away (its role had STORAGE WRITE or MANAGE_ACCESS, and it is removed, leaves or holds a
   * role without): declared through identity's outbox, applied by the gateway before it responds.
   */
  signingKeyRotation: SigningKeyRotation | null;
}

const caller = { userId: z.string().min(1) };
const inOrg = { ...caller, organizationId: idSchema };

export const OrganizationsRpc = {
  create: rpc<MembershipChange<OrganizationView>>()(
    'identity',
    'identity.organizations.create',
    z.object({ ...caller, organization: createOrganizationBody }).strict(),
  ),
  list: rpc<OrganizationView[]>()('identity', 'identity.organizations.list', z.object(caller).strict()),
  get: rpc<OrganizationView>()('identity', 'identity.organizations.get', z.object(inOrg).strict()),
  update: rpc<OrganizationView>()(
    'identity',
    'identity.organizations.update',
    z.object({ ...inOrg, changes: updateOrganizationBody }).strict(),
  ),
  delete: rpc<MembershipChange<{ ok: true; revokedTokenIds: string[] }>>()(
    'identity',
    'identity.organizations.delete',
    z.object(inOrg).strict(),
  ),
  listRoles: rpc<OrganizationRoleView[]>()(
    'identity',
    'identity.organizations.roles.list',
    z.object(inOrg).strict(),
  ),
  createRole: rpc<OrganizationRoleView>()(
    'identity',
    'identity.organizations.roles.create',
    z.object({ ...inOrg, role: createOrganizationRoleBody }).strict(),
  ),
  updateRole: rpc<MembershipChange<OrganizationRoleView>>()(
    'identity',
    'identity.organizations.roles.update',
    z.object({ ...inOrg, roleId: idSchema, changes: updateOrganizationRoleBody }).strict(),
  ),
  deleteRole: rpc<{ ok: true }>()(
    'identity',
    'identity.organizations.roles.delete',
    z.object({ ...inOrg, roleId: idSchema }).strict(),
  ),
  listMembers: rpc<OrganizationMemberView[]>()(
    'identity',
    'identity.organizations.members.list',
    z.object(inOrg).strict(),
  ),
  updateMember: rpc<MembershipChange<OrganizationMemberView>>()(
    'identity',
    'identity.organizations.members.update',
    z.object({ ...inOrg, memberId: idSchema, changes: updateOrganizationMemberBody }).strict(),
  ),
  removeMember: rpc<MembershipChange<{ ok: true }>>()(
    'identity',
    'identity.organizations.members.remove',
    z.object({ ...inOrg, memberId: idSchema }).strict(),
  ),
  createInvitation: rpc<InvitationView>()(
    'identity',
    'identity.organizations.invitations.create',
    z.object({ ...inOrg, invitation: createOrganizationInvitationBody }).strict(),
  ),
  listInvitations: rpc<InvitationView[]>()(
    'identity',
    'identity.organizations.invitations.list',
    z.object(inOrg).strict(),
  ),
  listMyInvitations: rpc<InvitationView[]>()(
    'identity',
    'identity.invitations.list-mine',
    z.object(caller).strict(),
  ),
  acceptInvitation: rpc<MembershipChange<InvitationView>>()(
    'identity',
    'identity.invitations.accept',
    z.object({ ...caller, invitationId: idSchema }).strict(),
  ),
  /** Accepts the invitation the mailed token names (the caller's verified address must be the invited one). */
  acceptInvitationByToken: rpc<MembershipChange<InvitationView>>()(
    'identity',
    'identity.invitations.accept-by-token',
    z.object({ ...caller, token: mailedTokenSchema }).strict(),
  ),
  declineInvitation: rpc<InvitationView>()(
    'identity',
    'identity.invitations.decline',
    z.object({ ...caller, invitationId: idSchema }).strict(),
  ),
  cancelInvitation: rpc<InvitationView>()(
    'identity',
    'identity.invitations.cancel',
    z.object({ ...caller, invitationId: idSchema }).strict(),
  ),
  listTokens: rpc<ApiTokenView[]>()(
    'identity',
    'identity.organizations.tokens.list',
    z.object(inOrg).strict(),
  ),
  createToken: rpc<CreatedApiToken>()(
    'identity',
    'identity.organizations.tokens.create',
    z.object({ ...inOrg, token: createTokenBody }).strict(),
  ),
  revokeToken: rpc<{ ok: true }>()(
    'identity',
    'identity.organizations.tokens.revoke',
    z.object({ ...inOrg, tokenId: idSchema }).strict(),
  ),
} as const;
