import {
  ApiTokenScope,
  apiTokenScopeSchema,
  CATEGORY_PERMISSIONS,
  ORGANIZATION_PERMISSIONS,
  Permission,
  RESOURCE_CATEGORIES,
  ResourceCategory,
  ResourceType,
  rolePermissionsSchema,
} from '@atrium/contracts';
import type { paths } from '@atrium/client';
import { z } from 'zod';
import { Cli } from './api';
import { CliError, EXIT } from './output';
import { parsePermissions, resourceId, resourceType } from './resources';

/** Category names as people type them. */
const CATEGORY_ALIASES: Record<string, ResourceCategory> = {
  actor: 'ACTOR',
  actors: 'ACTOR',
  task: 'ACTOR_TASK',
  tasks: 'ACTOR_TASK',
  'actor-task': 'ACTOR_TASK',
  'actor-tasks': 'ACTOR_TASK',
  schedule: 'SCHEDULE',
  schedules: 'SCHEDULE',
  storage: 'STORAGE',
  storages: 'STORAGE',
  environments: 'ENVIRONMENTS',
  environment: 'ENVIRONMENTS',
};

function category(name: string, option: string, allowed: readonly string[]): string {
  const key = name.toLowerCase().replace(/_/g, '-');
  const found =
    CATEGORY_ALIASES[key] ?? (allowed.includes(name.toUpperCase()) ? name.toUpperCase() : undefined);
  if (!found || !allowed.includes(found))
    throw new CliError(
      `Option ${option}: "${name}" is not a category (one of ${allowed.join(', ')})`,
      EXIT.USAGE,
    );
  return found;
}

function namesIn(list: string, known: readonly string[], option: string, what: string): string[] {
  const names = list
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new CliError(`Option ${option}: give at least one permission for ${what}`, EXIT.USAGE);
  return [
    ...new Set(
      names.map((name) => {
        const found = known.find((p) => p.toLowerCase() === name.toLowerCase().replace(/-/g, '_'));
        if (!found)
          throw new CliError(
            `Option ${option}: "${name}" is not a permission of ${what} (one of ${known.join(', ')})`,
            EXIT.USAGE,
          );
        return found;
      }),
    ),
  ];
}

function splitEntry(entry: string, option: string, example: string): [string, string] {
  const at = entry.indexOf('=');
  if (at <= 0) throw new CliError(`Option ${option}: "${entry}" is not of the form ${example}`, EXIT.USAGE);
  return [entry.slice(0, at).trim(), entry.slice(at + 1)];
}

export const SCOPE_HELP = `Scope entries (--scope, repeatable; none = full access):
  <category>=<permissions>      on every resource of a category of the account, e.g. storage=READ,WRITE
                                (categories: actor, task, schedule, storage, environments)
  create=<types>                the types the token may create, e.g. create=dataset,kvs
  <type>:<resource>=<perms>     on one resource (id or username~name), e.g. dataset:alice~results=READ`;

/** A token scope and a role's permissions as the API's request bodies type them. */
export type TokenScopeBody = NonNullable<
  paths['/v2/users/me/tokens']['post']['requestBody']['content']['application/json']['scope']
>;
export type RolePermissionsBody = NonNullable<
  NonNullable<
    paths['/v2/organizations/{orgId}/roles']['post']['requestBody']
  >['content']['application/json']['permissions']
>;

