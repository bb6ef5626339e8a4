import { createGatewayApp } from '@atrium/gateway';
import { uniqueName } from '@atrium/testing';
import { parseSetCookie } from 'cookie';
import request, { type Response } from 'supertest';
import { SignedUpUser, TestStack, replicaGatewayConfig, signUp, startTestStack } from './test-stack';

const PASSWORD = 'correct horse battery';
const THIRTY_DAYS = 30 * 24 * 60 * 60;

/** The response's Set-Cookie headers, parsed, in order. */
function setCookieList(res: Response) {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return (raw ?? []).map((line) => {
    const cookie = parseSetCookie(line);
    return { ...cookie, value: cookie.value ?? '' };
  });
}
/** The response's Set-Cookie headers, parsed, by cookie name (the last of a name). */
function setCookies(res: Response) {
  return Object.fromEntries(setCookieList(res).map((cookie) => [cookie.name, cookie]));
}

/** A browser's cookie jar for the session routes, kept by hand (what the console's browser does). */
interface Jar {
  refresh: string;
  csrf: string;
}
function jarOf(res: Response): Jar {
  const cookies = setCookies(res);
  return { refresh: cookies.atrium_refresh.value, csrf: cookies.atrium_csrf.value };
}
const cookieHeader = (jar: Partial<Jar>) =>
  [
    jar.refresh !== undefined ? `atrium_refresh=${jar.refresh}` : '',
    jar.csrf !== undefined ? `atrium_csrf=${jar.csrf}` : '',
  ]
    .filter(Boolean)
    .join('; ');

