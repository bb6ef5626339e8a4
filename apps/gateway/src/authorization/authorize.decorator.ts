import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { AppError, Permission, ResourceType } from '@atrium/contracts';
import type { Principal } from '../auth/principal';
import { AUTHORIZATION_KEY } from './authorization-key';
import { CreatesResource } from './access-changes';

export { AUTHORIZATION_KEY };

/**
 * Collections of the REST API and the resource type each holds. Looked up by a path segment, so
 * without a prototype: `__proto__` or `constructor` names no collection (attack pass).
 */
export const COLLECTIONS: Readonly<Record<string, ResourceType>> = Object.assign(
  Object.create(null) as Record<string, ResourceType>,
  {
    datasets: 'DATASET',
    acts: 'ACTOR',
    actors: 'ACTOR',
    'actor-tasks': 'ACTOR_TASK',
    schedules: 'SCHEDULE',
    'actor-builds': 'ACTOR_BUILD',
    'key-value-stores': 'KEY_VALUE_STORE',
    'request-queues': 'REQUEST_QUEUE',
    'actor-runs': 'ACTOR_RUN',
    environments: 'ENVIRONMENT',
    'environment-groups': 'ENVIRONMENT_GROUP',
    apps: 'APP',
  } satisfies Record<string, ResourceType>,
);

export type AuthorizationRule =
  | { kind: 'public' }
  | {
      kind: 'signed-in';
      /** A run token may use the route too (`GET /v2/users/me`, as the SDK reads it inside a run). */
      runToken?: true;
    }
  /**
   * Any signed-in caller whatever its credential (a run token, a scoped token): the handler
   * decides on the resources the request names, narrowed by the credential (`requireAccess`).
   */
  | { kind: 'any-credential' }
  | {
      kind: 'in-account';
      type: ResourceType;
      /** CREATE: create a resource of `type` in the account; READ: list the account's. */
      permission: 'CREATE' | 'READ';
      /** A body field naming the account instead of the `X-Account-Id` header (environments: `ownerId`). */
      ownerFrom?: string;
      /** A body field naming the group created in (environments: `groupId`). */
      groupFrom?: string;
    }
  | {
      kind: 'resource';
      permission: Permission;
      /** Route parameter holding the id or `username~name`. */
      param: string;
      /** A fixed type, or the route parameter naming the collection (see COLLECTIONS). */
      type: ResourceType | { collectionParam: string };
      /**
       * READ routes of storage content that a pre-signed URL (`?signature=`) may open instead:
       * 'content' (dataset items, store keys) or 'record' (the record named by `:recordKey`).
       */
      signed?: 'content' | 'record';
      /** `param` names an Actor issue, decided on its Actor: an issue's access is its Actor's. */
      through?: 'issue';
    };

/** Anyone, signed in or not (health, signup, login, public profiles). */
export const Public = () => SetMetadata(AUTHORIZATION_KEY, { kind: 'public' } satisfies AuthorizationRule);
/** Any signed-in user, for their own account's routes. */
export const SignedIn = (options: { runToken?: true } = {}) =>
  SetMetadata(AUTHORIZATION_KEY, { kind: 'signed-in', ...options } satisfies AuthorizationRule);
/**
 * Any signed-in caller, also with a run token or a scoped token (which `@SignedIn()` refuses):
 * for routes whose handler decides on what the request names (webhooks: the Actor, task or run
 * of their condition), each decision narrowed by the credential as the guard's would be.
 */
export const AnyCredential = () =>
  SetMetadata(AUTHORIZATION_KEY, { kind: 'any-credential' } satisfies AuthorizationRule);
/**
 * A create or list route acting in an account: the caller's own, or the one named by the
 * `X-Account-Id` header (or `options.ownerFrom`) — an organization it is a member of, a primary
 * whose collaboration shares allow it. The permissions service decides (`checkAccount`); a
 * scoped token also needs the type in its CREATE scope. `@CurrentAccount()` gives the account.
 * A CREATE route declares what it changes of access (`CreatesResource`): after a create by a
 * scoped token, the created resource (the response's `data.id`) becomes fully available to it.
 */
export const InAccount = (
  type: ResourceType,
  permission: 'CREATE' | 'READ',
  options: { ownerFrom?: string; groupFrom?: string } = {},
) => {
  const rule = SetMetadata(AUTHORIZATION_KEY, {
    kind: 'in-account',
    type,
    permission,
    ...options,
  } satisfies AuthorizationRule);
  return permission === 'CREATE' ? applyDecorators(rule, CreatesResource()) : rule;
};

/** The account an `@InAccount` route acts in (owner of what it creates, or whose resources it lists). */
export const CurrentAccount = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  return ctx.switchToHttp().getRequest<{ account: string }>().account;
});

/** Who lists, in which account, and (a scoped token) which ids its scope narrows the listing to. */
export interface ListingCaller {
  principal: Principal;
  account: string;
  ids?: string[];
}

/** For list routes: `@InAccount(type, 'READ')` (the acting account) or `@SignedIn()` (the own). */
export const Lister = createParamDecorator((_data: unknown, ctx: ExecutionContext): ListingCaller => {
  const request = ctx
    .switchToHttp()
    .getRequest<{ user: Principal; account?: string; listedIds?: string[] }>();
  const principal = request.user;
  if (principal?.kind !== 'user') throw new AppError('token-not-valid', 'Authentication is required');
  return { principal, account: request.account ?? principal.userId, ids: request.listedIds };
});

/** The caller needs `permission` on the resource named by route parameter `param`. */
export const Authorize = (
  type: ResourceType | { collectionParam: string },
  permission: Permission,
  param: string,
  options: { signed?: 'content' | 'record'; through?: 'issue' } = {},
) =>
  SetMetadata(AUTHORIZATION_KEY, {
    kind: 'resource',
    type,
    permission,
    param,
    ...options,
  } satisfies AuthorizationRule);

/** What the authorization guard found: the resolved id and every permission the caller holds. */
export interface AuthorizedResource {
  id: string;
  type: ResourceType;
  permissions: Permission[];
}

export const CurrentResource = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthorizedResource => {
    return ctx.switchToHttp().getRequest<{ resource: AuthorizedResource }>().resource;
  },
);
