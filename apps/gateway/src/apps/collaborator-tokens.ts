import { Injectable, Logger } from '@nestjs/common';
import {
  ApiTokenScope,
  APP_SCOPES,
  AppError,
  AppScope,
  AppsRpc,
  CreatedApiToken,
  IdentityRpc,
  Permission,
  PermissionsRpc,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { TokenVerifications } from '../auth/token-verifications';

export function collaboratorTokenName(appId: string): string {
  return `app:${appId} collaborator`;
}

/**
 * What a collaborator's token may reach: the collaborator's scopes on the app (never renaming,
 * deleting or sharing it), so that the token lists what its holder may do with it.
 */
export function collaboratorTokenScope(appId: string, scopes: readonly Permission[]): ApiTokenScope {
  const appScopes = scopes.filter((p): p is AppScope => (APP_SCOPES as readonly string[]).includes(p));
  return {
    account: {},
    resources: [{ type: 'APP', id: appId, permissions: appScopes.length ? appScopes : ['READ'] }],
  };
}

/**
 * The personal access token every app collaborator receives (Clarifai): scoped to the
 * collaborator's scopes on the app, and following them when they change; what it can do is
 * the collaborator's access ∩ this scope (rule 1). Its secret is never shown to whoever added
 * the collaborator: the collaborator obtains it by rotating the token
 * (`POST /v2/users/me/tokens/:tokenId/rotate`).
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

  /**
   * Gives the collaborator's token (if the user is one) the scopes it now holds on the app;
   * one the collaborator revoked is left revoked.
   */
  async follow(appId: string, userId: string, scopes: readonly Permission[]): Promise<void> {
    const records = await this.rpc.call(AppsRpc.listCollaborators, { appId, userId });
    for (const record of records) {
      try {
        await this.rpc.call(IdentityRpc.setTokenScope, {
          userId: record.userId,
          tokenId: record.tokenId,
          scope: collaboratorTokenScope(appId, scopes),
        });
      } catch (err) {
        if (!(err instanceof AppError && err.type === 'record-not-found')) throw err;
        this.tokens.forget(record.tokenId); // revoked already: nothing is announced
        continue;
      }
      await this.tokens.revoked([record.tokenId]);
    }
  }

  /** Who holds a grant on the app (to follow a change made through the access API). */
  async grantHolder(appId: string, grantId: string): Promise<string | null> {
    let cursor: string | undefined;
    do {
      const listing = await this.rpc.call(PermissionsRpc.listAccess, {
        resourceType: 'APP',
        resourceId: appId,
        cursor,
      });
      const grant = listing.grants.find((g) => g.id === grantId);
      if (grant) return grant.userId;
      cursor = listing.nextCursor ?? undefined;
    } while (cursor);
    return null;
  }

  /** The user is no collaborator any more: its token is revoked and its record forgotten. */
  async removeCollaborator(appId: string, userId: string): Promise<void> {
    const records = await this.rpc.call(AppsRpc.listCollaborators, { appId, userId });
    for (const record of records) await this.revoke(record.userId, record.tokenId);
    if (records.length) await this.rpc.call(AppsRpc.forgetCollaborator, { appId, userId });
  }

  /** Revokes the token at once; one the collaborator already revoked is fine. */
  async revoke(userId: string, tokenId: string): Promise<void> {
    try {
      await this.rpc.call(IdentityRpc.revokeToken, { userId, tokenId });
    } catch (err) {
      if (!(err instanceof AppError && err.type === 'record-not-found')) throw err;
      this.tokens.forget(tokenId); // revoked already: nothing is announced
      return;
    }
    await this.tokens.revoked([tokenId]);
  }

  /** For undoing a step of a change that failed later: logs rather than hides the first failure. */
  async revokeQuietly(userId: string, tokenId: string): Promise<void> {
    await this.revoke(userId, tokenId).catch((err: unknown) =>
      this.logger.error(`Could not revoke collaborator token ${tokenId}: ${(err as Error).message}`),
    );
  }
}
