import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  AppError,
  ID_PATTERN,
  idSchema,
  PERMISSIONS_BY_TYPE,
  PermissionsRpc,
  resourceRefSchema,
  ResourcesRpc,
  STORAGE_TYPES,
  StorageType,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { Principal, principalRef } from '../auth/principal';
import { IssueAccess } from '../actor-issues/issue-access';
import { RunReferences } from '../runs/run-references';
import { AccessDecisions } from './access-decisions';
import { AUTHORIZATION_KEY, AuthorizationRule, AuthorizedResource, COLLECTIONS } from './authorize.decorator';

type GuardedRequest = {
  user: Principal;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  account?: string;
  /** A scoped token's listing, narrowed to these ids (see `checkAccount`). */
  listedIds?: string[];
  params: Record<string, string>;
  query: Record<string, unknown>;
  resource?: AuthorizedResource;
};

/**
 * Asks the permissions service on every resource route. Fails closed: a route without a rule
 * is refused, and a permissions service that cannot answer yields 503, never an allow.
 * Cannot read → 404 (existence is not leaked); can read but not this → 403.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  private readonly logger = new Logger(AuthorizationGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
    private readonly runs: RunReferences,
    private readonly issues: IssueAccess,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AuthorizationRule | undefined>(AUTHORIZATION_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    if (!rule) {
      this.logger.error(
        `Route ${context.getClass().name}.${context.getHandler().name} has no authorization rule`,
      );
      throw new AppError('insufficient-permissions', 'This route is not available');
    }
    if (rule.kind === 'public') return true;
    const signedIn = request.user?.kind === 'user';
    if (rule.kind === 'any-credential') {
      if (!signedIn) throw new AppError('token-not-valid', 'Authentication is required');
      return true;
    }
    if (rule.kind === 'signed-in') {
      if (!signedIn) throw new AppError('token-not-valid', 'Authentication is required');
      // A run token reaches what its run may touch, never the account itself (but who it acts as).
      if (request.user.kind === 'user' && request.user.credential === 'run-token' && !rule.runToken) {
        throw new AppError('insufficient-permissions', 'A run token cannot be used on account routes');
      }
      // Nor a scoped token: it could otherwise mint itself a full-access token.
      if (request.user.kind === 'user' && request.user.credential === 'api-token' && request.user.scope) {
        throw new AppError('insufficient-permissions', 'A scoped API token cannot be used on account routes');
      }
      return true;
    }
    if (rule.kind === 'in-account') {
      const acting = await this.actingAccount(rule, request);
      request.account = acting.accountId;
      request.listedIds = acting.ids;
      return true;
    }

    const type =
      typeof rule.type === 'string' ? rule.type : COLLECTIONS[request.params[rule.type.collectionParam]];
    // A route naming a run (`/actor-runs/:runId/dataset/…`, `/acts/:actorId/runs/last/…`) is decided
    // on what it resolves to — the run, or its default storage — as that resource's own route is.
    // So is one naming an Actor issue: on its Actor.
    const ref =
      rule.through === 'issue'
        ? await this.issues.actorOf(request, rule.param)
        : type && RunReferences.names(request, rule.param)
          ? await this.runs.resolve(type, request)
          : request.params[rule.param];
    // Made only when it is the answer: an Error's stack trace costs more than a cached decision.
    const notFound = () => AppError.notFound(rule.through === 'issue' ? 'The issue' : 'The record');
    const signature = rule.signed && typeof request.query?.signature === 'string';
    if (!type || !ref || !(ID_PATTERN.test(ref) || resourceRefSchema.safeParse(ref).success)) {
      // Nothing to resolve to is an unknown id: with a signature, the same answer as a bad one.
      if (signature && RunReferences.names(request, rule.param))
        throw new AppError('invalid-signature', 'The signature is not valid for this content');
      throw notFound();
    }
    const result = await this.access.check(principalRef(request.user), type, ref, rule.permission);
    if (!result.canRead || !result.resourceId) {
      if (signature) {
        request.resource = await this.verifySignature(rule.signed!, type, ref, request);
        return true;
      }
      throw notFound();
    }
    if (!result.allowed) {
      if (!signedIn)
        throw new AppError(
          'token-not-valid',
          `Authentication is required to ${rule.permission} this resource`,
        );
      // A permission the type does not have (an environment's MANAGE_ACCESS): no one holds it.
      if (!PERMISSIONS_BY_TYPE[type].includes(rule.permission))
        throw new AppError(
          'insufficient-permissions',
          `${rule.permission} does not apply to this ${type.toLowerCase().replace(/_/g, ' ')}` +
            (type.startsWith('ENVIRONMENT')
              ? ': environments are shared through account collaboration (/v2/collaborations)'
              : ''),
        );
      throw new AppError(
        'insufficient-permissions',
        `You need ${rule.permission} permission on this ${type.toLowerCase()}`,
      );
    }
    request.resource = { id: result.resourceId, type, permissions: result.permissions };
    return true;
  }

  /**
   * The account an `@InAccount` route acts in, once the permissions service agrees that the
   * caller may create (or list) resources of the type there; the caller's own account needs no
   * question unless a scoped token or a group narrows it.
   */
  private async actingAccount(
    rule: Extract<AuthorizationRule, { kind: 'in-account' }>,
    request: GuardedRequest,
  ): Promise<{ accountId: string; ids?: string[] }> {
    const principal = request.user;
    if (principal?.kind !== 'user') throw new AppError('token-not-valid', 'Authentication is required');
    if (principal.credential === 'run-token')
      throw new AppError('insufficient-permissions', 'A run token cannot be used on account routes');
    const body = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<
      string,
      unknown
    >;
    const field = (name: string | undefined, where: string): string | undefined => {
      const value = name ? body[name] : undefined;
      if (value === undefined || value === null) return undefined;
      if (!idSchema.safeParse(value).success)
        throw new AppError('invalid-input', `Field "${where}" is invalid: must be a 17-character id`);
      return value as string;
    };
    const header = request.headers['x-account-id'];
    if (header !== undefined && (typeof header !== 'string' || !ID_PATTERN.test(header)))
      throw new AppError(
        'invalid-input',
        'Header "X-Account-Id" is invalid: must be a 17-character account id',
      );
    const accountId = field(rule.ownerFrom, `body.${rule.ownerFrom}`) ?? header ?? principal.userId;
    const groupId = field(rule.groupFrom, `body.${rule.groupFrom}`);
    // What is shared with a member is shared with the member, not with the account it acts in.
    if (accountId !== principal.userId && request.query?.ownership === 'sharedWithMe')
      throw new AppError(
        'invalid-input',
        'Query "ownership=sharedWithMe" lists what is shared with you: send it without X-Account-Id',
      );
    const ref = principalRef(principal);
    if (accountId === principal.userId && !groupId && !ref.scope) return { accountId };
    const decision = await this.rpc.call(PermissionsRpc.checkAccount, {
      principal: ref,
      accountId,
      resourceType: rule.type,
      permission: rule.permission,
      groupId,
    });
    if (!decision.allowed) {
      const what = rule.type.toLowerCase().replace(/_/g, ' ');
      throw new AppError(
        'insufficient-permissions',
        rule.permission === 'CREATE'
          ? `You may not create ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what} in account ${accountId}`
          : `You may not list the ${what}s of account ${accountId}`,
      );
    }
    return { accountId, ids: decision.ids };
  }

  /**
   * Rule 7: a valid pre-signed signature opens exactly the content it signs for READ, even on a
   * restricted store; tampered or expired is 403 `invalid-signature`. Signed URLs address by id.
   */
  private async verifySignature(
    signed: 'content' | 'record',
    type: string,
    ref: string,
    request: GuardedRequest,
  ): Promise<AuthorizedResource> {
    if (!(STORAGE_TYPES as readonly string[]).includes(type) || !idSchema.safeParse(ref).success) {
      throw AppError.notFound('The record');
    }
    // One answer for a bad signature, an unknown storage or a malformed one: no oracle for ids.
    const invalid = new AppError('invalid-signature', 'The signature is not valid for this content');
    const signature = String(request.query.signature);
    if (signature.length < 1 || signature.length > 200) throw invalid;
    try {
      await this.rpc.call(ResourcesRpc.verifySignature, {
        type: type as StorageType,
        id: ref,
        signature,
        recordKey: signed === 'record' ? request.params.recordKey : undefined,
      });
    } catch (err) {
      if (err instanceof AppError && (err.type === 'record-not-found' || err.type === 'invalid-input'))
        throw invalid;
      throw err;
    }
    return { id: ref, type: type as StorageType, permissions: ['READ'] };
  }
}
