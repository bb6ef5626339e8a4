import {
  GENERAL_ACCESS,
  LINK_SHAREABLE_TYPES,
  NAME_SHAREABLE_TYPES,
  PERMISSIONS_BY_TYPE,
  STORAGE_TYPES,
  type GeneralAccess,
  type Permission,
  type ResourceType,
} from '../../../../libs/contracts/src/access.enums';
import { paths } from '../lib/paths';

/*
 * What the Share dialog knows about resource types: the access enums come from the contracts
 * (libs/contracts/src/access.enums.ts, a module without dependencies) so that the dialog offers
 * exactly the permissions and general access values the API accepts.
 */

export type { GeneralAccess, Permission, ResourceType };

/** The collections whose resources have a Share dialog (`/v2/{collection}/:id/access`). */
export const COLLECTION_TYPES = {
  acts: 'ACTOR',
  'actor-tasks': 'ACTOR_TASK',
  'actor-runs': 'ACTOR_RUN',
  'actor-builds': 'ACTOR_BUILD',
  schedules: 'SCHEDULE',
  datasets: 'DATASET',
  'key-value-stores': 'KEY_VALUE_STORE',
  'request-queues': 'REQUEST_QUEUE',
  environments: 'ENVIRONMENT',
  'environment-groups': 'ENVIRONMENT_GROUP',
  apps: 'APP',
} as const satisfies Record<string, ResourceType>;
export type ShareableCollection = keyof typeof COLLECTION_TYPES;

const TYPE_NAMES: Record<ResourceType, string> = {
  ACTOR: 'Actor',
  ACTOR_TASK: 'task',
  SCHEDULE: 'schedule',
  ACTOR_RUN: 'run',
  ACTOR_BUILD: 'build',
  DATASET: 'dataset',
  KEY_VALUE_STORE: 'key-value store',
  REQUEST_QUEUE: 'request queue',
  ENVIRONMENT: 'environment',
  ENVIRONMENT_GROUP: 'environment group',
  APP: 'app',
};

export function typeName(type: ResourceType): string {
  return TYPE_NAMES[type];
}

/** The console page of a resource (its `consoleUrl` for storages and runs). */
export function consolePath(collection: ShareableCollection, id: string): string {
  switch (collection) {
    case 'acts':
      return paths.actor(id);
    case 'actor-tasks':
      return paths.task(id);
    case 'actor-runs':
      return paths.run(id);
    case 'actor-builds':
      return paths.build(id);
    case 'schedules':
      return paths.schedule(id);
    case 'datasets':
      return paths.dataset(id);
    case 'key-value-stores':
      return paths.keyValueStore(id);
    case 'request-queues':
      return paths.requestQueue(id);
    case 'environments':
      return paths.environment(id);
    case 'environment-groups':
      return paths.environmentGroup(id);
    case 'apps':
      return paths.app(id);
  }
}

export function permissionsOf(type: ResourceType): readonly Permission[] {
  return PERMISSIONS_BY_TYPE[type];
}

const PERMISSION_WORDS: Partial<Record<Permission, string>> = {
  READ: 'View',
  WRITE: 'Edit',
  RUN: 'Run',
  BUILD: 'Build',
  VIEW_OWNER_RUNS: "See the owner's runs",
  MANAGE_ACCESS: 'Manage access',
};
const PERMISSION_HINTS: Partial<Record<Permission, string>> = {
  READ: 'Open it and read its contents',
  WRITE: 'Change its contents and settings, rename or delete it',
  RUN: 'Start runs of it',
  BUILD: 'Build new versions',
  VIEW_OWNER_RUNS: "See the runs its owner started, with their logs and storages",
  MANAGE_ACCESS: 'Share it with others, change and revoke their access, change general access',
};

/** A permission in words (`READ` → "View"); the API's own name for environment operations and app scopes. */
export function permissionLabel(permission: string): string {
  return PERMISSION_WORDS[permission as Permission] ?? permission;
}
export function permissionHint(permission: string): string | undefined {
  return PERMISSION_HINTS[permission as Permission];
}

export function isStorage(type: ResourceType): boolean {
  return (STORAGE_TYPES as readonly string[]).includes(type);
}

/** The general access values a type takes (none for types without link sharing). */
export function generalAccessValues(type: ResourceType): GeneralAccess[] {
  if (!LINK_SHAREABLE_TYPES.includes(type)) return [];
  return GENERAL_ACCESS.filter((v) => v !== 'ANYONE_WITH_NAME_CAN_READ' || NAME_SHAREABLE_TYPES.includes(type));
}

/** Each general access value in plain words, for the radio group. */
export const GENERAL_ACCESS_WORDS: Record<GeneralAccess, { label: string; description: string }> = {
  FOLLOW_USER_SETTING: {
    label: 'Follow the account setting',
    description: "As the owner account's general resource access (Settings) says; it changes when that setting does.",
  },
  RESTRICTED: {
    label: 'Restricted',
    description: 'Only people with access: the owner, people it is shared with, organization members and collaborators.',
  },
  ANYONE_WITH_ID_CAN_READ: {
    label: 'Anyone with the link',
    description: 'Anyone who has its link or ID can view it, without signing in. It is not listed anywhere.',
  },
  ANYONE_WITH_NAME_CAN_READ: {
    label: 'Anyone with the link or name',
    description: 'Anyone can view it by its link, its ID or its name (owner~name), without signing in.',
  },
};

/** Why someone may do something, in words: the rules of the permissions service. */
export const RULE_WORDS: Record<string, string> = {
  owner: 'They own it.',
  'organization-member': 'They are a member of the organization that owns it; their role gives this.',
  collaboration: 'They collaborate on the owner account, and it is shared with them through their role.',
  grant: 'It was shared with them directly.',
  'run-storage': 'It is the default storage of a run they can view.',
  'view-owner-runs': "They may see the owner's runs of the Actor or task this run belongs to.",
  'shared-with-public-actor-creator': 'They created the public Actor this run used, and the runner shares runs with Actor creators.',
  'public-actor-build': 'It is a build of a public Actor.',
  'public-actor': 'The Actor is public.',
  'general-access': 'General access lets anyone view it.',
  'token-scope': "The credential's scope limits this.",
  none: 'No rule gives this access.',
};

/** A date-time for people: "4 Dec 2026, 14:05". */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** An ISO instant as the value of a `datetime-local` input (local time, minutes). */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}
