import { Injectable, Logger } from '@nestjs/common';
import {
  ApiTokenScope,
  AppError,
  CreatedApiToken,
  IdentityRpc,
  Permission,
  PERMISSIONS_BY_TYPE,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { TokenVerifications } from '../auth/token-verifications';

/** What a collaborator's token may reach at most: the app's contents, never renaming, deleting or sharing it. */
const COLLABORATOR_TOKEN_PERMISSIONS: Permission[] = PERMISSIONS_BY_TYPE.APP.filter(
  (p) => p !== 'WRITE' && p !== 'MANAGE_ACCESS',
);

export function collaboratorTokenName(appId: string): string {
  return `app:${appId} collaborator`;
}

/**
 * The token's scope: the app, with the collaborator's scopes (and READ). Its listing shows what the
 * collaborator was given, not every app scope; the grant narrows it anyway (rule 1).
 */
export function collaboratorTokenScope(appId: string, scopes: readonly Permission[]): ApiTokenScope {
  const given = new Set<Permission>(['READ', ...scopes]);
  return {
    account: {},
    resources: [
      { type: 'APP', id: appId, permissions: COLLABORATOR_TOKEN_PERMISSIONS.filter((p) => given.has(p)) },
    ],
  };
}

/**
 * The personal access token every app collaborator receives (Clarifai): scoped to the app, so
 * that what it can do is the collaborator's scopes ∩ this scope (rule 1). Its secret goes to the
 * collaborator's token list only, never to whoever added the collaborator.
 */
@Injectable()
export class CollaboratorTokens {
  private readonly logger = new Logger(CollaboratorTokens.name);

  constructor(
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
  ) {}

  issue(appId: string, userId: string, scopes: readonly Permission[]): Promise<CreatedApiToken> {
    return this.rpc.call(IdentityRpc.createToken, {
      userId,
      token: { name: collaboratorTokenName(appId), scope: collaboratorTokenScope(appId, scopes) },
    });
  }

  /** Revokes the token at once; one the collaborator already revoked is fine. */
  async revoke(userId: string, tokenId: string): Promise<void> {
    try {
      await this.rpc.call(IdentityRpc.revokeToken, { userId, tokenId });
    } catch (err) {
      if (!(err instanceof AppError && err.type === 'record-not-found')) throw err;
    }
    this.tokens.forget(tokenId);
  }

  /** For undoing a step of a change that failed later: logs rather than hides the first failure. */
  async revokeQuietly(userId: string, tokenId: string): Promise<void> {
    await this.revoke(userId, tokenId).catch((err: unknown) =>
      this.logger.error(`Could not revoke collaborator token ${tokenId}: ${(err as Error).message}`),
    );
  }
}
