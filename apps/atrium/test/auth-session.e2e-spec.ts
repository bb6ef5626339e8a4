import { uniqueName } from '@atrium/testing';
import { parseSetCookie } from 'cookie';
import type { Response } from 'supertest';
import { SignedUpUser, TestStack, signUp, startTestStack } from './test-stack';

const PASSWORD = 'correct horse battery';
const THIRTY_DAYS = 30 * 24 * 60 * 60;

/** The response's Set-Cookie headers, parsed, by cookie name. */
function setCookies(res: Response) {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return Object.fromEntries(
    (raw ?? []).map((line) => {
      const cookie = parseSetCookie(line);
      return [cookie.name, { ...cookie, value: cookie.value ?? '' }];
    }),
  );
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

  it('marks the cookies Secure when the request came over HTTPS', async () => {
    const res = await t
      .http()
      .post('/v2/auth/session')
      .set('x-forwarded-proto', 'https')
      .send({ login: alice.username, password: PASSWORD })
      .expect(201);
    const cookies = setCookies(res);
    expect(cookies.atrium_refresh.secure).toBe(true);
    expect(cookies.atrium_csrf.secure).toBe(true);
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
    const forged = await refresh({ csrf: jar.csrf, refresh: `${jar.refresh.slice(0, -4)}AAAA` }).expect(401);
    expect(forged.body.error.type).toBe('token-not-valid');
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

    // The spent cookie again (a thief's copy): refused, and the cookie cleared...
    const replay = await refresh({ refresh: first.refresh, csrf: second.csrf }).expect(401);
    expect(replay.body.error.message).toMatch(/already used/);
    expect(setCookies(replay).atrium_refresh).toMatchObject({ value: '', maxAge: 0 });
    // ...and the session is over: the newer cookie and its access token no longer work.
    await refresh(second).expect(401);
    await t.http().get('/v2/users/me').set('authorization', `Bearer ${newAccess}`).expect(401);
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
});
