import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { ID_PATTERN, PermissionsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { catchError, concatMap, Observable } from 'rxjs';
import { Principal } from '../auth/principal';
import { AccessChange, AccessChangeLog, accessChangesOf } from './access-changes';
import { AccessDecisions } from './access-decisions';
import type { AuthorizedResource } from './authorize.decorator';

interface ChangingRequest {
  user?: Principal;
  resource?: AuthorizedResource;
  params: Record<string, string>;
  body?: unknown;
  existingResource?: boolean;
  accessChanges?: AccessChangeLog;
}

/**
 * Applies what a route declares it changes of access (see AccessChange) and what its handler
 * reports, once the handler is done and before the response: each change is re-read into the
 * permissions service — which audits it, naming the caller, and announces it to every replica —
 * and this replica's cached decisions on it are dropped; then, as after every write, the response
 * waits until no replica can serve a decision the change could have widened
 * (IdempotencyInterceptor, `AccessDecisions.settle`): read-your-writes on every replica.
 * Revocations reach other replicas' cached allows by `permissions.changed`. A handler that fails
 * may have made part of its change: it is applied then too, and the handler's error answers.
 * Attached by the declaring decorators to the routes that change access only.
 */
@Injectable()
export class AccessChangesInterceptor implements NestInterceptor {
  private readonly logger = new Logger(AccessChangesInterceptor.name);

  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const declared = accessChangesOf(context.getHandler()) ?? [];
    const request = context.switchToHttp().getRequest<ChangingRequest>();
    const route = `${context.getClass().name}.${context.getHandler().name}`;
    request.accessChanges = new AccessChangeLog();
    return next.handle().pipe(
      catchError(async (err: unknown) => {
        await this.apply(route, declared, request, null).catch((failed: unknown) =>
          this.logger.error(`${route} failed, and so did applying its changes of access: ${String(failed)}`),
        );
        throw err;
      }),
      // What it gave is in force on every replica before the response: the write settles after
      // this (IdempotencyInterceptor, around every write).
      concatMap(async (body: unknown) => {
        await this.apply(route, declared, request, { body });
        return body;
      }),
    );
  }

  /** `response`: what the handler answered, null when it failed. */
  private async apply(
    route: string,
    declared: readonly AccessChange[],
    request: ChangingRequest,
    response: { body: unknown } | null,
  ): Promise<void> {
    const log = request.accessChanges!;
    const principal = request.user;
    const changedBy = principal?.kind === 'user' ? principal.userId : undefined;
    const resources: string[] = [];
    const accounts: string[] = [];
    for (const change of declared) {
      if (change.kind === 'resource' && request.resource && this.inBody(request.body, change.ifBody))
        resources.push(request.resource.id);
      if (change.kind === 'account') {
        const id = change.param ? request.params[change.param] : changedBy;
        if (id && ID_PATTERN.test(id)) accounts.push(id);
      }
      if (change.kind === 'grant') this.access.changed(change.anyResource ? undefined : request.resource?.id);
      if (change.kind === 'created' && response) await this.recordCreation(request, response.body);
      // A handler that failed before its change reports none; one that succeeded must have.
      if (change.kind === 'membership' && !log.membershipsReported && response) {
        // Whose it changed is unknown: no cached decision here is kept (the others' go on identity's event).
        this.logger.error(`${route} declares a change of memberships but reported none`);
        this.access.changed();
      }
    }
    for (const id of new Set([...resources, ...log.resources]))
      await this.access.refreshed('resource', id, changedBy);
    for (const id of new Set([...accounts, ...log.accounts])) await this.access.refreshed('account', id);
    await Promise.all(
      [...new Set(log.memberships)].map((id) => this.access.refreshed('membership', id, changedBy)),
    );
  }

  private inBody(body: unknown, fields: readonly string[] | undefined): boolean {
    if (!fields) return true;
    return typeof body === 'object' && body !== null && fields.some((f) => f in body);
  }

  /**
   * Rule 1's exception: a resource a scoped token creates is fully available to that token; the
   * permissions service records it (this replica's decisions are dropped here, the others' on the
   * `permissions.changed` it publishes). Get-or-create may answer with a resource that existed
   * before: that one stays out of reach.
   */
  private async recordCreation(request: ChangingRequest, body: unknown): Promise<void> {
    const principal = request.user;
    if (principal?.kind !== 'user' || principal.credential !== 'api-token') return;
    if (!principal.scope || !principal.tokenId || request.existingResource) return;
    const id = (body as { data?: { id?: unknown } } | undefined)?.data?.id;
    if (typeof id !== 'string') return;
    await this.rpc.call(PermissionsRpc.recordTokenCreation, { tokenId: principal.tokenId, resourceId: id });
    this.access.changed(id);
  }
}
