import { z } from 'zod';
import { ENVIRONMENT_OPERATIONS, EnvironmentOperation } from './access.enums';
import { rpc } from './rpc-route';
import { idSchema } from './validation';
import { mailedTokenSchema } from './identity.contract';

/**
 * Account collaboration (Virtuozzo): a primary account invites members by email and shares its
 * environments, environment groups or the whole ENVIRONMENTS category with them, each item with
 * roles; a role is a set of policies; a policy is a set of environment operations.
 */

/**
 * Member statuses. API.md lists PENDING, ACTIVE, SUSPENDED, LEFT and REMOVED; DECLINED is what a
 * rejected invitation becomes (the primary may re-invite, as after LEFT or REMOVED).
 */
export const COLLABORATION_MEMBER_STATUSES = [
  'PENDING',
  'ACTIVE',
  'SUSPENDED',
  'LEFT',
  'REMOVED',
  'DECLINED',
] as const;
export type CollaborationMemberStatus = (typeof COLLABORATION_MEMBER_STATUSES)[number];
/** A member in one of these is done with; only a re-invitation brings them back. */
export const ENDED_MEMBER_STATUSES: readonly CollaborationMemberStatus[] = ['LEFT', 'REMOVED', 'DECLINED'];

export interface SystemPolicy {
  id: string;
  name: string;
  description: string;
  permissions: readonly EnvironmentOperation[];
}

const systemPolicy = (
  slug: string,
  name: string,
  permission: EnvironmentOperation,
  description: string,
): SystemPolicy => ({ id: `system-${slug}`, name, description, permissions: [permission] });

/** The fixed policies every primary has, one per environment operation; their ids never change. */
export const SYSTEM_POLICIES: readonly SystemPolicy[] = [
  systemPolicy('view', 'View', 'READ', 'See environments and groups, their state and settings'),
  systemPolicy('logs', 'Logs', 'LOGS', 'Read environment logs'),
  systemPolicy('files', 'Files', 'FILES', 'Browse and edit environment files'),
  systemPolicy('start-stop', 'Start/Stop', 'START_STOP', 'Start and stop environments'),
  systemPolicy('restart', 'Restart', 'RESTART', 'Restart running environments'),
  systemPolicy('deploy', 'Deploy', 'DEPLOY', 'Deploy artifacts to environments'),
  systemPolicy(
    'configure',
    'Configure',
    'CONFIGURE',
    'Change environment settings, rename, move (a move also needs Delete where it is and Create in account where it goes)',
  ),
  systemPolicy('ssh', 'SSH', 'SSH', 'Open SSH sessions to environments'),
  systemPolicy('clone', 'Clone', 'CLONE', 'Clone environments (creating the copy needs Create in account)'),
  systemPolicy('migrate', 'Migrate', 'MIGRATE', 'Move environments to another region'),
  systemPolicy('delete', 'Delete', 'DELETE', 'Delete environments and groups'),
  systemPolicy('change-owner', 'Change owner', 'CHANGE_OWNER', 'Transfer environments to another account'),
  systemPolicy('create', 'Create in account', 'CREATE', "Create environments on the primary's account"),
  systemPolicy(
    'manage-collaboration',
    'Manage collaboration',
    'MANAGE_COLLABORATION',
    'Manage who else may use the shared environments',
  ),
  systemPolicy('view-billing', 'View billing', 'VIEW_BILLING', "See the primary's billing for environments"),
];
export const SYSTEM_POLICY_IDS = SYSTEM_POLICIES.map((p) => p.id);

/** A custom policy's id (17 characters) or a system policy's (`system-…`). */
export const policyIdSchema = z.union([idSchema, z.enum(SYSTEM_POLICY_IDS as [string, ...string[]])], {
  errorMap: () => ({ message: 'must be a policy id' }),
});

const policyName = z.string().trim().min(1).max(100);
const description = z.string().max(1000);
const operations = z
  .array(z.enum(ENVIRONMENT_OPERATIONS))
  .min(1)
  .max(ENVIRONMENT_OPERATIONS.length)
  .refine((ops) => new Set(ops).size === ops.length, { message: 'must not repeat an operation' });

export const createPolicyBody = z
  .object({ name: policyName, description: description.nullable().optional(), permissions: operations })
  .strict();
export const updatePolicyBody = z
  .object({
    name: policyName.optional(),
    description: description.nullable().optional(),
    permissions: operations.optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: 'name, description or permissions is required',
  });

