import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PermissionsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { concatMap, Observable } from 'rxjs';
import { Principal } from '../auth/principal';
import { AccessDecisions } from './access-decisions';
import { AUTHORIZATION_KEY } from './authorization-key';
import type { AuthorizationRule } from './authorize.decorator';

/**
 * Rule 1's exception: a resource a scoped token creates is fully available to that token. After a
 * create through an `@InAccount(type, 'CREATE')` route by a scoped token, the permissions service
 * records it before the response (this replica's cached decisions are dropped here; the others
 * drop theirs on the `permissions.changed` that the record publishes). A route that may answer
 * with an existing resource instead (get-or-create by name) sets `request.existingResource`.
 * `@InAccount(type, 'CREATE')` attaches it (not a global interceptor: every other route skips
 * Nest's interceptor chain, which costs each request an AsyncResource per interceptor).
 */
@Injectable()
export class CreatedResourcesInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rule = this.reflector.get<AuthorizationRule | undefined>(AUTHORIZATION_KEY, context.getHandler());
    const request = context.switchToHttp().getRequest<{ user?: Principal; existingResource?: boolean }>();
    const principal = request.user;
    if (
      rule?.kind !== 'in-account' ||
      rule.permission !== 'CREATE' ||
      principal?.kind !== 'user' ||
      principal.credential !== 'api-token' ||
      !principal.scope ||
      !principal.tokenId
    ) {
      return next.handle();
    }
    const tokenId = principal.tokenId;
    return next.handle().pipe(
      concatMap(async (body: unknown) => {
        const id = (body as { data?: { id?: unknown } } | undefined)?.data?.id;
        // Get-or-create may answer with a resource that existed before: that one stays out of reach.
        if (typeof id === 'string' && !request.existingResource) {
          await this.rpc.call(PermissionsRpc.recordTokenCreation, { tokenId, resourceId: id });
          this.access.changed(id);
        }
        return body;
      }),
    );
  }
}
