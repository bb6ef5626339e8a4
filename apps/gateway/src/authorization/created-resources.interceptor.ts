import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IdentityRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { concatMap, Observable } from 'rxjs';
import { Principal } from '../auth/principal';
import { TokenVerifications } from '../auth/token-verifications';
import { AccessDecisions } from './access-decisions';
import { AUTHORIZATION_KEY, AuthorizationRule } from './authorize.decorator';

/**
 * Rule 1's exception: a resource a scoped token creates is fully available to that token. After a
 * create through an `@InAccount(type, 'CREATE')` route by a scoped token, the created resource is
 * added to the token's scope before the response (the token's cached verification and decisions
 * are dropped here; other replicas drop theirs on `api-token.updated`).
 */
@Injectable()
export class CreatedResourcesInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
    private readonly access: AccessDecisions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rule = this.reflector.get<AuthorizationRule | undefined>(AUTHORIZATION_KEY, context.getHandler());
    const principal = context.switchToHttp().getRequest<{ user?: Principal }>().user;
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
        if (typeof id === 'string') {
          await this.rpc.call(IdentityRpc.addCreatedResourceToToken, {
            tokenId,
            type: rule.type,
            resourceId: id,
          });
          this.tokens.forget(tokenId);
          this.access.changed();
        }
        return body;
      }),
    );
  }
}
