export const GENERAL_ACCESS = [
  'FOLLOW_USER_SETTING',
  'RESTRICTED',
  'ANYONE_WITH_ID_CAN_READ',
  'ANYONE_WITH_NAME_CAN_READ',
] as const;
export type GeneralAccess = (typeof GENERAL_ACCESS)[number];

/** The account-level setting cannot itself say "follow the user setting". */
export const ACCOUNT_GENERAL_ACCESS = [
  'RESTRICTED',
  'ANYONE_WITH_ID_CAN_READ',
  'ANYONE_WITH_NAME_CAN_READ',
] as const;
export type AccountGeneralAccess = (typeof ACCOUNT_GENERAL_ACCESS)[number];
export const DEFAULT_ACCOUNT_GENERAL_ACCESS: AccountGeneralAccess = 'ANYONE_WITH_ID_CAN_READ';

export const RESOURCE_TYPES = [
  'ACTOR',
  'ACTOR_TASK',
  'SCHEDULE',
  'ACTOR_RUN',
  'ACTOR_BUILD',
  'DATASET',
  'KEY_VALUE_STORE',
  'REQUEST_QUEUE',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const STORAGE_TYPES = [
  'DATASET',
  'KEY_VALUE_STORE',
  'REQUEST_QUEUE',
] as const satisfies readonly ResourceType[];
export type StorageType = (typeof STORAGE_TYPES)[number];

/** Types that support link sharing through general resource access (DESIGN.md, resource classes). */
export const LINK_SHAREABLE_TYPES: readonly ResourceType[] = ['ACTOR_RUN', 'ACTOR_BUILD', ...STORAGE_TYPES];
/** Types that may be read by `owner~name` under ANYONE_WITH_NAME_CAN_READ: storages only. */
export const NAME_SHAREABLE_TYPES: readonly ResourceType[] = STORAGE_TYPES;

export const PERMISSIONS = ['READ', 'WRITE', 'RUN', 'BUILD', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'] as const;
export type Permission = (typeof PERMISSIONS)[number];
export const STORAGE_PERMISSIONS = [
  'READ',
  'WRITE',
  'MANAGE_ACCESS',
] as const satisfies readonly Permission[];

/** Permissions each resource type knows (DESIGN.md); the owner holds all of its type's. */
export const PERMISSIONS_BY_TYPE: Record<ResourceType, readonly Permission[]> = {
  ACTOR: PERMISSIONS,
  ACTOR_TASK: ['READ', 'WRITE', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'],
  // DESIGN.md lists READ and WRITE; MANAGE_ACCESS is added so that access to a schedule can be administered.
  SCHEDULE: ['READ', 'WRITE', 'MANAGE_ACCESS'],
  ACTOR_RUN: STORAGE_PERMISSIONS,
  ACTOR_BUILD: STORAGE_PERMISSIONS,
  DATASET: STORAGE_PERMISSIONS,
  KEY_VALUE_STORE: STORAGE_PERMISSIONS,
  REQUEST_QUEUE: STORAGE_PERMISSIONS,
};

/** Every permission lets its holder see what it acts on. */
export const IMPLIED_PERMISSIONS: Record<Permission, readonly Permission[]> = {
  READ: [],
  WRITE: ['READ'],
  RUN: ['READ'],
  BUILD: ['READ'],
  VIEW_OWNER_RUNS: ['READ'],
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
