/**
 * The permissions an organization role gives, per category, as the contracts define them
 * (libs/contracts/src/access.enums.ts: no runtime dependency, so only these lists are bundled).
 */
import { CATEGORY_PERMISSIONS, ORGANIZATION_PERMISSIONS } from '../../../../libs/contracts/src/access.enums';

export const ROLE_CATEGORIES = ['ACTOR', 'ACTOR_TASK', 'SCHEDULE', 'STORAGE', 'ORGANIZATION'] as const;
export type RoleCategory = (typeof ROLE_CATEGORIES)[number];
export type RolePermissions = Record<RoleCategory, string[]>;

export const ROLE_CATEGORY_LABELS: Record<RoleCategory, string> = {
  ACTOR: 'Actors',
  ACTOR_TASK: 'Tasks',
  SCHEDULE: 'Schedules',
  STORAGE: 'Storages',
  ORGANIZATION: 'Organization',
};

export const ROLE_CATEGORY_PERMISSIONS: Record<RoleCategory, readonly string[]> = {
  ACTOR: CATEGORY_PERMISSIONS.ACTOR,
  ACTOR_TASK: CATEGORY_PERMISSIONS.ACTOR_TASK,
  SCHEDULE: CATEGORY_PERMISSIONS.SCHEDULE,
  STORAGE: CATEGORY_PERMISSIONS.STORAGE,
  ORGANIZATION: ORGANIZATION_PERMISSIONS,
};

export function emptyRolePermissions(): RolePermissions {
  return { ACTOR: [], ACTOR_TASK: [], SCHEDULE: [], STORAGE: [], ORGANIZATION: [] };
}

/** `MANAGE_ACCESS` → "Manage access". */
export function permissionLabel(permission: string): string {
  const words = permission.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