describe('browser sessions (the web console)', () => {
  let t: TestStack;
  let alice: SignedUpUser;

  beforeAll(async () => {
    t = await startTestStack();
    alice = await signUp(t, uniqueName('alice'));
  });
  afterAll(() => t.close());

  const signIn = () =>
    t.http().post('/v2/auth/session').send({ login: alice.username, password: PASSWORD }).expect(201);
  /** A refresh as the console sends it; `csrfHeader` null sends no header. */
  const refresh = (jar: Partial<Jar>, csrfHeader: string | null | undefined = jar.csrf) => {
    const req = t.http().post('/v2/auth/session/refresh').set('cookie', cookieHeader(jar));
    return csrfHeader == null ? req : req.set('x-csrf-token', csrfHeader);
  };

  it('signs in with cookies: the refresh token HttpOnly on the session path, never in the body', async () => {
    const res = await signIn();
    expect(Object.keys(res.body.data).sort()).toEqual(['accessToken', 'csrfToken', 'user']);
    expect(res.body.data.user).toMatchObject({ id: alice.id, username: alice.username });
    expect(JSON.stringify(res.body)).not.toContain(jarOf(res).refresh);
    const { atrium_refresh: refreshCookie, atrium_csrf: csrfCookie } = setCookies(res);
    expect(refreshCookie).toMatchObject({
      httpOnly: true,
      sameSite: 'strict',
      path: '/v2/auth/session',
      maxAge: THIRTY_DAYS,
    });
    expect(refreshCookie.secure).toBeFalsy();
    expect(refreshCookie.value.length).toBeGreaterThan(20);
    expect(csrfCookie).toMatchObject({
      sameSite: 'strict',
      path: '/',
      maxAge: THIRTY_DAYS,
      value: res.body.data.csrfToken,
    });
    expect(csrfCookie.httpOnly).toBeFalsy();
    // The access token works as any other.
    await t
      .http()
      .get('/v2/users/me')
      .set('authorization', `Bearer ${res.body.data.accessToken}`)
      .expect(200);
  });

  it('over HTTPS: Secure cookies with __Host- names (Path=/), the only names it reads then', async () => {
    const res = await t
      .http()
      .post('/v2/auth/session')
      .set('x-forwarded-proto', 'https')
      .send({ login: alice.username, password: PASSWORD })
      .expect(201);
    const cookies = setCookies(res);
    expect(Object.keys(cookies).sort()).toEqual(['__Host-atrium_csrf', '__Host-atrium_refresh']);
    expect(cookies['__Host-atrium_refresh']).toMatchObject({ secure: true, httpOnly: true, path: '/' });
    expect(cookies['__Host-atrium_refresh'].domain).toBeUndefined();
    expect(cookies['__Host-atrium_csrf']).toMatchObject({
      secure: true,
      path: '/',
      value: res.body.data.csrfToken,
    });
    const refreshToken = cookies['__Host-atrium_refresh'].value;
    const csrf = cookies['__Host-atrium_csrf'].value;
    const httpsRefresh = (cookie: string) =>
      t
        .http()
        .post('/v2/auth/session/refresh')
        .set('x-forwarded-proto', 'https')
        .set('cookie', cookie)
        .set('x-csrf-token', csrf);
    // Plain names are not read over HTTPS (a plain-HTTP page or another origin could have set them)…
    const plain = await httpsRefresh(`atrium_refresh=${refreshToken}; atrium_csrf=${csrf}`).expect(401);
    expect(plain.body.error.message).toBe('No session: sign in');
    // …nor the __Host- ones over HTTP…
    await refresh({}, csrf)
      .set('cookie', `__Host-atrium_refresh=${refreshToken}; __Host-atrium_csrf=${csrf}`)
      .expect(401);
    // …and the __Host- ones work over HTTPS, rotating under the same names.
    const rotated = await httpsRefresh(
      `__Host-atrium_refresh=${refreshToken}; __Host-atrium_csrf=${csrf}`,
    ).expect(200);
    expect(Object.keys(setCookies(rotated)).sort()).toEqual(['__Host-atrium_csrf', '__Host-atrium_refresh']);
  });

  it('refuses duplicated session cookies (cookie tossing from another origin of the site) and clears them', async () => {
    const victim = jarOf(await signIn());
    const mallory = await signUp(t, uniqueName('mallory'));
    const attacker = jarOf(
      await t
        .http()
        .post('/v2/auth/session')
        .send({ login: mallory.username, password: PASSWORD })
        .expect(201),
    );
    const tossed = [
      // The attacker's refresh cookie on a more specific path comes first.
      `atrium_refresh=${attacker.refresh}; atrium_refresh=${victim.refresh}; atrium_csrf=${attacker.csrf}`,
      `atrium_refresh=${victim.refresh}; atrium_csrf=${attacker.csrf}; atrium_csrf=${victim.csrf}`,
    ];
    for (const cookie of tossed) {
      const refreshed = await t
        .http()
        .post('/v2/auth/session/refresh')
        .set('cookie', cookie)
        .set('x-csrf-token', attacker.csrf);
      const signedOut = await t
        .http()
        .delete('/v2/auth/session')
        .set('cookie', cookie)
        .set('x-csrf-token', attacker.csrf);
      for (const [res, routePath] of [
        [refreshed, '/v2/auth/session/refresh'],
        [signedOut, '/v2/auth/session'],
      ] as const) {
        expect(res.status).toBe(401);
        expect(res.body.error).toEqual({
          type: 'token-not-valid',
          message: 'Conflicting session cookies: sign in again',
        });
        // Expired on every path the browser sends to the route, where another origin may have set one.
        const cleared = setCookieList(res);
        expect(cleared.every((c) => c.value === '' && c.maxAge === 0)).toBe(true);
        const paths = (name: string) => cleared.filter((c) => c.name === name).map((c) => c.path);
        const expected = new Set(['/', '/v2', '/v2/auth', '/v2/auth/session', routePath]);
        for (const name of ['atrium_refresh', 'atrium_csrf']) expect(new Set(paths(name))).toEqual(expected);
      }
    }
    // Neither session was used: the victim's (and the attacker's) still work on their own.
    await refresh(victim).expect(200);
    const mine = await refresh(attacker).expect(200);
    expect(mine.body.data.user.username).toBe(mallory.username);
  });

  it('binds the CSRF token to the session: a CSRF cookie from elsewhere does not pair with the refresh cookie', async () => {
    const victim = jarOf(await signIn());
    const other = jarOf(await signIn());
    expect(victim.csrf).not.toBe(other.csrf);
    // A tossed CSRF cookie (whether a made-up value or another session's own) with the victim's refresh cookie.
    for (const csrf of ['tossed', other.csrf]) {
      const res = await refresh({ refresh: victim.refresh, csrf }).expect(403);
      expect(res.body.error.message).toBe("The atrium_csrf cookie is not this session's: sign in again");
    }
    await refresh(victim).expect(200);
  });

  it('refuses a wrong password with 401 and sets no cookie', async () => {
    const res = await t
      .http()
      .post('/v2/auth/session')
      .send({ login: alice.username, password: 'wrong password' })
      .expect(401);
    expect(res.body.error.type).toBe('token-not-valid');
    expect(res.headers['set-cookie']).toBeUndefined();
    const bad = await t.http().post('/v2/auth/session').send({ login: alice.username }).expect(400);
    expect(bad.body.error.message).toContain('body.password');
  });

  it('refuses a refresh without the CSRF header, or with one that does not match the cookie', async () => {
    const jar = jarOf(await signIn());
    for (const res of [
      await refresh(jar, null),
      await refresh(jar, `${jar.csrf}x`),
      await refresh(jar, ''),
      await refresh({ refresh: jar.refresh }, jar.csrf),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain('x-csrf-token');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    // Refused before the cookie was used: it still works.
    await refresh(jar).expect(200);
  });

  it('answers a refresh without a session cookie with 401, CSRF header or not', async () => {
    const jar = jarOf(await signIn());
    for (const res of [
      await refresh({ csrf: jar.csrf }),
      await refresh({}, null),
      await refresh({ csrf: jar.csrf, refresh: 'short' }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({ type: 'token-not-valid', message: 'No session: sign in' });
    }
    // A forged refresh cookie has no CSRF token to go with it (that takes the gateway's secret).
    const forged = await refresh({ csrf: jar.csrf, refresh: `${jar.refresh.slice(0, -4)}AAAA` }).expect(403);
    expect(forged.body.error.message).toContain("is not this session's");
    // Signing out without a session only clears the cookies.
    const out = await t.http().delete('/v2/auth/session').expect(204);
    expect(setCookies(out).atrium_refresh).toMatchObject({ value: '', maxAge: 0 });
  });

  it('rotates the refresh cookie; the spent one presented again ends the whole session', async () => {
    const signedIn = await signIn();
    const first = jarOf(signedIn);
    const rotated = await refresh(first).expect(200);
    expect(Object.keys(rotated.body.data).sort()).toEqual(['accessToken', 'csrfToken', 'user']);
    const second = jarOf(rotated);
    expect(second.refresh).not.toBe(first.refresh);
    const newAccess = rotated.body.data.accessToken;
    await t.http().get('/v2/users/me').set('authorization', `Bearer ${newAccess}`).expect(200);

    // The browser goes on with the new cookie...
    const third = jarOf(await refresh(second).expect(200));
    // ...so the spent one again is a thief's copy: refused, and the cookie cleared...
    const replay = await refresh(first).expect(401);
    expect(replay.body.error.message).toMatch(/already used/);
    expect(setCookies(replay).atrium_refresh).toMatchObject({ value: '', maxAge: 0 });
    // ...and the session is over: the newest cookie and the access tokens no longer work.
    await refresh(third).expect(401);
    await t.http().get('/v2/users/me').set('authorization', `Bearer ${newAccess}`).expect(401);
  });

  it('takes a spent cookie presented again at once, its successor never used, for a retry of a lost answer', async () => {
    const first = jarOf(await signIn());
    // Identity rotated it, but the answer never reached the browser (a reload cut the request).
    const lost = jarOf(await refresh(first).expect(200));
    const retried = await refresh(first).expect(200);
    const next = jarOf(retried);
    expect(next.refresh).not.toBe(lost.refresh);
    // The lost successor expires (nobody holds it); the session goes on with the new cookie.
    await refresh(lost).expect(401);
    const after = await refresh(next).expect(200);
    await t
      .http()
      .get('/v2/users/me')
      .set('authorization', `Bearer ${after.body.data.accessToken}`)
      .expect(200);
    // Not for the token API: POST /v2/auth/refresh keeps every replay a reuse.
    const pair = (
      await t.http().post('/v2/auth/login').send({ login: alice.username, password: PASSWORD }).expect(200)
    ).body.data;
    await t.http().post('/v2/auth/refresh').send({ refreshToken: pair.refreshToken }).expect(200);
    await t.http().post('/v2/auth/refresh').send({ refreshToken: pair.refreshToken }).expect(401);
  });

  it('signs out: the session ends and both cookies are cleared', async () => {
    const signedIn = await signIn();
    const jar = jarOf(signedIn);
    const access = signedIn.body.data.accessToken;
    const refused = await t.http().delete('/v2/auth/session').set('cookie', cookieHeader(jar)).expect(403);
    expect(refused.body.error.message).toContain('x-csrf-token');
    await refresh(jar)
      .expect(200)
      .then((res) => Object.assign(jar, jarOf(res)));

    const out = await t
      .http()
      .delete('/v2/auth/session')
      .set('cookie', cookieHeader(jar))
      .set('x-csrf-token', jar.csrf)
      .expect(204);
    const cleared = setCookies(out);
    expect(cleared.atrium_refresh).toMatchObject({
      value: '',
      maxAge: 0,
      path: '/v2/auth/session',
      httpOnly: true,
    });
    expect(cleared.atrium_csrf).toMatchObject({ value: '', maxAge: 0, path: '/' });
    await refresh(jar).expect(401);
    // The session's access tokens end too (the one from sign-in was of the same session).
    await t.http().get('/v2/users/me').set('authorization', `Bearer ${access}`).expect(401);
    // Signing out again (the session ended) is no error.
    await t
      .http()
      .delete('/v2/auth/session')
      .set('cookie', cookieHeader(jar))
      .set('x-csrf-token', jar.csrf)
      .expect(204);
  });

  it('signs up into a session', async () => {
    const username = uniqueName('carol');
    const res = await t
      .http()
      .post('/v2/auth/session/signup')
      .send({ email: `${username}@example.com`, username, password: PASSWORD })
      .expect(201);
    expect(res.body.data.user).toMatchObject({ username, emailVerified: false });
    expect(res.body.data.refreshToken).toBeUndefined();
    const jar = jarOf(res);
    const me = await refresh(jar).expect(200);
    expect(me.body.data.user.username).toBe(username);
    const taken = await t
      .http()
      .post('/v2/auth/session/signup')
      .send({ email: `other-${username}@example.com`, username, password: PASSWORD })
      .expect(409);
    expect(taken.body.error.type).toBe('conflict');
    expect(taken.headers['set-cookie']).toBeUndefined();
    const bad = await t
      .http()
      .post('/v2/auth/session/signup')
      .send({ email: 'nope', username: uniqueName('dave'), password: PASSWORD })
      .expect(400);
    expect(bad.body.error.message).toContain('body.email');
  });

  it('uses the __Host- names when the public address is https (a TLS proxy in front)', async () => {
    const behindTls = await createGatewayApp(
      replicaGatewayConfig({ PUBLIC_BASE_URL: 'https://atrium.example' }),
    );
    await behindTls.getHttpAdapter().getInstance().ready();
    try {
      const res = await request(behindTls.getHttpServer())
        .post('/v2/auth/session')
        .send({ login: alice.username, password: PASSWORD })
        .expect(201);
      const cookies = setCookies(res);
      expect(Object.keys(cookies).sort()).toEqual(['__Host-atrium_csrf', '__Host-atrium_refresh']);
      expect(cookies['__Host-atrium_refresh']).toMatchObject({ secure: true, path: '/' });
    } finally {
      await behindTls.close();
    }
  });

  describe('per-address rate limit', () => {
    const LIMIT = 3;
    let limited: Awaited<ReturnType<typeof createGatewayApp>>;
    beforeAll(async () => {
      // A replica with a low limit, in front of the same services (its own counters).
      limited = await createGatewayApp(replicaGatewayConfig({ AUTH_RATE_LIMIT_PER_MINUTE: String(LIMIT) }));
      await limited.getHttpAdapter().getInstance().ready();
    });
    afterAll(() => limited.close());

    it('one bucket for the routes that take credentials, whichever route; the refresh route its own, 4x larger', async () => {
      const wrong = { login: alice.username, password: 'wrong password' };
      const attempts = [
        () => request(limited.getHttpServer()).post('/v2/auth/login').send(wrong),
        () => request(limited.getHttpServer()).post('/v2/auth/session').send(wrong),
        () => request(limited.getHttpServer()).post('/v2/auth/login').send(wrong),
        () => request(limited.getHttpServer()).post('/v2/auth/session').send(wrong),
        () => request(limited.getHttpServer()).post('/v2/auth/session/signup').send({}),
        () =>
          request(limited.getHttpServer()).post('/v2/auth/password-reset').send({ email: 'x@example.com' }),
      ];
      const statuses: number[] = [];
      for (const attempt of attempts) statuses.push((await attempt()).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);

      // The console's refreshes (one per page load) are not stopped by that, and have their own limit.
      const refreshes: number[] = [];
      for (let i = 0; i < 4 * LIMIT + 1; i++) {
        refreshes.push((await request(limited.getHttpServer()).post('/v2/auth/session/refresh')).status);
      }
      expect(refreshes).toEqual([...Array(4 * LIMIT).fill(401), 429]);
    });
  });
});
