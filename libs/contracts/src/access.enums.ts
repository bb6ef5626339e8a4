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
  'ENVIRONMENT',
  'ENVIRONMENT_GROUP',
  'APP',
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

/** The Apify permissions of Actors, tasks, schedules, runs, builds and storages. */
export const APIFY_PERMISSIONS = [
  'READ',
  'WRITE',
  'RUN',
  'BUILD',
  'VIEW_OWNER_RUNS',
  'MANAGE_ACCESS',
] as const;
export const STORAGE_PERMISSIONS = ['READ', 'WRITE', 'MANAGE_ACCESS'] as const;

/**
 * The operations of account collaboration policies on environments and environment groups
 * (Virtuozzo): READ is "view"; CREATE is "create in account" (on a group or the ENVIRONMENTS
 * category: create environments there).
 */
export const ENVIRONMENT_OPERATIONS = [
  'READ',
  'LOGS',
  'FILES',
  'START_STOP',
  'RESTART',
  'DEPLOY',
  'CONFIGURE',
  'SSH',
  'CLONE',
  'MIGRATE',
  'DELETE',
  'CHANGE_OWNER',
  'CREATE',
  'MANAGE_COLLABORATION',
  'VIEW_BILLING',
] as const;
export type EnvironmentOperation = (typeof ENVIRONMENT_OPERATIONS)[number];

/** Clarifai's fine-grained app scopes; each guards the operations of its name. */
export const APP_SCOPES = [
  'Inputs:Add',
  'Inputs:Get',
  'Inputs:Patch',
  'Inputs:Delete',
  'Annotations:Add',
  'Annotations:Get',
  'Annotations:Delete',
  'Concepts:Add',
  'Concepts:Get',
  'Models:Add',
  'Models:Get',
  'Models:Delete',
  'Models:Train',
  'Workflows:Add',
  'Workflows:Get',
  'Workflows:Delete',
  'Tasks:Add',
  'Tasks:Get',
  'Tasks:Delete',
  'Collectors:Add',
  'Collectors:Get',
  'Collectors:Delete',
  'Vocabs:Add',
  'Vocabs:Get',
  'Vocabs:Delete',
  'Predict',
  'Search',
  'Collaborators:Add',
  'Collaborators:Get',
  'Collaborators:Delete',
] as const;
export type AppScope = (typeof APP_SCOPES)[number];

/** Clarifai's basic scopes, each a shorthand for fine ones. */
export const BASIC_APP_SCOPES: Record<string, readonly AppScope[]> = {
  Annotation: ['Annotations:Add', 'Annotations:Get', 'Annotations:Delete'],
  Collaborator: ['Collaborators:Add', 'Collaborators:Get', 'Collaborators:Delete'],
  Collector: ['Collectors:Add', 'Collectors:Get', 'Collectors:Delete'],
  Concept: ['Concepts:Add', 'Concepts:Get'],
  Input: ['Inputs:Add', 'Inputs:Get', 'Inputs:Patch', 'Inputs:Delete'],
  Model: ['Models:Add', 'Models:Get', 'Models:Delete', 'Models:Train'],
  Predict: ['Predict'],
  Search: ['Search'],
  Task: ['Tasks:Add', 'Tasks:Get', 'Tasks:Delete'],
  Vocab: ['Vocabs:Add', 'Vocabs:Get', 'Vocabs:Delete'],
  Workflow: ['Workflows:Add', 'Workflows:Get', 'Workflows:Delete'],
};

/** Expands basic scopes to fine ones (fine ones pass through); unknown names are left for validation. */
export function expandAppScopes(scopes: readonly string[]): AppScope[] {
  const all = new Set<AppScope>();
  for (const scope of scopes) {
    const basic = BASIC_APP_SCOPES[scope];
    if (basic) basic.forEach((s) => all.add(s));
    else if ((APP_SCOPES as readonly string[]).includes(scope)) all.add(scope as AppScope);
  }
  return [...all].sort();
}
export const appScopeInputSchemaValues = [...APP_SCOPES, ...Object.keys(BASIC_APP_SCOPES)] as [
  string,
  ...string[],
];

/** Every permission of every resource type. */
export const PERMISSIONS = [
  ...new Set([...APIFY_PERMISSIONS, ...ENVIRONMENT_OPERATIONS, ...APP_SCOPES]),
] as unknown as readonly [Permission, ...Permission[]];
export type Permission = (typeof APIFY_PERMISSIONS)[number] | EnvironmentOperation | AppScope;

