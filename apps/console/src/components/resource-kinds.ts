import { rawFetch } from '../lib/api';
import { paths } from '../lib/paths';

/** A listed resource, as every type's list answers it (the fields Home shows). */
export interface Listed {
  id: string;
  name?: string | null;
  title?: string | null;
  userId?: string;
  ownerId?: string;
  username?: string;
  status?: string;
  buildNumber?: string;
  createdAt?: string;
  modifiedAt?: string;
  startedAt?: string;
  finishedAt?: string | null;
}

export interface ResourceKind {
  key: string;
  /** The API's resource type (scopes, grants). */
  type: string;
  label: string;
  list: string;
  to: (id: string) => string;
  /** Lists unnamed storages too (a run's default storages). */
  unnamed?: boolean;
  name: (item: Listed) => string;
}

const named = (what: string) => (item: Listed) => item.title || item.name || `Unnamed ${what}`;

/** Every type Home lists; each list takes `ownership=ownedByMe|sharedWithMe`. */
export const KINDS: ResourceKind[] = [
  { key: 'actors', type: 'ACTOR', label: 'Actor', list: '/v2/acts', to: paths.actor, name: named('Actor') },
  {
    key: 'tasks',
    type: 'ACTOR_TASK',
    label: 'Task',
    list: '/v2/actor-tasks',
    to: paths.task,
    name: named('task'),
  },
  {
    key: 'schedules',
    type: 'SCHEDULE',
    label: 'Schedule',
    list: '/v2/schedules',
    to: paths.schedule,
    name: named('schedule'),
  },
  {
    key: 'runs',
    type: 'ACTOR_RUN',
    label: 'Run',
    list: '/v2/actor-runs',
    to: paths.run,
    name: (run) => `Run ${run.id}`,
  },
  {
    key: 'builds',
    type: 'ACTOR_BUILD',
    label: 'Build',
    list: '/v2/actor-builds',
    to: paths.build,
    name: (build) => `Build ${build.buildNumber ?? build.id}`,
  },
  {
    key: 'datasets',
    type: 'DATASET',
    label: 'Dataset',
    list: '/v2/datasets',
    to: paths.dataset,
    unnamed: true,
    name: named('dataset'),
  },
  {
    key: 'key-value-stores',
    type: 'KEY_VALUE_STORE',
    label: 'Key-value store',
    list: '/v2/key-value-stores',
    to: paths.keyValueStore,
    unnamed: true,
    name: named('key-value store'),
  },
  {
    key: 'request-queues',
    type: 'REQUEST_QUEUE',
    label: 'Request queue',
    list: '/v2/request-queues',
    to: paths.requestQueue,
    unnamed: true,
    name: named('request queue'),
  },
  {
    key: 'environments',
    type: 'ENVIRONMENT',
    label: 'Environment',
    list: '/v2/environments',
    to: paths.environment,
    name: named('environment'),
  },
  {
    key: 'environment-groups',
    type: 'ENVIRONMENT_GROUP',
    label: 'Environment group',
    list: '/v2/environment-groups',
    to: paths.environmentGroup,
    name: named('group'),
  },
  { key: 'apps', type: 'APP', label: 'App', list: '/v2/apps', to: paths.app, name: named('app') },
];

/** A page of a type's list: the account's own, or what is shared with the user. */
export async function listKind(kind: ResourceKind, ownership: 'ownedByMe' | 'sharedWithMe', limit: number) {
  const query = new URLSearchParams({ ownership, limit: String(limit), desc: '1' });
  if (kind.unnamed) query.set('unnamed', '1');
  const response = await rawFetch(`${kind.list}?${query}`);
  const body = (await response.json()) as { data: { total: number; items: Listed[] } };
  return body.data;
}