const roleName = z.string().trim().min(1).max(100);
const policyIds = z
  .array(policyIdSchema)
  .min(1)
  .max(50)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'must not repeat a policy' });

export const createRoleBody = z
  .object({
    name: roleName,
    description: description.nullable().optional(),
    policies: policyIds,
    receiveNotifications: z.boolean().optional(),
  })
  .strict();
export const updateRoleBody = z
  .object({
    name: roleName.optional(),
    description: description.nullable().optional(),
    policies: policyIds.optional(),
    receiveNotifications: z.boolean().optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: 'name, description, policies or receiveNotifications is required',
  });

export const SHARED_CATEGORIES = ['ENVIRONMENTS'] as const;
export const MAX_SHARED_ITEMS = 200;

/** One shared item: exactly one of an environment, an environment group or the category, with roles. */
export const sharedItemSchema = z
  .object({
    resourceId: idSchema.optional(),
    groupId: idSchema.optional(),
    category: z.enum(SHARED_CATEGORIES).optional(),
    roleIds: z
      .array(idSchema)
      .min(1)
      .max(20)
      .refine((ids) => new Set(ids).size === ids.length, { message: 'must not repeat a role' }),
  })
  .strict()
  .superRefine((item, ctx) => {
    const given = [item.resourceId, item.groupId, item.category].filter((v) => v !== undefined).length;
    if (given !== 1)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['resourceId'],
        message: 'exactly one of resourceId, groupId or category is required',
      });
  });
export type SharedItem = z.output<typeof sharedItemSchema>;

const sharedItems = z
  .array(sharedItemSchema)
  .max(MAX_SHARED_ITEMS)
  .superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const key = sharedItemKey(item);
      if (seen.has(key))
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i], message: 'shares the same item twice' });
      seen.add(key);
    });
  });

/** What a shared item is bound to, as membership bindings name it. */
export function sharedItemKey(item: Pick<SharedItem, 'resourceId' | 'groupId' | 'category'>): string {
  return item.category ? `category:${item.category}` : `resource:${item.resourceId ?? item.groupId}`;
}

export const inviteMemberBody = z
  .object({
    email: z.string().trim().toLowerCase().email().max(254),
    displayName: z.string().trim().min(1).max(100).nullable().optional(),
    shared: sharedItems.default([]),
  })
  .strict();
export const updateMemberBody = z
  .object({
    displayName: z.string().trim().min(1).max(100).nullable().optional(),
    shared: sharedItems.optional(),
  })
  .strict()
  .refine((b) => b.displayName !== undefined || b.shared !== undefined, {
    message: 'displayName or shared is required',
  });

export interface CollaborationPolicyView {
  id: string;
  name: string;
  description: string | null;
  /** System policies are fixed and the same for every primary. */
  system: boolean;
  permissions: EnvironmentOperation[];
  createdAt: string | null;
  modifiedAt: string | null;
}

export interface CollaborationRoleView {
  id: string;
  name: string;
  description: string | null;
  policies: string[];
  /** The union of its policies' operations. */
  permissions: EnvironmentOperation[];
  receiveNotifications: boolean;
  createdAt: string;
  modifiedAt: string;
}

export interface SharedItemView {
  resourceId?: string;
  groupId?: string;
  category?: (typeof SHARED_CATEGORIES)[number];
  roleIds: string[];
  /** The operations the item's roles give together. */
  permissions: EnvironmentOperation[];
}

export interface CollaborationMemberView {
  id: string;
  primaryId: string;
  /** Null until a user who verified the invited email accepts (never revealed before: no enumeration). */
  userId: string | null;
  email: string;
  displayName: string | null;
  status: CollaborationMemberStatus;
  shared: SharedItemView[];
  invitedBy: string;
  invitedAt: string;
  /** When the member last accepted, rejected or left. */
  respondedAt: string | null;
  modifiedAt: string;
}

/** The member side of a collaboration: a primary that invited me. */
export interface CollaborationView {
  id: string;
  primaryId: string;
  primaryUsername: string | null;
  status: CollaborationMemberStatus;
  displayName: string | null;
  shared: SharedItemView[];
  invitedAt: string;
  respondedAt: string | null;
}

/**
 * A change and the members whose access it changed: the gateway re-reads each of their
 * memberships into the permissions service before it answers (read-your-writes).
 */
