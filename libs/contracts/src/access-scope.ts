import { z } from 'zod';
import {
  CATEGORY_PERMISSIONS,
  categoryOf,
  categoryPermissionsOn,
  expandPermissions,
  Permission,
  PERMISSIONS,
  PERMISSIONS_BY_TYPE,
  RESOURCE_TYPES,
  ResourceCategory,
  ResourceType,
} from './access.enums';
import { idSchema } from './validation';

const categoryPermissions = (category: ResourceCategory) =>
  z
    .array(z.enum(CATEGORY_PERMISSIONS[category] as [Permission, ...Permission[]]))
    .max(CATEGORY_PERMISSIONS[category].length);

/**
 * A scoped API token's scope (Apify): account-level permissions per category, resource-specific
 * permissions, and the types it may CREATE. WRITE implies READ. `null` scope = full access.
 * Rule 1 of the decision: what the token may do = what its account may do ∩ this.
 */
export const apiTokenScopeSchema = z
  .object({
    account: z
      .object({
        ACTOR: categoryPermissions('ACTOR').optional(),
        ACTOR_TASK: categoryPermissions('ACTOR_TASK').optional(),
        SCHEDULE: categoryPermissions('SCHEDULE').optional(),
        STORAGE: categoryPermissions('STORAGE').optional(),
        ENVIRONMENTS: categoryPermissions('ENVIRONMENTS').optional(),
        CREATE: z.array(z.enum(RESOURCE_TYPES)).max(RESOURCE_TYPES.length).optional(),
      })
      .strict()
      .default({}),
    resources: z
      .array(
        z
          .object({
            type: z.enum(RESOURCE_TYPES),
            id: idSchema,
            permissions: z.array(z.enum(PERMISSIONS)).max(50),
          })
          .strict()
          .refine((r) => r.permissions.every((p) => PERMISSIONS_BY_TYPE[r.type].includes(p)), {
            message: 'a permission does not apply to the resource type',
            path: ['permissions'],
          }),
      )
      .max(200)
      .default([]),
  })
  .strict();
export type ApiTokenScope = z.output<typeof apiTokenScopeSchema>;

/** The resource a scope is asked about, with the related resources scopes follow. */
export interface ScopedResource {
  id: string;
  type: ResourceType;
  /** The Actor of a run or build: runs and builds follow their Actor's scope. */
  actorId: string | null;
  /** The run of a run's default storage: it follows the run's scope too. */
  runId: string | null;
}

/** What a scope lets through on a resource (before intersecting with the account's rights). */
export function scopeAllows(scope: ApiTokenScope, resource: ScopedResource): Set<Permission> {
  const allowed = new Set<Permission>();
  const add = (ps: readonly Permission[]) => expandPermissions(ps).forEach((p) => allowed.add(p));
  const specific = (id: string | null) =>
    scope.resources.filter((r) => r.id === id).flatMap((r) => r.permissions);
  add(specific(resource.id));
  const category = categoryOf(resource.type);
  if (category) add(categoryPermissionsOn(resource.type, scope.account[category] ?? []));
  if ((resource.type === 'ACTOR_RUN' || resource.type === 'ACTOR_BUILD') && resource.actorId) {
    add(categoryPermissionsOn(resource.type, specific(resource.actorId)));
  }
  // A run's default storages follow what the scope gives on the run.
  if (resource.runId) add(specific(resource.runId).filter((p) => p === 'READ' || p === 'WRITE'));
  return allowed;
}

/** Whether a scope lets its token create a resource of the type. */
export function scopeAllowsCreate(scope: ApiTokenScope | null | undefined, type: ResourceType): boolean {
  return !scope || (scope.account.CREATE ?? []).includes(type);
}

/**
 * A membership as the permissions service projects it: an organization member with its role's
 * permissions per category, or an account-collaboration member with the permissions of the
 * roles bound to each shared item (a resource — environment or environment group — or the
 * ENVIRONMENTS category). Only ACTIVE memberships give anything.
 */
export const membershipBindingSchema = z
  .object({
    /** 'category': `target` is a ResourceCategory; 'resource': `target` is a resource id. */
    kind: z.enum(['category', 'resource']),
    target: z.string().min(1).max(40),
    permissions: z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length),
  })
  .strict();
export type MembershipBinding = z.infer<typeof membershipBindingSchema>;

export const MEMBERSHIP_KINDS = ['ORGANIZATION', 'COLLABORATION'] as const;
export type MembershipKind = (typeof MEMBERSHIP_KINDS)[number];

export const membershipFactsSchema = z
  .object({
    accountId: z.string().min(1),
    userId: z.string().min(1),
    kind: z.enum(MEMBERSHIP_KINDS),
    /** Only an active membership gives access (org member; collaboration status ACTIVE). */
    active: z.boolean(),
    /** A label for explain: the org role's or the collaboration roles' names. */
    roleName: z.string().max(300),
    bindings: z.array(membershipBindingSchema).max(1000),
    /** Bumped on every change, so stale events lose. */
    version: z.number().int().nonnegative(),
  })
  .strict();
export type MembershipFacts = z.infer<typeof membershipFactsSchema>;
