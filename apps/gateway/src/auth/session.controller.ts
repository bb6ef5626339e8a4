import { Controller, Delete, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { Throttle, ThrottlerGuard } from '@nestjs/throttler';
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
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { Public } from '../authorization/authorize.decorator';
import { ChangesNoAccess } from '../authorization/access-changes';
import { Returns, ValidBody } from '../http/validated';
import { named } from '../http/zod-openapi';
import { userView } from '../http/views';
import { withRetryAfter } from './auth.controller';
import { RefreshBucket } from './auth-throttle';
import { SessionVerifications } from './session-verifications';

/** The refresh token, sent back only to the session routes, never readable by scripts. */
export const REFRESH_COOKIE = 'atrium_refresh';
/** The CSRF token: readable by the console's scripts, which send it back as `x-csrf-token`. */
export const CSRF_COOKIE = 'atrium_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SESSION_PATH = '/v2/auth/session';

/**
 * The cookies' names and the refresh cookie's path. Over HTTPS the names carry the `__Host-` prefix:
 * the browser takes such a cookie only from a secure page of this very host (Secure, no Domain,
 * Path=/), so a sibling subdomain, another port or a plain-HTTP page cannot toss one in. Over plain
 * HTTP (local use) they cannot, and the names are plain.
 */
function cookieNames(secure: boolean) {
  return secure
    ? { refresh: `__Host-${REFRESH_COOKIE}`, csrf: `__Host-${CSRF_COOKIE}`, refreshPath: '/' }
    : { refresh: REFRESH_COOKIE, csrf: CSRF_COOKIE, refreshPath: SESSION_PATH };
}

/** Every name in a Cookie header, as often as it comes (`cookie`'s parse keeps one value a name). */
function namesIn(header: string | undefined): string[] {
  return (header ?? '')
    .split(';')
    .map((pair) => pair.split('=', 1)[0].trim())
    .filter(Boolean);
}

/** `/a/b/c` → `/`, `/a`, `/a/b`, `/a/b/c`: the cookie paths a browser sends to this path. */
function pathPrefixes(url: string): string[] {
  const parts = url.split('?', 1)[0].split('/').filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

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
  @RefreshBucket()
  @ChangesNoAccess()
  @HttpCode(200)
  @Returns(sessionView, { errors: [401, 403] })
  async refresh(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: BrowserSession }> {
    const refreshToken = this.checkedRefreshCookie(request, reply);
    if (!refreshToken) throw new AppError('token-not-valid', 'No session: sign in');
    try {
      return {
        data: this.open(
          request,
          reply,
          await this.rpc.call(IdentityRpc.refresh, { refreshToken, retryGrace: true }),
        ),
      };
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
    const refreshToken = this.checkedRefreshCookie(request, reply);
    this.clear(request, reply);
    if (!refreshToken) return;
    try {
      const ended = await this.rpc.call(IdentityRpc.logout, { refreshToken });
      await this.sessions.ended(ended.sessionIds);
    } catch (err) {
      // Signed out already (the session had ended): the cookies are cleared all the same.
      if (!(err instanceof AppError && err.type === 'token-not-valid')) throw err;
    }
  }

  /**
   * The request's refresh cookie, undefined when it has none (well-formed): no session. A cookie
   * name sent twice is refused (401, the cookies cleared). With a refresh cookie, the `x-csrf-token`
   * header must equal the CSRF cookie, and that be the session's (403 otherwise), or the request may
   * come from another site's page.
   */
  private checkedRefreshCookie(request: FastifyRequest, reply: FastifyReply): string | undefined {
    const names = cookieNames(this.secure(request));
    const sent = namesIn(request.headers.cookie);
    if ([names.refresh, names.csrf].some((name) => sent.indexOf(name) !== sent.lastIndexOf(name))) {
      // Another origin of the same site (another port, a sibling subdomain) may have set one; which
      // is the user's cannot be told, so none is used and all are cleared.
      this.clear(request, reply, { everyPath: true });
      throw new AppError('token-not-valid', 'Conflicting session cookies: sign in again');
    }
    const cookies = cookiesOf(request);
    const refresh = cookies[names.refresh];
    if (!refresh || !refreshTokenSchema.safeParse(refresh).success) return undefined;
    const header = request.headers[CSRF_HEADER];
    const csrf = cookies[names.csrf];
    if (typeof header !== 'string' || !header || !csrf || !sameSecret(header, csrf)) {
      throw new AppError(
        'insufficient-permissions',
        `The ${CSRF_HEADER} header must be present and equal the ${names.csrf} cookie`,
      );
    }
    if (!sameSecret(csrf, this.csrfTokenOf(refresh))) {
      throw new AppError(
        'insufficient-permissions',
        `The ${names.csrf} cookie is not this session's: sign in again`,
      );
    }
    return refresh;
  }

  /**
   * The CSRF token is bound to the refresh token (an HMAC of it under the gateway's JWT secret, for
   * this purpose only), so a CSRF cookie set by someone else does not pair with the user's refresh
   * cookie. Both rotate together.
   */
  private csrfTokenOf(refreshToken: string): string {
    return createHmac('sha256', this.config.JWT_SECRET)
      .update(`atrium-csrf:${refreshToken}`)
      .digest('base64url');
  }

  /** Sets the session's cookies; the refresh token goes in its cookie only, never in the body. */
  private open(request: FastifyRequest, reply: FastifyReply, auth: AuthResult): BrowserSession {
    const csrfToken = this.csrfTokenOf(auth.refreshToken);
    const maxAge = Math.floor(REFRESH_TOKEN_TTL_MS / 1000);
    const secure = this.secure(request);
    const names = cookieNames(secure);
    void reply.header('set-cookie', [
      serializeCookie(names.refresh, auth.refreshToken, {
        httpOnly: true,
        sameSite: 'strict',
        path: names.refreshPath,
        secure,
        maxAge,
      }),
      serializeCookie(names.csrf, csrfToken, { sameSite: 'strict', path: '/', secure, maxAge }),
    ]);
    return { user: auth.user, accessToken: auth.accessToken, csrfToken };
  }

  /**
   * Expires the session's cookies where they are set; with `everyPath` (conflicting cookies), the
   * plain-named ones also on every path the browser sends to this route, where another origin of the
   * site may have put its own.
   */
  private clear(request: FastifyRequest, reply: FastifyReply, { everyPath = false } = {}): void {
    const secure = this.secure(request);
    const names = cookieNames(secure);
    const gone: SerializeOptions = { sameSite: 'strict', secure, maxAge: 0, expires: new Date(0) };
    const lines = [
      serializeCookie(names.refresh, '', { ...gone, httpOnly: true, path: names.refreshPath }),
      serializeCookie(names.csrf, '', { ...gone, path: '/' }),
    ];
    if (everyPath) {
      for (const path of pathPrefixes(request.url)) {
        for (const name of [REFRESH_COOKIE, CSRF_COOKIE]) {
          lines.unshift(serializeCookie(name, '', { ...gone, httpOnly: name === REFRESH_COOKIE, path }));
        }
      }
    }
    void reply.header('set-cookie', lines);
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
