import { isUniqueViolation } from '@atrium/persistence';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import {
  AppError,
  AuthResult,
  DEFAULT_ACCOUNT_GENERAL_ACCESS,
  EndedSessions,
  Events,
  MailRequested,
  RpcPayload,
  IdentityRpc,
  REFRESH_RETRY_GRACE_MS,
  REFRESH_TOKEN_TTL_MS,
} from '@atrium/contracts';
import { AccessTokenClaims, hashTokenSecret, newId, randomBase62, secretMatches } from '@atrium/auth';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import * as argon2 from 'argon2';
import { IdentityConfig } from '@atrium/config';
import { DataSource, EntityManager, IsNull, MoreThan, Not } from 'typeorm';
import { toAccountFacts, toUserView } from '../accounts/accounts.service';
import { UserEntity } from '../accounts/user.entity';
import { IDENTITY_CONFIG, Mailer, OutgoingMail } from '../mail/mailer';
import { MailMessages } from '../mail/mail-messages';
import { mailedTokenMatches, newMailedToken, parseMailedToken } from '../mail/mailed-token';
import { AccountThrottle } from './account-throttle';
import { OneTimeTokenEntity, OneTimeTokenPurpose } from './one-time-token.entity';
import { RefreshTokenEntity } from './refresh-token.entity';

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;
const TOKEN_TTL_MS: Record<OneTimeTokenPurpose, number> = {
  VERIFY_EMAIL: 24 * 60 * 60 * 1000,
  RESET_PASSWORD: 60 * 60 * 1000,
};
const MAIL_REQUESTED: MailRequested = {
  accepted: true,
  message: 'If the address belongs to an account, a mail is on its way to it',
};

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
    private readonly mailer: Mailer,
    @Inject(IDENTITY_CONFIG) private readonly config: IdentityConfig,
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
        const verification = await this.newToken(manager, saved, 'VERIFY_EMAIL');
        return { auth: await this.issue(manager, saved, newId()), verification };
      });
      this.outbox.kick();
      await this.mailer.send(result.verification);
      return result.auth;
    } catch (err) {
      if (isUniqueViolation(err)) {
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
    // Known or not, the same work: an attempt reserved (counted before it is verified, so that
    // concurrent attempts cannot outrun the limit), one argon2 verification.
    const account = `login:${user?.id ?? lower}`;
    await this.throttle.reserve(account);
    const valid = await argon2.verify(user?.passwordHash ?? (await this.decoyHash), password);
    if (!user || !valid) throw new AppError('token-not-valid', 'Invalid login or password');
    await this.throttle.clear([account]);
    return this.dataSource.transaction((manager) => this.issue(manager, user, newId()));
  }

  /** Spent within the grace period, and no later token of its family has been used. */
  private async isRetryOfLostAnswer(manager: EntityManager, token: RefreshTokenEntity): Promise<boolean> {
    const spentAt = token.usedAt!;
    if (Date.now() - spentAt.getTime() > REFRESH_RETRY_GRACE_MS) return false;
    const usedSince = await manager.exists(RefreshTokenEntity, {
      // Its own row is excluded by id: createdAt has microseconds in the database, not here.
      where: {
        familyId: token.familyId,
        id: Not(token.id),
        createdAt: MoreThan(token.createdAt),
        usedAt: Not(IsNull()),
      },
    });
    return !usedSince;
  }

  /**
   * Rotates: the presented token is spent; presenting a spent token revokes its whole family. With
   * `retryGrace` (browser sessions), a token spent less than REFRESH_RETRY_GRACE_MS ago whose
   * successors were never used is a retry of a lost answer: its unused successors expire and
   * a new pair continues the family. Once a successor has been used, a replay is reuse.
   */
  async refresh(refreshToken: string, options: { retryGrace?: boolean } = {}): Promise<AuthResult> {
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
        if (options.retryGrace && (await this.isRetryOfLostAnswer(manager, token))) {
          await manager.update(
            RefreshTokenEntity,
            {
              familyId: token.familyId,
              usedAt: IsNull(),
              revokedAt: IsNull(),
              createdAt: MoreThan(token.createdAt),
            },
            // Expired, not revoked: a revoked token would end the session (verifySession).
            { expiresAt: new Date() },
          );
          const user = await manager.findOneByOrFail(UserEntity, { id: token.userId });
          return this.issue(manager, user, token.familyId);
        }
        await this.endSessions(manager, token.userId, { familyId: token.familyId });
        return 'reused' as const;
      }
      token.usedAt = new Date();
      await manager.save(token);
      const user = await manager.findOneByOrFail(UserEntity, { id: token.userId });
      return this.issue(manager, user, token.familyId);
    });
    if (outcome === 'reused') {
      this.outbox.kick();
      this.logger.warn('Refresh token reuse detected; its family is revoked');
      throw new AppError(
        'token-not-valid',
        'Refresh token was already used; all sessions of this login are revoked',
      );
    }
    if (outcome === 'invalid') throw new AppError('token-not-valid', 'Refresh token is not valid');
    return outcome;
  }

  /** Ends the session (the refresh token's family): its refresh tokens and its access tokens. */
  async logout(refreshToken: string): Promise<EndedSessions> {
    const parsed = parseRefreshToken(refreshToken);
    const token = parsed
      ? await this.dataSource.manager.findOneBy(RefreshTokenEntity, { id: parsed.id })
      : null;
    if (!token || !parsed || !secretMatches(parsed.secret, token.secretHash)) {
      throw new AppError('token-not-valid', 'Refresh token is not valid');
    }
    await this.dataSource.transaction((manager) =>
      this.endSessions(manager, token.userId, { familyId: token.familyId }),
    );
    this.outbox.kick();
    // Named even when it had ended already, so that the gateway forgets it in any case.
    return { userId: token.userId, sessionIds: [token.familyId] };
  }

  /**
   * Whether an access token's session is open: it exists, belongs to the user, and none of its
   * refresh tokens was revoked (logout, password change or reset, reuse revoke the whole family).
   */
  async verifySession(userId: string, sessionId: string): Promise<{ ok: true }> {
    const row = await this.dataSource
      .getRepository(RefreshTokenEntity)
      .createQueryBuilder('r')
      .select('count(*)::int', 'tokens')
      .addSelect('count(r.revoked_at)::int', 'revoked')
      .where('r.family_id = :sessionId AND r.user_id = :userId', { sessionId, userId })
      .getRawOne<{ tokens: number; revoked: number }>();
    if (!row || row.tokens === 0 || row.revoked > 0)
      throw new AppError('token-not-valid', 'The session of this access token has ended');
    return { ok: true };
  }

  async verifyEmail(token: string): Promise<{ emailVerified: true }> {
    await this.dataSource.transaction(async (manager) => {
      const { record, user } = await this.spend(manager, token, 'VERIFY_EMAIL');
      if (user.email !== record.email)
        throw invalidToken('it was sent to an address the account no longer has');
      if (!user.emailVerifiedAt)
        await manager.update(UserEntity, { id: user.id }, { emailVerifiedAt: new Date() });
    });
    return { emailVerified: true };
  }

  /** A new verification mail, for an unverified account with that address; the answer is the same either way. */
  async resendVerification(email: string): Promise<MailRequested> {
    await this.mailRequest(email, async (manager, user) =>
      user.emailVerifiedAt ? null : this.newToken(manager, user, 'VERIFY_EMAIL'),
    );
    return MAIL_REQUESTED;
  }

  async requestPasswordReset(email: string): Promise<MailRequested> {
    await this.mailRequest(email, (manager, user) => this.newToken(manager, user, 'RESET_PASSWORD'));
    return MAIL_REQUESTED;
  }

  /** Sets the password from a mailed token (one-time, 1 hour) and ends every session of the account. */
  async confirmPasswordReset(token: string, newPassword: string): Promise<EndedSessions> {
    const passwordHash = await argon2.hash(newPassword, ARGON2_OPTIONS);
    const ended = await this.dataSource.transaction(async (manager) => {
      const { record, user } = await this.spend(manager, token, 'RESET_PASSWORD');
      // The reset proved the mailbox, as verification would have.
      const verified =
        user.email === record.email ? { emailVerifiedAt: user.emailVerifiedAt ?? new Date() } : {};
      await manager.update(UserEntity, { id: user.id }, { passwordHash, ...verified });
      return this.endSessions(manager, user.id, {});
    });
    this.outbox.kick();
    await this.throttle.clear([`login:${ended.userId}`]);
    return ended;
  }

  /**
   * Changes the password with the current one (an attempt counted like a login's) and ends every
   * other session of the user — every one when the change is made with an API token (no session).
   */
  async changePassword(
    userId: string,
    sessionId: string | null,
    change: { currentPassword: string; newPassword: string },
  ): Promise<EndedSessions> {
    const user = await this.dataSource.manager.findOneBy(UserEntity, { id: userId, kind: 'USER' });
    if (!user?.passwordHash) throw AppError.notFound('The user');
    const account = `login:${user.id}`;
    await this.throttle.reserve(account);
    if (!(await argon2.verify(user.passwordHash, change.currentPassword)))
      throw new AppError('invalid-input', 'Field "body.currentPassword" is invalid: it is not your password');
    await this.throttle.clear([account]);
    const passwordHash = await argon2.hash(change.newPassword, ARGON2_OPTIONS);
    const ended = await this.dataSource.transaction(async (manager) => {
      await manager.update(UserEntity, { id: user.id }, { passwordHash });
      return this.endSessions(manager, user.id, sessionId ? { except: sessionId } : {});
    });
    this.outbox.kick();
    return ended;
  }

  /**
   * Revokes the refresh tokens of the user's sessions — one (`familyId`), all but one (`except`) or
   * all — and announces the sessions that ended, in the same transaction, for the gateways to drop
   * their access tokens.
   */
  private async endSessions(
    manager: EntityManager,
    userId: string,
    which: { familyId?: string; except?: string },
  ): Promise<EndedSessions> {
    const query = manager
      .createQueryBuilder()
      .update(RefreshTokenEntity)
      .set({ revokedAt: () => 'now()' })
      .where('user_id = :userId AND revoked_at IS NULL', { userId });
    if (which.familyId) query.andWhere('family_id = :familyId', { familyId: which.familyId });
    if (which.except) query.andWhere('family_id <> :except', { except: which.except });
    const result = await query.returning(['familyId']).execute();
    const rows = (result.raw ?? []) as { family_id?: string; familyId?: string }[];
    const sessionIds = [...new Set(rows.map((r) => (r.family_id ?? r.familyId) as string))];
    if (sessionIds.length) await addToOutbox(manager, Events.sessionsEnded, { userId, sessionIds });
    return { userId, sessionIds };
  }

  /**
   * A mail asked for by address (verification again, password reset): limited per address whether
   * or not it is registered, and sent in the background, so that neither the answer nor its timing
   * tells whether the address has an account.
   */
  private async mailRequest(
    email: string,
    make: (manager: EntityManager, user: UserEntity) => Promise<OutgoingMail | null>,
  ): Promise<void> {
    // Checked and counted at once: concurrent requests cannot outrun the limit.
    await this.throttle.reserve(`mail:${email}`);
    void (async () => {
      const mail = await this.dataSource.transaction(async (manager) => {
        const user = await manager.findOneBy(UserEntity, { email, kind: 'USER' });
        return user ? make(manager, user) : null;
      });
      if (mail) await this.mailer.send(mail);
    })().catch((err: unknown) => this.logger.error(`Mail to ${email} failed: ${(err as Error).message}`));
  }

  /** A new token of the purpose for the user (replacing its unspent ones), and the mail that carries it. */
  private async newToken(
    manager: EntityManager,
    user: UserEntity,
    purpose: OneTimeTokenPurpose,
  ): Promise<OutgoingMail> {
    const email = user.email as string;
    await manager.delete(OneTimeTokenEntity, { userId: user.id, purpose, usedAt: IsNull() });
    const id = newId();
    const { token, secretHash } = newMailedToken(id);
    await manager.insert(OneTimeTokenEntity, {
      id,
      purpose,
      userId: user.id,
      email,
      secretHash,
      expiresAt: new Date(Date.now() + TOKEN_TTL_MS[purpose]),
      usedAt: null,
    });
    const base = this.config.PUBLIC_BASE_URL.replace(/\/$/, '');
    return purpose === 'VERIFY_EMAIL'
      ? MailMessages.verifyEmail(base, email, user.username, token)
      : MailMessages.resetPassword(base, email, user.username, token);
  }

  /** Spends a mailed token of the purpose (locked, once): else invalid-input naming `body.token`. */
  private async spend(
    manager: EntityManager,
    token: string,
    purpose: OneTimeTokenPurpose,
  ): Promise<{ record: OneTimeTokenEntity; user: UserEntity }> {
    const parsed = parseMailedToken(token);
    const record = parsed
      ? await manager.findOne(OneTimeTokenEntity, {
          where: { id: parsed.id },
          lock: { mode: 'pessimistic_write' },
        })
      : null;
    if (
      !parsed ||
      !record ||
      record.purpose !== purpose ||
      !mailedTokenMatches(parsed.secret, record.secretHash)
    )
      throw invalidToken('no such token was sent');
    if (record.usedAt) throw invalidToken('it was used already');
    if (record.expiresAt <= new Date()) throw invalidToken('it has expired: ask for a new one');
    const user = await manager.findOne(UserEntity, {
      where: { id: record.userId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!user) throw invalidToken('its account no longer exists');
    await manager.update(OneTimeTokenEntity, { id: record.id }, { usedAt: new Date() });
    return { record, user };
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
    const claims: AccessTokenClaims = { sub: user.id, username: user.username, typ: 'access', sid: familyId };
    return {
      user: toUserView(user),
      accessToken: await this.jwt.signAsync(claims),
      refreshToken: `${id}.${secret}`,
    };
  }
}

function invalidToken(why: string): AppError {
  return new AppError('invalid-input', `Field "body.token" is invalid: ${why}`);
}

function parseRefreshToken(token: string): { id: string; secret: string } | null {
  const match = /^([A-Za-z0-9]{17})\.([A-Za-z0-9]{40})$/.exec(token);
  return match ? { id: match[1], secret: match[2] } : null;
}
