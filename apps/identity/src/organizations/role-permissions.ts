import {
  BuiltInRole,
  CATEGORY_PERMISSIONS,
  expandPermissions,
  MembershipBinding,
  ORGANIZATION_PERMISSIONS,
  Permission,
  ROLE_CATEGORIES,
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
