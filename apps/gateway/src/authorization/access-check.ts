import { AppError, Permission, resourceRefSchema, ResourceType } from '@atrium/contracts';
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

/** Changing who may read a resource (its general access, or publishing an Actor) is managing access. */
export function requireManageAccessToChange(
  resource: AuthorizedResource,
  changes: { generalAccess?: unknown; isPublic?: unknown },
): void {
  if (resource.permissions.includes('MANAGE_ACCESS')) return;
  if (changes.generalAccess !== undefined) {
    throw new AppError('insufficient-permissions', 'Changing general access needs MANAGE_ACCESS permission');
  }
  if (changes.isPublic !== undefined) {
    throw new AppError(
      'insufficient-permissions',
      'Publishing or unpublishing an Actor needs MANAGE_ACCESS permission',
    );
  }
}
