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

/** What a collaborator's token may reach: the app's contents, never renaming, deleting or sharing it. */
const COLLABORATOR_TOKEN_PERMISSIONS: Permission[] = PERMISSIONS_BY_TYPE.APP.filter(
  (p) => p !== 'WRITE' && p !== 'MANAGE_ACCESS',
);

export function collaboratorTokenName(appId: string): string {
  return `app:${appId} collaborator`;
}

export function collaboratorTokenScope(appId: string): ApiTokenScope {
  return {
    account: {},
    resources: [{ type: 'APP', id: appId, permissions: COLLABORATOR_TOKEN_PERMISSIONS }],
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

  issue(appId: string, userId: string): Promise<CreatedApiToken> {
    return this.rpc.call(IdentityRpc.createToken, {
      userId,
      token: { name: collaboratorTokenName(appId), scope: collaboratorTokenScope(appId) },
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
