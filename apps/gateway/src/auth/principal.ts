import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ApiTokenScope, AppError, PrincipalRef } from '@atrium/contracts';

/** Who the request acts as, as authenticated by the AuthenticationGuard. */
export type Principal =
  | {
      kind: 'user';
      /** The account acted as: a user, or an organization for an organization API token. */
      userId: string;
      username: string;
      credential: 'jwt' | 'api-token';
      tokenId?: string;
      /** An access token's session (refresh-token family). */
      sessionId?: string;
      /** A scoped API token's scope (null or absent: full access). */
      scope?: ApiTokenScope | null;
    }
  /** A run token: acts as the run's starter, on what the run may touch only. */
  | { kind: 'user'; userId: string; credential: 'run-token'; runId: string }
  | { kind: 'anonymous' };

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

export function principalRef(principal: Principal): PrincipalRef {
  if (principal.kind === 'anonymous') return { userId: null };
  if (principal.credential === 'run-token') return { userId: principal.userId, runId: principal.runId };
  return principal.scope
    ? { userId: principal.userId, tokenId: principal.tokenId, scope: principal.scope }
    : { userId: principal.userId };
}

/** The authenticated principal (`request.user`, set by the AuthenticationGuard). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ user: Principal }>().user;
});

/** The user acting (a run token's starter, an organization's token the organization), none when anonymous. */
function actingUserId(ctx: ExecutionContext): string | undefined {
  const principal = ctx.switchToHttp().getRequest<{ user?: Principal }>().user;
  return principal?.kind === 'user' ? principal.userId : undefined;
}

/** Whom a content write is made on behalf of, recorded as the cause of the usage it adds. */
export const ContentWriter = createParamDecorator((_data: unknown, ctx: ExecutionContext) =>
  actingUserId(ctx),
);

/** Who makes a change of a resource's access (general access, publishing): the audit log names them. */
export const AccessChanger = createParamDecorator((_data: unknown, ctx: ExecutionContext) =>
  actingUserId(ctx),
);

/** The principal as a signed-in user; an anonymous one is refused. */
export function requireUser(principal: Principal | undefined): UserPrincipal {
  if (principal?.kind !== 'user') throw new AppError('token-not-valid', 'Authentication is required');
  return principal;
}

/** The signed-in user; anonymous callers were already refused by the authorization guard. */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): UserPrincipal =>
  requireUser(ctx.switchToHttp().getRequest<{ user: Principal }>().user),
);
