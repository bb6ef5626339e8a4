/**
 * A scoped API token's scope, as the API takes it (libs/contracts/src/access-scope.ts): account-level
 * permissions per category, the types it may create, and permissions on specific resources.
 * The console keeps its own copy of the names: it does not bundle the server's contracts.
 */
export const CATEGORIES = [
  {
    key: 'ACTOR',
    label: 'Actors (and their runs and builds)',
    permissions: ['READ', 'WRITE', 'RUN', 'BUILD', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'],
  },
  { key: 'ACTOR_TASK', label: 'Tasks', permissions: ['READ', 'WRITE', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'] },
  { key: 'SCHEDULE', label: 'Schedules', permissions: ['READ', 'WRITE', 'MANAGE_ACCESS'] },
  {
    key: 'STORAGE',
    label: 'Storages (datasets, key-value stores, request queues)',
    permissions: ['READ', 'WRITE', 'MANAGE_ACCESS'],
  },
] as const;
export type CategoryKey = (typeof CATEGORIES)[number]['key'];

const STORAGE = ['READ', 'WRITE', 'MANAGE_ACCESS'];
const ENVIRONMENT = [
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
];

/** Every resource type with the permissions it knows (PERMISSIONS_BY_TYPE, without app scopes). */
export const RESOURCE_TYPES: { key: string; label: string; permissions: string[] }[] = [
  {
    key: 'ACTOR',
    label: 'Actor',
    permissions: ['READ', 'WRITE', 'RUN', 'BUILD', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'],
  },
  { key: 'ACTOR_TASK', label: 'Task', permissions: ['READ', 'WRITE', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'] },
  { key: 'SCHEDULE', label: 'Schedule', permissions: STORAGE },
  { key: 'ACTOR_RUN', label: 'Run', permissions: STORAGE },
  { key: 'ACTOR_BUILD', label: 'Build', permissions: STORAGE },
  { key: 'DATASET', label: 'Dataset', permissions: STORAGE },
  { key: 'KEY_VALUE_STORE', label: 'Key-value store', permissions: STORAGE },
  { key: 'REQUEST_QUEUE', label: 'Request queue', permissions: STORAGE },
  { key: 'ENVIRONMENT', label: 'Environment', permissions: ENVIRONMENT },
  { key: 'ENVIRONMENT_GROUP', label: 'Environment group', permissions: ENVIRONMENT },
  { key: 'APP', label: 'App', permissions: ['READ', 'WRITE', 'MANAGE_ACCESS'] },
];

export const PERMISSION_LABELS: Record<string, string> = {
  READ: 'Read',
  WRITE: 'Write',
  RUN: 'Run',
  BUILD: 'Build',
  VIEW_OWNER_RUNS: "View owner's runs",
  MANAGE_ACCESS: 'Manage access',
};
export const permissionLabel = (p: string) => PERMISSION_LABELS[p] ?? p.replaceAll('_', ' ').toLowerCase();

export interface TokenScope {
  account: Partial<Record<CategoryKey | 'ENVIRONMENTS', string[]>> & { CREATE?: string[] };
  resources: { type: string; id: string; permissions: string[] }[];
}

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  scope: TokenScope | null;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

/** One line on what a token may do. */
export function describeScope(scope: TokenScope | null): string {
  if (!scope) return 'Full access';
  const parts: string[] = [];
  for (const category of CATEGORIES) {
    const held = scope.account[category.key];
    if (held?.length) parts.push(`${category.label.split(' (')[0]}: ${held.map(permissionLabel).join(', ')}`);
  }
  if (scope.account.ENVIRONMENTS?.length)
    parts.push(`Environments: ${scope.account.ENVIRONMENTS.length} operations`);
  if (scope.account.CREATE?.length) parts.push(`Create: ${scope.account.CREATE.length} types`);
  if (scope.resources.length)
    parts.push(`${scope.resources.length} specific resource${scope.resources.length === 1 ? '' : 's'}`);
  return parts.length ? `Scoped — ${parts.join('; ')}` : 'Scoped — no permissions';
}
