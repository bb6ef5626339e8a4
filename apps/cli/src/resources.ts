import {
  ID_PATTERN,
  LINK_SHAREABLE_TYPES,
  Permission,
  PERMISSIONS_BY_TYPE,
  ResourceType,
} from '@atrium/contracts';
import { call, Cli, qualify } from './api';
import { CliError, EXIT } from './output';
import { CliResourceType, TYPES } from './resource-types';

export type { CliResourceType } from './resource-types';

/** Friendly names (singular and plural), the API's type names and collections all work. */
const ALIASES: Record<string, ResourceType> = {
  actor: 'ACTOR',
  act: 'ACTOR',
  task: 'ACTOR_TASK',
  'actor-task': 'ACTOR_TASK',
  schedule: 'SCHEDULE',
  run: 'ACTOR_RUN',
  'actor-run': 'ACTOR_RUN',
  build: 'ACTOR_BUILD',
  'actor-build': 'ACTOR_BUILD',
  dataset: 'DATASET',
  kvs: 'KEY_VALUE_STORE',
  store: 'KEY_VALUE_STORE',
  'key-value-store': 'KEY_VALUE_STORE',
  queue: 'REQUEST_QUEUE',
  'request-queue': 'REQUEST_QUEUE',
  environment: 'ENVIRONMENT',
  env: 'ENVIRONMENT',
  'environment-group': 'ENVIRONMENT_GROUP',
  group: 'ENVIRONMENT_GROUP',
  app: 'APP',
};

export const TYPE_NAMES =
  'actor, task, schedule, run, build, dataset, kvs|key-value-store, queue|request-queue, environment, environment-group, app';

export function resourceType(name: string): CliResourceType {
  const key = name.toLowerCase().replace(/_/g, '-');
  const type =
    ALIASES[key] ??
    ALIASES[key.replace(/s$/, '')] ??
    TYPES.find((t) => t.collection === key || t.type === name.toUpperCase())?.type;
  const found = TYPES.find((t) => t.type === type);
  if (!found)
    throw new CliError(`Argument type: "${name}" is not a resource type (${TYPE_NAMES})`, EXIT.USAGE);
  return found;
}

/** "a dataset", "an Actor". */
export function aLabel(rt: CliResourceType): string {
  return `${/^[aeiou]/i.test(rt.label) ? 'an' : 'a'} ${rt.label}`;
}

/** The types shared by grants (share, revoke, access): every one but environments and their groups. */
export const GRANTABLE_TYPE_NAMES =
  'actor, task, schedule, run, build, dataset, kvs|key-value-store, queue|request-queue, app';

export function requireGrantable(rt: CliResourceType): void {
  if (!PERMISSIONS_BY_TYPE[rt.type].includes('MANAGE_ACCESS'))
    throw new CliError(
      `Argument type: ${aLabel(rt)} is not shared by grants: environments are shared through account collaboration`,
      EXIT.USAGE,
    );
}

/** The types whose general access can be set (link sharing). */
export function requireLinkShareable(rt: CliResourceType): void {
  if (!LINK_SHAREABLE_TYPES.includes(rt.type))
    throw new CliError(
      `Argument type: ${aLabel(rt)} has no general access (runs, builds, datasets, key-value stores and request queues do)`,
      EXIT.USAGE,
    );
}

/** `READ,write` → the type's permissions; a name the type does not know is a usage error naming `option`. */
export function parsePermissions(list: string, rt: CliResourceType, option = '--permissions'): Permission[] {
  const known = PERMISSIONS_BY_TYPE[rt.type];
  const names = list
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (names.length === 0) throw new CliError(`Option ${option}: give at least one permission`, EXIT.USAGE);
  return [
    ...new Set(
      names.map((name) => {
        const found = known.find((p) => p.toLowerCase() === name.toLowerCase().replace(/-/g, '_'));
        if (!found)
          throw new CliError(
            `Option ${option}: "${name}" is not a permission of ${aLabel(rt)} (one of ${known.join(', ')})`,
            EXIT.USAGE,
          );
        return found;
      }),
    ),
  ];
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `7d`, `12h`, `30m`, `2w` from now, or an ISO date (`2027-01-31`, `2027-01-31T12:00:00Z`): an ISO instant. */
export function parseExpiry(value: string, option = '--expires', now = Date.now()): string {
  const duration = /^(\d+)\s*([smhdw])$/i.exec(value.trim());
  if (duration && Number(duration[1]) > 0)
    return new Date(now + Number(duration[1]) * UNITS[duration[2].toLowerCase()] * 1000).toISOString();
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const at = Date.parse(value.trim());
    if (!Number.isNaN(at)) {
      if (at <= now) throw new CliError(`Option ${option}: ${value} is in the past`, EXIT.USAGE);
      return new Date(at).toISOString();
    }
  }
  throw new CliError(
    `Option ${option}: "${value}" is not a duration (e.g. 30m, 12h, 7d, 2w) or an ISO date (e.g. 2027-01-31)`,
    EXIT.USAGE,
  );
}

/**
 * A resource's id from what the user typed: an id as is, else a `username~name` (or a name of the
 * account acted as) that the API resolves on `GET /v2/{collection}/{ref}`. The path is one the typed
 * client knows per collection; it is built from the collection, hence the cast.
 */
export async function resourceId(cli: Cli, rt: CliResourceType, typed: string): Promise<string> {
  const ref = await qualify(cli, typed);
  if (ID_PATTERN.test(ref)) return ref;
  const get = cli.api.GET as unknown as (
    path: string,
    init: { params: { path: { ref: string } } },
  ) => Promise<{ data?: { data: { id: string } }; error?: unknown; response: Response }>;
  return (await call(get(`/v2/${rt.collection}/{ref}`, { params: { path: { ref } } }), cli.url)).data.id;
}

/** As the API: grants name people by username or id, so that sharing cannot reveal who is registered. */
export function checkUserRef(ref: string, option: string): void {
  if (ref.includes('@'))
    throw new CliError(`${option}: name the user by username or id, not by email address`, EXIT.USAGE);
}

/** A user's id and username from an id or username (public profile); unknown is an error naming `option`. */
export async function findUser(
  cli: Cli,
  ref: string,
  option: string,
): Promise<{ id: string; username: string }> {
  checkUserRef(ref, option);
  const request = cli.api.GET('/v2/users/{userIdOrUsername}', {
    params: { path: { userIdOrUsername: ref } },
  });
  const result = await request.catch(() => undefined);
  if (result && (result.response.status === 404 || result.response.status === 400))
    throw new CliError(`${option}: no user "${ref}"`, EXIT.NOT_FOUND);
  return (await call(request, cli.url)).data;
}

/** Usernames of user ids, for tables people read (an id that cannot be looked up stays an id). */
export async function usernames(cli: Cli, ids: Iterable<string>): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  await Promise.all(
    [...new Set(ids)].map(async (id) => {
      const { data } = await cli.api
        .GET('/v2/users/{userIdOrUsername}', { params: { path: { userIdOrUsername: id } } })
        .catch(() => ({ data: undefined }));
      names.set(id, data?.data.username ?? id);
    }),
  );
  return names;
}
