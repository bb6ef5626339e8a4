import {
  ApiTokenScope,
  BuiltInRole,
  CATEGORY_PERMISSIONS,
  categoryOf,
  categoryPermissionsOn,
  expandPermissions,
  MembershipBinding,
  ORGANIZATION_PERMISSIONS,
  Permission,
  RESOURCE_CATEGORIES,
  ResourceCategory,
  ROLE_CATEGORIES,
  RoleCategory,
  RolePermissions,
} from '@atrium/contracts';

/** Every permission there is: the Owner's, always. */
export function ownerPermissions(): RolePermissions {
  return {
    ACTOR: [...CATEGORY_PERMISSIONS.ACTOR],
    ACTOR_TASK: [...CATEGORY_PERMISSIONS.ACTOR_TASK],
    SCHEDULE: [...CATEGORY_PERMISSIONS.SCHEDULE],
    STORAGE: [...CATEGORY_PERMISSIONS.STORAGE],
    ORGANIZATION: [...ORGANIZATION_PERMISSIONS],
  };
}

/** The roles every organization starts with (Apify's), in the order they are listed. */
export const BUILT_IN_ROLES: readonly { builtIn: BuiltInRole; name: string; permissions: RolePermissions }[] =
  [
    { builtIn: 'OWNER', name: 'Owner', permissions: ownerPermissions() },
    { builtIn: 'ADMINISTRATOR', name: 'Administrator', permissions: ownerPermissions() },
    {
      builtIn: 'DEVELOPER',
      name: 'Developer',
      permissions: {
        ACTOR: ['BUILD', 'READ', 'RUN', 'VIEW_OWNER_RUNS', 'WRITE'],
        ACTOR_TASK: ['READ', 'VIEW_OWNER_RUNS', 'WRITE'],
        SCHEDULE: ['READ', 'WRITE'],
        STORAGE: ['READ', 'WRITE'],
        ORGANIZATION: [],
      },
    },
    {
      builtIn: 'READ_ONLY',
      name: 'Read only',
      permissions: {
        ACTOR: ['READ'],
        ACTOR_TASK: ['READ'],
        SCHEDULE: ['READ'],
        STORAGE: ['READ'],
        ORGANIZATION: [],
      },
    },
  ];

/** What a role lets its holders do: the Owner everything, whatever is stored. */
export function effectivePermissions(role: { builtIn: BuiltInRole | null; permissions: RolePermissions }) {
  return role.builtIn === 'OWNER' ? ownerPermissions() : role.permissions;
}

/**
 * The permissions of `wanted` that `held` does not give (as `CATEGORY:PERMISSION`), taking what
 * a permission implies into account (WRITE gives READ). Empty: `wanted` is no more than `held`.
 */
export function missingPermissions(held: RolePermissions, wanted: RolePermissions): string[] {
  const missing: string[] = [];
  for (const category of ROLE_CATEGORIES) {
    const has = new Set<Permission>(expandPermissions(held[category] ?? []));
    for (const p of expandPermissions(wanted[category] ?? []))
      if (!has.has(p)) missing.push(`${category}:${p}`);
  }
  const org = new Set(held.ORGANIZATION ?? []);
  for (const p of wanted.ORGANIZATION ?? []) if (!org.has(p)) missing.push(`ORGANIZATION:${p}`);
  return missing;
}

/** One binding per resource category of the role, as the permissions service applies them. */
export function categoryBindings(permissions: RolePermissions): MembershipBinding[] {
  return ROLE_CATEGORIES.map((category) => ({
    kind: 'category' as const,
    target: category,
    permissions: [...permissions[category]],
  }));
}

/** What a role gives on every resource of a category (WRITE gives READ); nothing outside its categories. */
function heldOnCategory(held: RolePermissions, category: ResourceCategory | null): Permission[] {
  if (!category || !(ROLE_CATEGORIES as readonly string[]).includes(category)) return [];
  return expandPermissions(held[category as RoleCategory] ?? []);
}

/**
 * What of an organization token's scope a role does not give, named `CATEGORY:PERMISSION`,
 * `CREATE:TYPE` or `TYPE id:PERMISSION`; empty when the scope fits within the role. An
 * account-level permission needs the same permission on the category; creating a type needs
 * WRITE on the type's category; a permission on one resource needs what the role gives on every
 * resource of its type (a run or build: what its Actor's category gives on it). Types outside
 * the role's categories (environments, apps) never fit.
 */
export function scopeBeyondRole(held: RolePermissions, scope: ApiTokenScope): string[] {
  const beyond: string[] = [];
  for (const category of RESOURCE_CATEGORIES) {
    const has = heldOnCategory(held, category);
    for (const p of scope.account[category] ?? []) if (!has.includes(p)) beyond.push(`${category}:${p}`);
  }
  for (const type of scope.account.CREATE ?? [])
    if (!heldOnCategory(held, categoryOf(type)).includes('WRITE')) beyond.push(`CREATE:${type}`);
  for (const resource of scope.resources) {
    const has = categoryPermissionsOn(resource.type, heldOnCategory(held, categoryOf(resource.type)));
    for (const p of resource.permissions)
      if (!has.includes(p)) beyond.push(`${resource.type} ${resource.id}:${p}`);
  }
  return [...new Set(beyond)];
}