/** `--scope` entries → the API's token scope (`null` when none: full access). */
export async function parseScope(cli: Cli | undefined, entries: string[]): Promise<TokenScopeBody | null> {
  if (entries.length === 0) return null;
  const option = '--scope';
  const scope: ApiTokenScope = { account: {}, resources: [] };
  const references: {
    type: string;
    ref: string;
    permissions: Permission[];
    rt: ReturnType<typeof resourceType>;
  }[] = [];
  for (const entry of entries) {
    const [left, right] = splitEntry(entry, option, 'storage=READ, create=dataset or dataset:<id>=READ');
    if (left.toLowerCase() === 'create') {
      scope.account.CREATE = [
        ...new Set([
          ...(scope.account.CREATE ?? []),
          ...right
            .split(',')
            .filter((t) => t.trim())
            .map((t) => {
              try {
                return resourceType(t.trim()).type;
              } catch (err) {
                throw new CliError(
                  `Option ${option}: ${(err as Error).message.replace(/^Argument type: /, '')}`,
                  EXIT.USAGE,
                );
              }
            }),
        ]),
      ] as ResourceType[];
    } else if (left.includes(':')) {
      const [typeName, ref] = [left.slice(0, left.indexOf(':')), left.slice(left.indexOf(':') + 1)];
      let rt: ReturnType<typeof resourceType>;
      try {
        rt = resourceType(typeName);
      } catch (err) {
        throw new CliError(
          `Option ${option}: ${(err as Error).message.replace(/^Argument type: /, '')}`,
          EXIT.USAGE,
        );
      }
      if (!ref)
        throw new CliError(`Option ${option}: "${entry}" names no resource after "${typeName}:"`, EXIT.USAGE);
      references.push({ type: rt.type, ref, rt, permissions: parsePermissions(right, rt, option) });
    } else {
      const cat = category(left, option, RESOURCE_CATEGORIES) as ResourceCategory;
      scope.account[cat] = namesIn(right, CATEGORY_PERMISSIONS[cat], option, cat) as never;
    }
  }
  // Resources are named in a scope by id: names are resolved now (and must exist).
  for (const r of references) {
    const id = cli ? await resourceId(cli, r.rt, r.ref) : r.ref;
    scope.resources.push({ type: r.rt.type, id, permissions: r.permissions });
  }
  const checked = apiTokenScopeSchema.safeParse(scope);
  if (!checked.success) throw new CliError(`Option ${option}: ${zodMessage(checked.error)}`, EXIT.USAGE);
  // Checked against the contract's schema, whose enums the API's body types are made from.
  return checked.data as TokenScopeBody;
}

export const ROLE_PERMISSIONS_HELP = `Permissions (--allow, repeatable): <category>=<permissions>, e.g. actor=READ,RUN storage=READ
  organization=MANAGE_MEMBERS (categories: actor, task, schedule, storage, organization)`;

/** `--allow actor=READ,RUN --allow organization=MANAGE_MEMBERS` → a role's permissions. */
export function parseRolePermissions(entries: string[]): RolePermissionsBody {
  const option = '--allow';
  const categories = ['ACTOR', 'ACTOR_TASK', 'SCHEDULE', 'STORAGE', 'ORGANIZATION'] as const;
  const permissions: Record<string, string[]> = {};
  for (const entry of entries) {
    const [left, right] = splitEntry(entry, option, 'actor=READ,RUN');
    const cat = left.toLowerCase() === 'organization' ? 'ORGANIZATION' : category(left, option, categories);
    const known =
      cat === 'ORGANIZATION' ? ORGANIZATION_PERMISSIONS : CATEGORY_PERMISSIONS[cat as ResourceCategory];
    permissions[cat] = namesIn(right, known, option, cat);
  }
  const checked = rolePermissionsSchema.safeParse(permissions);
  if (!checked.success) throw new CliError(`Option ${option}: ${zodMessage(checked.error)}`, EXIT.USAGE);
  return checked.data as RolePermissionsBody;
}

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.join('.') || 'value'}: ${issue.message}`;
}

/** A scope as one line for a table. */
export function describeScope(scope: ApiTokenScope | null | undefined): string {
  if (!scope) return 'full access';
  const parts = [
    ...Object.entries(scope.account)
      .filter(([, list]) => list && list.length)
      .map(([cat, list]) => `${cat.toLowerCase()}=${(list as string[]).join(',')}`),
    ...scope.resources.map((r) => `${r.type.toLowerCase()}:${r.id}=${r.permissions.join(',')}`),
  ];
  return parts.length ? parts.join(' ') : 'nothing';
}
