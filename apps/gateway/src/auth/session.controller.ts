import { Controller, Delete, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Throttle, ThrottlerGuard } from '@nestjs/throttler';
import { randomBase62 } from '@atrium/auth';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import {
  AppError,
  AuthResult,
  IdentityRpc,
  loginBody,
  REFRESH_TOKEN_TTL_MS,
  refreshTokenSchema,
  signupBody,
  UserView,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { parse as parseCookies, serialize as serializeCookie, SerializeOptions } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { Public } from '../authorization/authorize.decorator';
import { ChangesNoAccess } from '../authorization/access-changes';
import { Returns, ValidBody } from '../http/validated';
import { named } from '../http/zod-openapi';
import { userView } from '../http/views';
import { withRetryAfter } from './auth.controller';
import { SessionVerifications } from './session-verifications';

/** The refresh token, sent back only to the session routes, never readable by scripts. */
export const REFRESH_COOKIE = 'atrium_refresh';
/** The CSRF token: readable by the console's scripts, which send it back as `x-csrf-token`. */
export const CSRF_COOKIE = 'atrium_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SESSION_PATH = '/v2/auth/session';

export interface BrowserSession {
  user: UserView;
  accessToken: string;
  csrfToken: string;
}

const sessionView = named(
  'BrowserSession',
  z.object({ user: userView, accessToken: z.string(), csrfToken: z.string() }),
);

function cookiesOf(request: FastifyRequest): Record<string, string | undefined> {
  const header = request.headers.cookie;
  return header ? parseCookies(header) : {};
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Sessions for the web console: the refresh token in an HttpOnly, SameSite=Strict cookie scoped to
 * these routes, the access token in the answer (kept in memory by the console). The routes that
 * read the cookie want the CSRF token back as a header (double submit: a cross-site page can make
 * the browser send the cookie, not read it). The token routes (`/v2/auth/login`, `refresh`,
 * `logout`) are unchanged for API clients.
 */
@ApiTags('auth')
@Controller('v2/auth/session')
@Public()
@UseGuards(ThrottlerGuard)
@Throttle({ default: {} })
export class SessionController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly sessions: SessionVerifications,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Signs in (login by username or email): the session's cookies and its access token. */
  @Post()
  @ChangesNoAccess()
  @HttpCode(201)
  @Returns(sessionView, { errors: [401] })
  async signIn(
    @ValidBody(loginBody, { required: true }) input: z.output<typeof loginBody>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: BrowserSession }> {
    const auth = await withRetryAfter(reply, this.rpc.call(IdentityRpc.login, input));
    return { data: this.open(request, reply, auth) };
  }

  /** Signs up and signs in at once. */
  @Post('signup')
  @ChangesNoAccess()
  @HttpCode(201)
  @Returns(sessionView, { errors: [409] })
  async signUp(
    @ValidBody(signupBody, { required: true }) input: z.output<typeof signupBody>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: BrowserSession }> {
    const auth = await withRetryAfter(reply, this.rpc.call(IdentityRpc.signup, input));
    return { data: this.open(request, reply, auth) };
  }

  /**
   * A new access token for the session cookie, which is rotated: a spent refresh cookie presented
   * again revokes the whole session (as `POST /v2/auth/refresh` does).
   */
  @Post('refresh')
  @ChangesNoAccess()
  @HttpCode(200)
  @Returns(sessionView, { errors: [401, 403] })
  async refresh(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: BrowserSession }> {
    const refreshToken = this.checkedRefreshCookie(request);
    if (!refreshToken) throw new AppError('token-not-valid', 'No session: sign in');
    try {
      return { data: this.open(request, reply, await this.rpc.call(IdentityRpc.refresh, { refreshToken })) };
    } catch (err) {
      // A cookie that no longer works is of no use to keep.
      if (err instanceof AppError && err.type === 'token-not-valid') this.clear(request, reply);
      throw err;
    }
  }

  /** Signs out: the session's refresh tokens are revoked, its access tokens refused, its cookies cleared. */
  @Delete()
  @ChangesNoAccess()
  @HttpCode(204)
  @Returns(null, { errors: [403] })
  async signOut(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const refreshToken = this.checkedRefreshCookie(request);
    this.clear(request, reply);
    if (!refreshToken) return;
    try {
      const ended = await this.rpc.call(IdentityRpc.logout, { refreshToken });
      this.sessions.forget(ended.sessionIds);
    } catch (err) {
      // Signed out already (the session had ended): the cookies are cleared all the same.
      if (!(err instanceof AppError && err.type === 'token-not-valid')) throw err;
    }
  }

  /**
   * The request's refresh cookie, undefined when it has none (well-formed): no session. With one,
   * the `x-csrf-token` header must equal the CSRF cookie (403 otherwise), or the request may come
   * from another site's page.
   */
  private checkedRefreshCookie(request: FastifyRequest): string | undefined {
    const cookies = cookiesOf(request);
    const refresh = cookies[REFRESH_COOKIE];
    if (!refresh || !refreshTokenSchema.safeParse(refresh).success) return undefined;
    const header = request.headers[CSRF_HEADER];
    const csrf = cookies[CSRF_COOKIE];
    if (typeof header !== 'string' || !header || !csrf || !sameSecret(header, csrf)) {
      throw new AppError(
        'insufficient-permissions',
        `The ${CSRF_HEADER} header must be present and equal the ${CSRF_COOKIE} cookie`,
      );
    }
    return refresh;
  }

  /** Sets the session's cookies; the refresh token goes in its cookie only, never in the body. */
  private open(request: FastifyRequest, reply: FastifyReply, auth: AuthResult): BrowserSession {
    const csrfToken = randomBase62(32);
    const maxAge = Math.floor(REFRESH_TOKEN_TTL_MS / 1000);
    const secure = this.secure(request);
    void reply.header('set-cookie', [
      serializeCookie(REFRESH_COOKIE, auth.refreshToken, {
        httpOnly: true,
        sameSite: 'strict',
        path: SESSION_PATH,
        secure,
        maxAge,
      }),
      serializeCookie(CSRF_COOKIE, csrfToken, { sameSite: 'strict', path: '/', secure, maxAge }),
    ]);
    return { user: auth.user, accessToken: auth.accessToken, csrfToken };
  }

  private clear(request: FastifyRequest, reply: FastifyReply): void {
    const gone: SerializeOptions = {
      sameSite: 'strict',
      secure: this.secure(request),
      maxAge: 0,
      expires: new Date(0),
    };
    void reply.header('set-cookie', [
      serializeCookie(REFRESH_COOKIE, '', { ...gone, httpOnly: true, path: SESSION_PATH }),
      serializeCookie(CSRF_COOKIE, '', { ...gone, path: '/' }),
    ]);
  }

  /**
   * Secure cookies when the browser talks HTTPS: the public address is https (a TLS proxy in
   * front), the connection is TLS, or a proxy says so (only ever adds a restriction).
   */
  private secure(request: FastifyRequest): boolean {
    const forwarded = request.headers['x-forwarded-proto'];
    const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    return (
      this.config.PUBLIC_BASE_URL.startsWith('https:') || request.protocol === 'https' || proto === 'https'
    );
  }
}
