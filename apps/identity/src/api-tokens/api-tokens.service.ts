import { Injectable } from '@nestjs/common';
import {
  ApiTokenScope,
  ApiTokenView,
  AppError,
  CreatedApiToken,
  Events,
  VerifiedApiToken,
} from '@atrium/contracts';
import { API_TOKEN_PREFIX, generateApiToken, newId, parseApiToken, secretMatches } from '@atrium/auth';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { UserEntity } from '../accounts/user.entity';
import { ApiTokenEntity } from './api-token.entity';

const LAST_USED_RESOLUTION_MS = 60_000;

function toView(token: ApiTokenEntity): ApiTokenView {
  return {
    id: token.id,
    name: token.name,
    prefix: `${API_TOKEN_PREFIX}${token.id}`,
    scope: token.scope,
    expiresAt: token.expiresAt?.toISOString() ?? null,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class ApiTokensService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  /**
   * With `options.manager`, the token is inserted in the caller's transaction (e.g. one that holds
   * the lock its permission check needs), and the caller kicks the outbox after the commit.
   */
  async create(
    userId: string,
    input: { name: string; expiresAt?: string | null; scope?: ApiTokenScope | null },
    options: { createdBy?: string; manager?: EntityManager } = {},
  ): Promise<CreatedApiToken> {
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt && expiresAt <= new Date())
      throw new AppError('invalid-input', 'Field "body.expiresAt" must be in the future');
    await (options.manager ?? this.dataSource.manager)
      .findOneByOrFail(UserEntity, { id: userId })
      .catch(() => {
        throw AppError.notFound('The user');
      });
    const id = newId();
    const { token, secretHash } = generateApiToken(id);
    const insert = async (manager: EntityManager) => {
      await manager.insert(ApiTokenEntity, {
        id,
        userId,
        name: input.name,
        createdBy: options.createdBy ?? null,
        secretHash,
        scope: input.scope ?? null,
        expiresAt,
        revokedAt: null,
        lastUsedAt: null,
      });
      await addToOutbox(manager, Events.apiTokenCreated, {
        tokenId: id,
        userId,
        name: input.name,
        expiresAt: expiresAt?.toISOString() ?? null,
        scope: input.scope ?? null,
      });
      return manager.findOneByOrFail(ApiTokenEntity, { id });
    };
    if (options.manager) return { ...toView(await insert(options.manager)), token };
    const saved = await this.dataSource.transaction(insert);
    this.outbox.kick();
    return { ...toView(saved), token };
  }

  async list(userId: string): Promise<ApiTokenView[]> {
    const tokens = await this.dataSource.manager.find(ApiTokenEntity, {
      where: { userId, revokedAt: IsNull() },
      order: { createdAt: 'DESC' },
    });
    return tokens.map(toView);
  }

  async revoke(userId: string, tokenId: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        ApiTokenEntity,
        { id: tokenId, userId, revokedAt: IsNull() },
        { revokedAt: new Date() },
      );
      if (!result.affected) throw AppError.notFound('The token');
      await addToOutbox(manager, Events.apiTokenRevoked, { tokenId, userId });
    });
    this.outbox.kick();
    return { ok: true };
  }

  /**
   * A new secret for a live token of the user, returned once: the old secret stops working at
   * once (every gateway drops it on `api-token.changed`). Name, scope and expiry stay.
   */
  async rotate(userId: string, tokenId: string): Promise<CreatedApiToken> {
    const { token, secretHash } = generateApiToken(tokenId);
    const saved = await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        ApiTokenEntity,
        { id: tokenId, userId, revokedAt: IsNull() },
        { secretHash },
      );
      if (!result.affected) throw AppError.notFound('The token');
      const found = await manager.findOneByOrFail(ApiTokenEntity, { id: tokenId });
      await addToOutbox(manager, Events.apiTokenChanged, {
        tokenId,
        userId,
        change: 'rotated',
        scope: found.scope,
      });
      return found;
    });
    this.outbox.kick();
    return { ...toView(saved), token };
  }

  /** Replaces the scope of a live token of the user; its next request is decided on the new one. */
  async setScope(userId: string, tokenId: string, scope: ApiTokenScope): Promise<ApiTokenView> {
    const saved = await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        ApiTokenEntity,
        { id: tokenId, userId, revokedAt: IsNull() },
        { scope },
      );
      if (!result.affected) throw AppError.notFound('The token');
      await addToOutbox(manager, Events.apiTokenChanged, { tokenId, userId, change: 'scope-changed', scope });
      return manager.findOneByOrFail(ApiTokenEntity, { id: tokenId });
    });
    this.outbox.kick();
    return toView(saved);
  }

  /** Checked on every request that presents the token, so a revocation applies to the next one. */
  async verify(token: string): Promise<VerifiedApiToken> {
    const parsed = parseApiToken(token);
    const invalid = new AppError('token-not-valid', 'The API token is not valid');
    if (!parsed) throw invalid;
    const found = await this.dataSource
      .getRepository(ApiTokenEntity)
      .createQueryBuilder('t')
      .innerJoinAndMapOne('t.user', UserEntity, 'u', 'u.id = t.user_id')
      .where('t.id = :id', { id: parsed.tokenId })
      .getOne();
    if (!found || found.revokedAt || !secretMatches(parsed.secret, found.secretHash)) throw invalid;
    if (found.expiresAt && found.expiresAt <= new Date())
      throw new AppError('token-not-valid', 'The API token has expired');
    const now = Date.now();
    if (!found.lastUsedAt || now - found.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.dataSource.manager.update(ApiTokenEntity, { id: found.id }, { lastUsedAt: new Date(now) });
    }
    const user = (found as ApiTokenEntity & { user: UserEntity }).user;
    return {
      userId: user.id,
      username: user.username,
      tokenId: found.id,
      scope: found.scope,
      expiresAt: found.expiresAt?.toISOString() ?? null,
    };
  }
}
