import {
  ACTOR_TASKS,
  DATASETS,
  ENVIRONMENT_GROUPS,
  ENVIRONMENTS,
  KEY_VALUE_STORES,
  REQUEST_QUEUES,
  ResourceType,
  SCHEDULES,
} from '@atrium/contracts';

/** A resource type as the CLI names it, and where the REST API keeps it. */
export interface CliResourceType {
  type: ResourceType;
  /** The collection under `/v2` (`datasets`). */
  collection: string;
  /** What people call it, in messages. */
  label: string;
}

const described = (d: { type: ResourceType; collection: string }, label: string): CliResourceType => ({
  type: d.type,
  collection: d.collection,
  label,
});

/**
 * The catalogue's own descriptors where the contracts have them; Actors, runs, builds and apps are
 * served by their own controllers (Apify's paths), so their collections are named here.
 */
export const TYPES: CliResourceType[] = [
  { type: 'ACTOR', collection: 'acts', label: 'Actor' },
  described(ACTOR_TASKS, 'task'),
  described(SCHEDULES, 'schedule'),
  { type: 'ACTOR_RUN', collection: 'actor-runs', label: 'run' },
  { type: 'ACTOR_BUILD', collection: 'actor-builds', label: 'build' },
  described(DATASETS, 'dataset'),
  described(KEY_VALUE_STORES, 'key-value store'),
  described(REQUEST_QUEUES, 'request queue'),
  described(ENVIRONMENTS, 'environment'),
  described(ENVIRONMENT_GROUPS, 'environment group'),
  { type: 'APP', collection: 'apps', label: 'app' },
];

/** `No dataset "alice~nosuch" (or none you can see)` for a 404 of `/v2/datasets/alice~nosuch[/…]`. */
export function notFoundMessage(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const [, collection, ref] = /^\/v2\/([^/]+)\/([^/]+)/.exec(path) ?? [];
  const rt = TYPES.find((t) => t.collection === collection);
  if (!rt || !ref) return undefined;
  return `No ${rt.label} "${decodeURIComponent(ref)}" (or none you can see)`;
}
