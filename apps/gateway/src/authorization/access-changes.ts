import { createParamDecorator, ExecutionContext, UseInterceptors } from '@nestjs/common';
import { AppError } from '@atrium/contracts';
import { AccessChangesInterceptor } from './access-changes.interceptor';

/** Metadata key of a write route's declaration of what it changes of access. */
export const ACCESS_CHANGES_KEY = 'atrium:access-changes';

/**
 * What a write route changes of access, declared on the route (`@ChangesAccess`): after the
 * handler, AccessChangesInterceptor re-reads it into the permissions service — which announces it
 * to every replica (`permissions.changed`) — and drops this replica's cached decisions on it,
 * before the response. Every POST/PUT/PATCH/DELETE route declares one, or `@ChangesNoAccess()`:
 * the gateway does not start otherwise (AccessDeclarationsCheck).
 */
export type AccessChange =
  /** The resource the route authorized (`@Authorize`); `ifBody`: only when the body holds one of these fields. */
  | { kind: 'resource'; ifBody?: readonly string[] }
  /** An account's settings (general access, username): the one route parameter `param` names, or the caller's own. */
  | { kind: 'account'; param?: string }
  /** Memberships of accounts: whose, only the handler knows — it reports them (`@AccessChanges()`). */
  | { kind: 'membership' }
  /**
   * Grants, which the permissions service makes and announces itself: this replica's decisions
   * on the authorized resource are dropped, or all of them (`anyResource`: a grant reaching beyond it).
   */
  | { kind: 'grant'; anyResource?: true }
  /**
   * A resource created in an account (`@InAccount(type, 'CREATE')` declares it): made fully
   * available to the scoped token that created it (rule 1's exception). The response's `data.id`;
   * a get-or-create that answers with an existing one sets `request.existingResource`.
   */
  | { kind: 'created' }
  /** Nothing of anyone's access: content, or a resource nobody has decisions on yet. */
  | { kind: 'none' };

type Options<K extends AccessChange['kind']> = Omit<Extract<AccessChange, { kind: K }>, 'kind'>;

/** The route's declarations, in the order they were written. */
export function accessChangesOf(handler: object): readonly AccessChange[] | undefined {
  return Reflect.getMetadata(ACCESS_CHANGES_KEY, handler) as AccessChange[] | undefined;
}

function declare(change: AccessChange): MethodDecorator {
  return (target, key, descriptor) => {
    const handler = descriptor.value as object;
    const declared = accessChangesOf(handler) ?? [];
    Reflect.defineMetadata(ACCESS_CHANGES_KEY, [change, ...declared], handler);
    // One interceptor per route, on routes that change access only: a route without interceptors
    // skips Nest's interceptor chain (which costs each request an AsyncResource per interceptor).
    if (change.kind !== 'none' && !declared.some((d) => d.kind !== 'none'))
      UseInterceptors(AccessChangesInterceptor)(target, key, descriptor);
  };
}

/** Declares what of access the route changes (see AccessChange); a route may declare several. */
export const ChangesAccess = <K extends Exclude<AccessChange['kind'], 'none' | 'created'>>(
  kind: K,
  options = {} as Options<K>,
) => declare({ kind, ...options } as AccessChange);

/** A write route that changes nobody's access: content, or a resource nobody has decisions on yet. */
export const ChangesNoAccess = () => declare({ kind: 'none' });

/** Declared by `@InAccount(type, 'CREATE')`. */
export const CreatesResource = () => declare({ kind: 'created' });

/** What a handler reports it changed, beyond what its route's declaration finds in the request. */
export class AccessChangeLog {
  readonly resources: string[] = [];
  readonly accounts: string[] = [];
  readonly memberships: string[] = [];
  membershipsReported = false;

  resource(...ids: string[]): void {
    this.resources.push(...ids);
  }

  account(id: string): void {
    this.accounts.push(id);
  }

  /** The memberships of `userIds` in `accountId` (none: reported, nobody's changed). */
  membership(accountId: string, userIds: readonly string[]): void {
    this.membershipsReported = true;
    for (const userId of userIds) this.memberships.push(`${accountId}:${userId}`);
  }
}

/**
 * Where a handler reports the changes of access only it knows (whose memberships, which other
 * resources). Only on routes that declare a change (`@ChangesAccess`), whose interceptor applies them.
 */
export const AccessChanges = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AccessChangeLog => {
    const log = ctx.switchToHttp().getRequest<{ accessChanges?: AccessChangeLog }>().accessChanges;
    if (!log)
      throw new AppError(
        'internal-error',
        `Route ${ctx.getClass().name}.${ctx.getHandler().name} reports changes of access it does not declare`,
      );
    return log;
  },
);
