import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import {
  AccessTokenClaims,
  API_TOKEN_PREFIX,
  JWT_ALGORITHM,
  JWT_AUDIENCE,
  JWT_ISSUER,
  looksLikeJwt,
  parseApiToken,
  parseRunToken,
  RUN_TOKEN_PREFIX,
} from '@atrium/auth';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { AppError, RunsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import type { FastifyRequest } from 'fastify';
import { Passport } from 'passport';
import { Strategy as CustomStrategy } from 'passport-custom';
import { presentedCredential } from './credentials';
import { Principal } from './principal';
import { SessionVerifications } from './session-verifications';
import { TokenVerifications } from './token-verifications';

const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });
const CREDENTIALS_STRATEGY = 'atrium-credentials';

/**
 * Runs on every route and sets `request.user`, through passport. The credential's shape picks the one way it can
 * be verified — an API token (`atrium_api_…`, by identity, cached per replica), a run token
 * (`atrium_run_…`, by resources, on every request) or an access token (a JWT: HS256 only, no
 * `none`, no RS/HS confusion, issuer, audience and expiry checked) — so no request pays for the
 * others. Anonymous only when no credential is presented: a presented but invalid credential is
 * 401, never a downgrade; a verifier that cannot answer is 503 (fail closed).
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly jwt: JwtService;
  /**
   * Passport, with one strategy that dispatches on the credential's shape. An instance of its own
   * per gateway (not passport's global registry), so that two gateways in one process never share
   * a strategy — and with it a token cache.
   */
  private readonly passport = new Passport();

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
    private readonly sessions: SessionVerifications,
  ) {
    this.jwt = new JwtService({ secret: config.JWT_SECRET });
    this.passport.use(
      CREDENTIALS_STRATEGY,
      new CustomStrategy((request, done) => {
        this.authenticate(request as unknown as FastifyRequest).then(
          (principal) => done(null, principal),
          (err: unknown) => done(err),
        );
      }),
    );
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: Principal }>();
    request.user = await new Promise<Principal>((resolve, reject) => {
      const authenticate = this.passport.authenticate(
        CREDENTIALS_STRATEGY,
        { session: false },
        (err: unknown, principal: Principal | false) => {
          if (err) reject(err);
          else if (principal) resolve(principal);
          else reject(new AppError('token-not-valid', 'The presented token is not valid or has expired'));
        },
      ) as (req: unknown, res: unknown, next: (err?: unknown) => void) => void;
      authenticate(request, http.getResponse(), reject);
    });
    return true;
  }

  async authenticate(request: FastifyRequest): Promise<Principal> {
    const credential = presentedCredential(request);
    if (credential === null) return ANONYMOUS;
    let principal: Principal | null = null;
    if (credential.startsWith(API_TOKEN_PREFIX)) principal = await this.apiToken(credential);
    else if (credential.startsWith(RUN_TOKEN_PREFIX)) principal = await this.runToken(credential);
    else if (looksLikeJwt(credential)) principal = await this.accessToken(credential);
    if (!principal) throw new AppError('token-not-valid', 'The presented token is not valid or has expired');
    return principal;
  }

  /**
   * Verified here (signature, algorithm, issuer, audience, expiry), then its session checked open
   * (cached per replica, dropped when the session ends), so a logout applies to the next request.
   */
  private async accessToken(token: string): Promise<Principal | null> {
    let claims: AccessTokenClaims;
    try {
      claims = this.jwt.verify<AccessTokenClaims>(token, {
        algorithms: [JWT_ALGORITHM],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        ignoreExpiration: false,
      });
    } catch {
      return null;
    }
    if (claims.typ !== 'access' || typeof claims.sub !== 'string' || typeof claims.sid !== 'string')
      return null;
    try {
      await this.sessions.verify(claims.sub, claims.sid);
    } catch (err) {
      if (isRejection(err)) return null;
      throw err; // identity unavailable: fail closed with 503
    }
    return {
      kind: 'user',
      userId: claims.sub,
      username: claims.username,
      credential: 'jwt',
      sessionId: claims.sid,
    };
  }

  /**
   * Verified by identity on a cache miss, so a revocation applies to the next request; a
   * malformed one is refused without a lookup.
   */
  private async apiToken(token: string): Promise<Principal | null> {
    if (!parseApiToken(token)) return null;
    try {
      const verified = await this.tokens.verify(token);
      return {
        kind: 'user',
        userId: verified.userId,
        username: verified.username,
        credential: 'api-token',
        tokenId: verified.tokenId,
        scope: verified.scope,
      };
    } catch (err) {
      if (isRejection(err)) return null;
      throw err; // identity unavailable: fail closed with 503, never anonymous
    }
  }

  /** Verified by resources on every request, so a finished run's token stops at once. */
  private async runToken(token: string): Promise<Principal | null> {
    if (!parseRunToken(token)) return null;
    try {
      const { runId, userId } = await this.rpc.call(RunsRpc.verifyToken, { token });
      return { kind: 'user', userId, credential: 'run-token', runId };
    } catch (err) {
      if (isRejection(err)) return null;
      throw err;
    }
  }
}

function isRejection(err: unknown): boolean {
  return err instanceof AppError && (err.type === 'token-not-valid' || err.type === 'invalid-input');
}
