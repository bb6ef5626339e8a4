import { Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import {
  AppError,
  AuthResult,
  DEFAULT_ACCOUNT_GENERAL_ACCESS,
  Events,
  RpcPayload,
  IdentityRpc,
} from '@atrium/contracts';
import { AccessTokenClaims, hashTokenSecret, newId, randomBase62, secretMatches } from '@atrium/auth';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import * as argon2 from 'argon2';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { toAccountFacts, toUserView } from '../accounts/accounts.service';
import { UserEntity } from '../accounts/user.entity';
import { AccountThrottle } from './account-throttle';
import { RefreshTokenEntity } from './refresh-token.entity';

const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;
const UNIQUE_VIOLATION = '23505';

@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  /** Verified against when the login names nobody, so timing does not reveal which accounts exist. */
  private readonly decoyHash = argon2.hash(randomBase62(16), ARGON2_OPTIONS);

  constructor(
    private readonly dataSource: DataSource,
    private readonly jwt: JwtService,
    private readonly outbox: ServiceOutboxRelay,
    private readonly throttle: AccountThrottle,
  ) {}

  async signup(req: RpcPayload<typeof IdentityRpc.signup>): Promise<AuthResult> {
    const named = { username: req.username.toLowerCase(), email: req.email.toLowerCase() };
    await this.throttle.check([`signup:${named.username}`, `signup:${named.email}`]);
    const passwordHash = await argon2.hash(req.password, ARGON2_OPTIONS);
    try {
      const result = await this.dataSource.transaction(async (manager) => {
        const user = manager.create(UserEntity, {
          id: newId(),
          username: req.username,
          usernameLower: req.username.toLowerCase(),
          email: req.email.toLowerCase(),
          passwordHash,
          generalResourceAccess: DEFAULT_ACCOUNT_GENERAL_ACCESS,
          shareRunsWithPublicActorCreators: false,
          version: 1,
        });
        await manager.insert(UserEntity, user);
        const saved = await manager.findOneByOrFail(UserEntity, { id: user.id });
        await addToOutbox(manager, Events.accountCreated, toAccountFacts(saved));
        return this.issue(manager, saved, newId());
      });
      this.outbox.kick();
      return result;
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        // Counted against the accounts it named, so that probing which are registered is limited.
        const existing = await this.dataSource
          .getRepository(UserEntity)
          .createQueryBuilder('u')
          .where('u.username_lower = :username OR u.email = :email', named)
          .getMany();
        await this.throttle.recordFailure(
          existing.flatMap((u) => [
            ...(u.usernameLower === named.username ? [`signup:${named.username}`] : []),
            ...(u.email === named.email ? [`signup:${named.email}`] : []),
          ]),
        );
        throw new AppError('conflict', 'That username or email is already registered');
      }
      throw err;
    }
  }

  async login({ login, password }: RpcPayload<typeof IdentityRpc.login>): Promise<AuthResult> {
    const lower = login.toLowerCase();
    const user = await this.dataSource
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .where('(u.username_lower = :lower OR u.email = :lower)', { lower })
      // Organizations never sign in (they have no password either).
      .andWhere("u.kind = 'USER'")
      .getOne();
    // Known or not, the same work: a throttle check, one argon2 verification, one failure recorded.
    const account = [`login:${user?.id ?? lower}`];
    await this.throttle.check(account);
    const valid = await argon2.verify(user?.passwordHash ?? (await this.decoyHash), password);
    if (!user || !valid) {
      await this.throttle.recordFailure(account);
      throw new AppError('token-not-valid', 'Invalid login or password');
    }
    await this.throttle.clear(account);
    return this.dataSource.transaction((manager) => this.issue(manager, user, newId()));
  }

  /** Rotates: the presented token is spent; presenting a spent token revokes its whole family. */
  async refresh(refreshToken: string): Promise<AuthResult> {
    const parsed = parseRefreshToken(refreshToken);
    const outcome = await this.dataSource.transaction(async (manager) => {
      const token = parsed
        ? await manager.findOne(RefreshTokenEntity, {
            where: { id: parsed.id },
            lock: { mode: 'pessimistic_write' },
          })
        : null;
      if (!token || !parsed || !secretMatches(parsed.secret, token.secretHash)) return 'invalid' as const;
      if (token.revokedAt || token.expiresAt <= new Date()) return 'invalid' as const;
      if (token.usedAt) {
        await this.revokeFamily(manager, token.familyId);
        return 'reused' as const;
      }
      token.usedAt = new Date();
      await manager.save(token);
      const user = await manager.findOneByOrFail(UserEntity, { id: token.userId });
      return this.issue(manager, user, token.familyId);
    });
    if (outcome === 'reused') {
      this.logger.warn('Refresh token reuse detected; its family is revoked');
      throw new AppError(
        'token-not-valid',
        'Refresh token was already used; all sessions of this login are revoked',
      );
    }
    if (outcome === 'invalid') throw new AppError('token-not-valid', 'Refresh token is not valid');
    return outcome;
  }

  async logout(refreshToken: string): Promise<{ ok: true }> {
    const parsed = parseRefreshToken(refreshToken);
    const token = parsed
      ? await this.dataSource.manager.findOneBy(RefreshTokenEntity, { id: parsed.id })
      : null;
    if (!token || !parsed || !secretMatches(parsed.secret, token.secretHash)) {
      throw new AppError('token-not-valid', 'Refresh token is not valid');
    }
    await this.revokeFamily(this.dataSource.manager, token.familyId);
    return { ok: true };
  }

  private async revokeFamily(manager: EntityManager, familyId: string): Promise<void> {
    await manager.update(RefreshTokenEntity, { familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  private async issue(manager: EntityManager, user: UserEntity, familyId: string): Promise<AuthResult> {
    const id = newId();
    const secret = randomBase62(40);
    await manager.insert(RefreshTokenEntity, {
      id,
      familyId,
      userId: user.id,
      secretHash: hashTokenSecret(secret),
      expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS),
      usedAt: null,
      revokedAt: null,
    });
    const claims: AccessTokenClaims = { sub: user.id, username: user.username, typ: 'access' };
    return {
      user: toUserView(user),
      accessToken: await this.jwt.signAsync(claims),
      refreshToken: `${id}.${secret}`,
    };
  }
}

function parseRefreshToken(token: string): { id: string; secret: string } | null {
  const match = /^([A-Za-z0-9]{17})\.([A-Za-z0-9]{40})$/.exec(token);
  return match ? { id: match[1], secret: match[2] } : null;
}
