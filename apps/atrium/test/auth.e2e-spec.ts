import { JWT_AUDIENCE, JWT_ISSUER } from '@atrium/auth';
import { createGatewayApp } from '@atrium/gateway';
import { TEST_JWT_SECRET, uniqueName } from '@atrium/testing';
import request from 'supertest';
import { createHmac } from 'node:crypto';
import { SignedUpUser, TestStack, replicaGatewayConfig, signUp, startTestStack } from './test-stack';

const b64 = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
function forgeJwt(header: object, claims: object, secret = TEST_JWT_SECRET): string {
  const body = `${b64(header)}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('authentication', () => {
  let t: TestStack;
  let alice: SignedUpUser;

  beforeAll(async () => {
    t = await startTestStack();
    alice = await signUp(t, uniqueName('alice'));
  });
  afterAll(() => t.close());

  it('signs up with default settings and reads /users/me', async () => {
    const me = await t.http().get('/v2/users/me').set(alice.auth).expect(200);
    expect(me.body.data).toMatchObject({
      id: alice.id,
      username: alice.username,
      settings: { generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ', shareRunsWithPublicActorCreators: false },
    });
    expect(me.body.data.passwordHash).toBeUndefined();
    const profile = await t.http().get(`/v2/users/${alice.username}`).expect(200);
    expect(profile.body.data).toEqual({ id: alice.id, username: alice.username });
  });

  it('refuses duplicate usernames and emails, case-insensitively', async () => {
    const res = await t
      .http()
      .post('/v2/auth/signup')
      .send({
        email: `OTHER-${alice.username}@example.com`,
        username: alice.username.toUpperCase(),
        password: 'long enough pw',
      })
      .expect(409);
    expect(res.body.error.type).toBe('conflict');
  });

  it('logs in by username or email and rejects a wrong password with 401', async () => {
    await t
      .http()
      .post('/v2/auth/login')
      .send({ login: alice.username, password: 'correct horse battery' })
      .expect(200);
    await t
      .http()
      .post('/v2/auth/login')
      .send({ login: `${alice.username}@EXAMPLE.com`, password: 'correct horse battery' })
      .expect(200);
    const bad = await t
      .http()
      .post('/v2/auth/login')
      .send({ login: alice.username, password: 'wrong' })
      .expect(401);
    expect(bad.body.error.type).toBe('token-not-valid');
  });

  it('rotates refresh tokens, and a reused one revokes the whole family', async () => {
    const login = await t
      .http()
      .post('/v2/auth/login')
      .send({ login: alice.username, password: 'correct horse battery' });
    const first = login.body.data.refreshToken;
    const second = (await t.http().post('/v2/auth/refresh').send({ refreshToken: first }).expect(200)).body
      .data.refreshToken;
    expect(second).not.toBe(first);
    await t.http().post('/v2/auth/refresh').send({ refreshToken: first }).expect(401);
    // The thief's replay revoked the family: the legitimate newer token is dead too.
    await t.http().post('/v2/auth/refresh').send({ refreshToken: second }).expect(401);
  });

  it('logs out: the refresh token no longer works', async () => {
    const login = await t
      .http()
      .post('/v2/auth/login')
      .send({ login: alice.username, password: 'correct horse battery' });
    await t.http().post('/v2/auth/logout').send({ refreshToken: login.body.data.refreshToken }).expect(204);
    await t.http().post('/v2/auth/refresh').send({ refreshToken: login.body.data.refreshToken }).expect(401);
  });

  it('rejects forged, expired, unsigned and misaddressed JWTs with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: alice.id,
      username: alice.username,
      typ: 'access',
      // The session of a real login: an access token is accepted only while its session is open.
      sid: JSON.parse(Buffer.from(alice.accessToken.split('.')[1], 'base64url').toString()).sid,
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      iat: now,
      exp: now + 600,
    };
    const valid = forgeJwt({ alg: 'HS256', typ: 'JWT' }, claims);
    await t.http().get('/v2/users/me').set('authorization', `Bearer ${valid}`).expect(200);
    const attacks = [
      `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      forgeJwt({ alg: 'HS256', typ: 'JWT' }, claims, 'some-other-secret-of-sufficient-length'),
      forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'someone-else' }),
      forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'evil' }),
      forgeJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now - 10 }),
      forgeJwt({ alg: 'HS512', typ: 'JWT' }, claims),
      'not-a-token',
    ];
    for (const token of attacks) {
      const res = await t.http().get('/v2/users/me').set('authorization', `Bearer ${token}`);
      expect({ token, status: res.status }).toEqual({ token, status: 401 });
      expect(res.body.error.type).toBe('token-not-valid');
    }
  });

  it('issues API tokens shown once, accepted as Bearer or ?token=, revoked at once', async () => {
    const created = await t
      .http()
      .post('/v2/users/me/tokens')
      .set(alice.auth)
      .send({ name: 'ci' })
      .expect(201);
    const { token, id } = created.body.data;
    expect(token).toMatch(/^atrium_api_/);
    const listed = await t.http().get('/v2/users/me/tokens').set(alice.auth).expect(200);
    expect(listed.body.data.items).toHaveLength(1);
    expect(listed.body.data.items[0].token).toBeUndefined();

    await t.http().get('/v2/users/me').set('authorization', `Bearer ${token}`).expect(200);
    await t.http().get(`/v2/users/me?token=${token}`).expect(200);
    await t.http().delete(`/v2/users/me/tokens/${id}`).set(alice.auth).expect(204);
    await t.http().get(`/v2/users/me?token=${token}`).expect(401);
    await t.http().get('/v2/users/me').set('authorization', `Bearer ${token}x`).expect(401);
  });

  it('refuses expired API tokens', async () => {
    const created = await t
      .http()
      .post('/v2/users/me/tokens')
      .set(alice.auth)
      .send({ name: 'short', expiresAt: new Date(Date.now() + 1000).toISOString() })
      .expect(201);
    await t.http().get(`/v2/users/me?token=${created.body.data.token}`).expect(200);
    await new Promise((r) => setTimeout(r, 1100));
    await t.http().get(`/v2/users/me?token=${created.body.data.token}`).expect(401);
  });

  it('requires sign-in for account routes', async () => {
    await t.http().get('/v2/users/me').expect(401);
    await t.http().post('/v2/datasets').expect(401);
  });

  it('rate-limits the auth endpoints', async () => {
    // A second gateway replica with a low limit, in front of the same services.
    const limited = await createGatewayApp(replicaGatewayConfig({ AUTH_RATE_LIMIT_PER_MINUTE: '3' }));
    await limited.getHttpAdapter().getInstance().ready();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await request(limited.getHttpServer())
          .post('/v2/auth/login')
          .send({ login: 'x', password: 'y' });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
      expect(statuses.slice(3)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });
});
