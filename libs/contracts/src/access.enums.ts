export const GENERAL_ACCESS = [
  'FOLLOW_USER_SETTING',
  'RESTRICTED',
  'ANYONE_WITH_ID_CAN_READ',
  'ANYONE_WITH_NAME_CAN_READ',
] as const;
export type GeneralAccess = (typeof GENERAL_ACCESS)[number];

/** The account-level setting cannot itself say "follow the user setting". */
export const ACCOUNT_GENERAL_ACCESS = ['RESTRICTED', 'ANYONE_WITH_ID_CAN_READ', 'ANYONE_WITH_NAME_CAN_READ'] as const;
export type AccountGeneralAccess = (typeof ACCOUNT_GENERAL_ACCESS)[number];
export const DEFAULT_ACCOUNT_GENERAL_ACCESS: AccountGeneralAccess = 'ANYONE_WITH_ID_CAN_READ';

export const RESOURCE_TYPES = ['DATASET'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const STORAGE_PERMISSIONS = ['READ', 'WRITE', 'MANAGE_ACCESS'] as const;
export type Permission = (typeof STORAGE_PERMISSIONS)[number];

/** Permissions each resource type knows, and what holding one implies. */
export const PERMISSIONS_BY_TYPE: Record<ResourceType, readonly Permission[]> = {
  DATASET: STORAGE_PERMISSIONS,
};

export const IMPLIED_PERMISSIONS: Record<Permission, readonly Permission[]> = {
  READ: [],
  WRITE: ['READ'],
  MANAGE_ACCESS: ['READ'],
};

/** Expands granted permissions with everything they imply. */
export function expandPermissions(granted: readonly Permission[]): Permission[] {
  const all = new Set<Permission>();
  for (const p of granted) {
    all.add(p);
    for (const implied of IMPLIED_PERMISSIONS[p] ?? []) all.add(implied);
  }
  return [...all].sort();
}