/** Permissions each resource type knows (DESIGN.md); the owner holds all of its type's. */
export const PERMISSIONS_BY_TYPE: Record<ResourceType, readonly Permission[]> = {
  ACTOR: APIFY_PERMISSIONS,
  ACTOR_TASK: ['READ', 'WRITE', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'],
  // DESIGN.md lists READ and WRITE; MANAGE_ACCESS is added so that access to a schedule can be administered.
  SCHEDULE: ['READ', 'WRITE', 'MANAGE_ACCESS'],
  ACTOR_RUN: STORAGE_PERMISSIONS,
  ACTOR_BUILD: STORAGE_PERMISSIONS,
  DATASET: STORAGE_PERMISSIONS,
  KEY_VALUE_STORE: STORAGE_PERMISSIONS,
  REQUEST_QUEUE: STORAGE_PERMISSIONS,
  ENVIRONMENT: ENVIRONMENT_OPERATIONS,
  ENVIRONMENT_GROUP: ENVIRONMENT_OPERATIONS,
  // READ: see the app itself; WRITE: rename or delete it; the scopes guard its contents.
  APP: ['READ', 'WRITE', 'MANAGE_ACCESS', ...APP_SCOPES],
};

/** Every permission lets its holder see what it acts on. */
export function impliedPermissions(permission: Permission): readonly Permission[] {
  return permission === 'READ' ? [] : ['READ'];
}

/** Expands granted permissions with everything they imply. */
export function expandPermissions(granted: readonly Permission[]): Permission[] {
  const all = new Set<Permission>();
  for (const p of granted) {
    all.add(p);
    for (const implied of impliedPermissions(p)) all.add(implied);
  }
  return [...all].sort();
}

/**
 * Categories of an account's resources, as organization roles and scoped API tokens name them
 * (Apify), plus ENVIRONMENTS (account collaboration). Runs and builds follow their Actor.
 */
export const RESOURCE_CATEGORIES = ['ACTOR', 'ACTOR_TASK', 'SCHEDULE', 'STORAGE', 'ENVIRONMENTS'] as const;
export type ResourceCategory = (typeof RESOURCE_CATEGORIES)[number];
export function categoryOf(type: ResourceType): ResourceCategory | null {
  switch (type) {
    case 'ACTOR':
    case 'ACTOR_RUN':
    case 'ACTOR_BUILD':
      return 'ACTOR';
    case 'ACTOR_TASK':
    case 'SCHEDULE':
      return type;
    case 'DATASET':
    case 'KEY_VALUE_STORE':
    case 'REQUEST_QUEUE':
      return 'STORAGE';
    case 'ENVIRONMENT':
    case 'ENVIRONMENT_GROUP':
      return 'ENVIRONMENTS';
    case 'APP':
      return null;
  }
}

/** Permissions a category can be given (organization roles, scoped tokens). */
export const CATEGORY_PERMISSIONS: Record<ResourceCategory, readonly Permission[]> = {
  ACTOR: APIFY_PERMISSIONS,
  ACTOR_TASK: ['READ', 'WRITE', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'],
  SCHEDULE: ['READ', 'WRITE', 'MANAGE_ACCESS'],
  STORAGE: STORAGE_PERMISSIONS,
  ENVIRONMENTS: ENVIRONMENT_OPERATIONS,
};

/**
 * What a category permission gives on a resource of the category: itself, except that runs
 * and builds follow their Actor (READ → READ; RUN → WRITE, e.g. abort; MANAGE_ACCESS → MANAGE_ACCESS).
 */
export function categoryPermissionsOn(type: ResourceType, held: readonly Permission[]): Permission[] {
  const has = (p: Permission) => held.includes(p);
  if (type === 'ACTOR_RUN' || type === 'ACTOR_BUILD') {
    const out: Permission[] = [];
    if (has('READ') || has('WRITE') || has('RUN')) out.push('READ');
    if (has('RUN') || has('WRITE')) out.push('WRITE');
    if (has('MANAGE_ACCESS')) out.push('MANAGE_ACCESS');
    return expandPermissions(out);
  }
  return expandPermissions(held.filter((p) => PERMISSIONS_BY_TYPE[type].includes(p)));
}

/** Organization permissions (Apify); the Owner holds all, always. */
export const ORGANIZATION_PERMISSIONS = [
  'MANAGE_ORGANIZATION',
  'MANAGE_MEMBERS',
  'MANAGE_ACCESS_TOKENS',
  'UPDATE_PROFILE',
  'MANAGE_BILLING',
  'VIEW_INVOICES',
] as const;
export type OrganizationPermission = (typeof ORGANIZATION_PERMISSIONS)[number];
