import {
  AppError,
  Permission,
  PermissionsRpc,
  resourceRefSchema,
  ResourcesRpc,
  ResourceType,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { Principal, principalRef } from '../auth/principal';
import { AccessDecisions } from './access-decisions';
import { AuthorizedResource } from './authorize.decorator';

const TYPE_NAMES: Partial<Record<ResourceType, string>> = {
  ACTOR: 'Actor',
  ACTOR_TASK: 'task',
  SCHEDULE: 'schedule',
};

/**
 * For a resource named in a request body rather than the path (a task's Actor, a schedule's
 * targets): resolves the id or `username~name` (`username/name` too, as Apify accepts) and
 * requires `permission`, answering as the authorization guard does — 404 naming the field when
 * the caller cannot read it, 403 when they can read but not do this.
 */
export async function requireAccess(
  access: AccessDecisions,
  principal: Principal,
  type: ResourceType,
  ref: string,
  permission: Permission,
  field: string,
): Promise<string> {
  const normalized = ref.replace('/', '~');
  const what = TYPE_NAMES[type] ?? type.toLowerCase();
  if (!resourceRefSchema.safeParse(normalized).success) {
    throw new AppError('invalid-input', `Field "${field}" is invalid: must be an id or "username~name"`);
  }
  const result = await access.check(principalRef(principal), type, normalized, permission);
  if (!result.canRead || !result.resourceId) throw AppError.notFound(`The ${what} "${ref}" (${field})`);
  if (!result.allowed) {
    throw new AppError(
      'insufficient-permissions',
      `You need ${permission} permission on the ${what} "${ref}" (${field})`,
    );
  }
  return result.resourceId;
}

/**
 * Running a task needs READ on the task (checked by the caller) and RUN on its Actor, whether it
 * is started now or by a schedule; resurrecting a run needs RUN on its Actor as starting one
 * does. Answers the Actor's id, or 404/403 naming `field`.
 */
export async function requireActorRunOf(
  access: AccessDecisions,
  rpc: RpcClient,
  principal: Principal,
  /** A task or a run. */
  resourceId: string,
  field = "the task's Actor",
): Promise<string> {
  const facts = await rpc.call(ResourcesRpc.getResourceFacts, { id: resourceId });
  if (!facts?.actorId) throw AppError.notFound(field);
  const actor = await access.check(principalRef(principal), 'ACTOR', facts.actorId, 'RUN');
  if (!actor.canRead) throw AppError.notFound(`The Actor of ${field}`);
  if (!actor.allowed)
    throw new AppError('insufficient-permissions', `You need RUN permission on the Actor of ${field}`);
  return facts.actorId;
}

/**
 * Changing who may read a resource (its general access, or publishing an Actor) is managing
 * access; opening it to others (any general access but RESTRICTED, publishing) is refused to a
 * manager whose power ends by time (a grant with an expiry): it would outlast that power.
 */
export async function requireManageAccessToChange(
  rpc: RpcClient,
  userId: string | undefined,
  resource: AuthorizedResource,
  changes: { generalAccess?: unknown; isPublic?: unknown },
): Promise<void> {
  if (!resource.permissions.includes('MANAGE_ACCESS')) {
    if (changes.generalAccess !== undefined)
      throw new AppError(
        'insufficient-permissions',
        'Changing general access needs MANAGE_ACCESS permission',
      );
    if (changes.isPublic !== undefined)
      throw new AppError(
        'insufficient-permissions',
        'Publishing or unpublishing an Actor needs MANAGE_ACCESS permission',
      );
    return;
  }
  const opens =
    (changes.generalAccess !== undefined && changes.generalAccess !== 'RESTRICTED') ||
    changes.isPublic === true;
  if (!opens || !userId) return;
  const { until } = await rpc.call(PermissionsRpc.manageAccessUntil, {
    resourceType: resource.type,
    resourceId: resource.id,
    userId,
  });
  if (until)
    throw new AppError(
      'insufficient-permissions',
      changes.isPublic === true
        ? `Your own access to manage this resource ends at ${until}: publishing it would outlast it; you may unpublish it (body.isPublic)`
        : `Your own access to manage this resource ends at ${until}: opening it to others would outlast it; you may set it to RESTRICTED (body.generalAccess)`,
    );
}

/**
 * What the caller may do on the resource a create route answers with. A new one is the caller's
 * (every permission); get-or-create by name may instead answer with one that existed before,
 * which a scoped token or an organization member may hold less on: that one is checked like any
 * other, marked on the request so that it never joins a scoped token's creations, and a caller
 * who cannot read it gets 404.
 */
export async function permissionsOnCreated(
  access: AccessDecisions,
  request: { user: Principal; existingResource?: boolean },
  type: ResourceType,
  result: { id: string; created: boolean },
): Promise<readonly Permission[]> {
  if (result.created) return ['READ', 'WRITE', 'MANAGE_ACCESS'];
  request.existingResource = true;
  const decision = await access.check(principalRef(request.user), type, result.id, 'READ');
  if (!decision.canRead) throw AppError.notFound(`The ${type.toLowerCase().replace(/_/g, ' ')}`);
  return decision.permissions;
}