export interface CollaborationChange<T> {
  result: T;
  affectedUserIds: string[];
}

const primary = { primaryId: z.string().min(1).max(100) };
const userIdField = z.string().min(1).max(100);
const memberRef = z.object({ ...primary, memberId: idSchema }).strict();
const collaborationRef = z.object({ userId: userIdField, collaborationId: idSchema }).strict();

export const CollaborationRpc = {
  listPolicies: rpc<CollaborationPolicyView[]>()(
    'identity',
    'identity.collaboration.policies.list',
    z.object(primary).strict(),
  ),
  createPolicy: rpc<CollaborationPolicyView>()(
    'identity',
    'identity.collaboration.policies.create',
    z.object({ ...primary, policy: createPolicyBody }).strict(),
  ),
  updatePolicy: rpc<CollaborationChange<CollaborationPolicyView>>()(
    'identity',
    'identity.collaboration.policies.update',
    z.object({ ...primary, policyId: policyIdSchema, changes: updatePolicyBody }).strict(),
  ),
  deletePolicy: rpc<{ ok: true }>()(
    'identity',
    'identity.collaboration.policies.delete',
    z.object({ ...primary, policyId: policyIdSchema }).strict(),
  ),
  listRoles: rpc<CollaborationRoleView[]>()(
    'identity',
    'identity.collaboration.roles.list',
    z.object(primary).strict(),
  ),
  createRole: rpc<CollaborationRoleView>()(
    'identity',
    'identity.collaboration.roles.create',
    z.object({ ...primary, role: createRoleBody }).strict(),
  ),
  updateRole: rpc<CollaborationChange<CollaborationRoleView>>()(
    'identity',
    'identity.collaboration.roles.update',
    z.object({ ...primary, roleId: idSchema, changes: updateRoleBody }).strict(),
  ),
  deleteRole: rpc<{ ok: true }>()(
    'identity',
    'identity.collaboration.roles.delete',
    z.object({ ...primary, roleId: idSchema }).strict(),
  ),
  /** Shared environments and groups are checked to be the primary's by the caller (resources). */
  inviteMember: rpc<CollaborationChange<CollaborationMemberView>>()(
    'identity',
    'identity.collaboration.members.invite',
    z.object({ ...primary, invitedBy: userIdField, invite: inviteMemberBody }).strict(),
  ),
  listMembers: rpc<CollaborationMemberView[]>()(
    'identity',
    'identity.collaboration.members.list',
    z.object(primary).strict(),
  ),
  getMember: rpc<CollaborationMemberView>()('identity', 'identity.collaboration.members.get', memberRef),
  updateMember: rpc<CollaborationChange<CollaborationMemberView>>()(
    'identity',
    'identity.collaboration.members.update',
    z.object({ ...primary, memberId: idSchema, changes: updateMemberBody }).strict(),
  ),
  /** remove: REMOVED (record kept); suspend: ACTIVE → SUSPENDED; activate: back; reinvite: ended → PENDING. */
  changeMemberStatus: rpc<CollaborationChange<CollaborationMemberView>>()(
    'identity',
    'identity.collaboration.members.change-status',
    z
      .object({
        ...primary,
        memberId: idSchema,
        action: z.enum(['remove', 'suspend', 'activate', 'reinvite']),
      })
      .strict(),
  ),
  /** The member side: invitations and collaborations of the user (by id, or by its email while unbound). */
  listCollaborations: rpc<CollaborationView[]>()(
    'identity',
    'identity.collaboration.collaborations.list',
    z.object({ userId: userIdField }).strict(),
  ),
  /** accept: PENDING → ACTIVE (binds the user); reject: PENDING → DECLINED; leave: ACTIVE/SUSPENDED → LEFT. */
  respondToCollaboration: rpc<CollaborationChange<CollaborationView>>()(
    'identity',
    'identity.collaboration.collaborations.respond',
    collaborationRef.extend({ response: z.enum(['accept', 'reject', 'leave']) }).strict(),
  ),
  /** Accepts the invitation the mailed token names (the caller's verified address must be the invited one). */
  acceptCollaborationByToken: rpc<CollaborationChange<CollaborationView>>()(
    'identity',
    'identity.collaboration.collaborations.accept-by-token',
    z.object({ userId: userIdField, token: mailedTokenSchema }).strict(),
  ),
} as const;
