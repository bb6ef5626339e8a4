import { hashTokenSecret, JWT_AUDIENCE, JWT_ISSUER, parseApiToken } from '@atrium/auth';
import { createGatewayApp } from '@atrium/gateway';
import { TEST_JWT_SECRET, uniqueName } from '@atrium/testing';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { replicaGatewayConfig, signUp, SignedUpUser, startTestStack, TestStack } from '../test/test-stack';
import { call } from './security-fixtures';

/** Issue 8, items 11 (JWT), 12 (API tokens), 15 (brute force, login timing) and 16 (password hashing). */

const PASSWORD = 'correct horse battery';
const b64 = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const hs = (algorithm: 'sha256' | 'sha384' | 'sha512', key: string | Buffer, input: string) =>
  createHmac(algorithm, key).update(input).digest('base64url');
function jwt(
  header: object,
  claims: object,
  signer: (input: string) => string = (i) => hs('sha256', TEST_JWT_SECRET, i),
) {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${signer(input)}`;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

describe('security: credentials (items 11, 12, 15, 16)', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let db: Client;

  beforeAll(async () => {
    t = await startTestStack();
    alice = await signUp(t, uniqueName('alice'));
    db = new Client({ connectionString: t.db.url });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  const login = (login: string, password: string, server = t.stack.gateway) =>
    request(server.getHttpServer()).post('/v2/auth/login').send({ login, password });
  const me = (credential: string) =>
    call(t, 'GET', '/v2/users/me', { headers: { authorization: `Bearer ${credential}` } });

  describe('JWT (item 11)', () => {
    it('rejects alg none, algorithm confusion, wrong aud/iss, expiry and bad signatures with 401', async () => {
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
      const hs256 = { alg: 'HS256', typ: 'JWT' };
      // The control: a token signed as identity signs them is accepted.
      expect((await me(jwt(hs256, claims))).status).toBe(200);

      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
      const valid = jwt(hs256, claims);
      const [h, p, s] = valid.split('.');
      const attacks: Record<string, string> = {
        'alg none, no signature': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
        'alg None': `${b64({ alg: 'None', typ: 'JWT' })}.${b64(claims)}.`,
        'alg NONE with the valid signature': `${b64({ alg: 'NONE' })}.${p}.${s}`,
        'alg none header on a valid signature': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}`,
        'RS256 header, HMAC with the secret (confusion)': jwt({ alg: 'RS256', typ: 'JWT' }, claims),
        'RS256 header, HMAC keyed with a public key': jwt({ alg: 'RS256' }, claims, (i) =>
          hs('sha256', publicPem, i),
        ),
        'HS256 keyed with an attacker public key': jwt(hs256, claims, (i) => hs('sha256', publicPem, i)),
        'RS256 signed by an attacker key': jwt({ alg: 'RS256', typ: 'JWT' }, claims, (i) =>
          sign('sha256', Buffer.from(i), privateKey).toString('base64url'),
        ),
        'RS256 with an embedded attacker jwk': jwt(
          { alg: 'RS256', jwk: publicKey.export({ format: 'jwk' }) },
          claims,
          (i) => sign('sha256', Buffer.from(i), privateKey).toString('base64url'),
        ),
        'HS512 with the secret': jwt({ alg: 'HS512', typ: 'JWT' }, claims, (i) =>
          hs('sha512', TEST_JWT_SECRET, i),
        ),
        'HS384 with the secret': jwt({ alg: 'HS384', typ: 'JWT' }, claims, (i) =>
          hs('sha384', TEST_JWT_SECRET, i),
        ),
        'wrong audience': jwt(hs256, { ...claims, aud: 'someone-else' }),
        'audience missing': jwt(hs256, { ...claims, aud: undefined }),
        'wrong issuer': jwt(hs256, { ...claims, iss: 'evil' }),
        'issuer missing': jwt(hs256, { ...claims, iss: undefined }),
        expired: jwt(hs256, { ...claims, iat: now - 1000, exp: now - 10 }),
        'not yet valid (nbf)': jwt(hs256, { ...claims, nbf: now + 600 }),
        'signed with another secret': jwt(hs256, claims, (i) =>
          hs('sha256', 'another-secret-of-the-same-length!!!!!!', i),
        ),
        'payload changed under a valid signature': `${h}.${b64({ ...claims, sub: 'x'.repeat(17) })}.${s}`,
        'one signature bit flipped': `${h}.${p}.${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`,
        'signature stripped': `${h}.${p}.`,
        'signature truncated': `${h}.${p}.${s.slice(0, 20)}`,
        'a refresh-typed claim set': jwt(hs256, { ...claims, typ: 'refresh' }),
        'subject not a string': jwt(hs256, { ...claims, sub: 42 }),
        'kid path traversal': jwt({ ...hs256, kid: '../../../../dev/null' }, claims, (i) =>
          hs('sha256', '', i),
        ),
      };
      const accepted: string[] = [];
      for (const [name, token] of Object.entries(attacks)) {
        const header = await me(token);
        const query = await call(t, 'GET', '/v2/users/me', { query: { token } });
        for (const res of [header, query])
          if (
            res.status !== 401 ||
            (res.body as { error?: { type?: string } }).error?.type !== 'token-not-valid'
          )
            accepted.push(`${name} → ${res.status}`);
      }
      expect(accepted).toEqual([]);
      console.log(
        `[security:11] JWT: ${Object.keys(attacks).length} forged tokens × 2 ways of presenting them → 401`,
      );
    });

    it('revokes the whole family when a spent refresh token is presented again', async () => {
      const first = (await login(alice.username, PASSWORD).expect(200)).body.data.refreshToken;
      const refresh = (refreshToken: string) =>
        call(t, 'POST', '/v2/auth/refresh', { body: { refreshToken } });
      const second = await refresh(first);
      expect(second.status).toBe(200);
      const next = (second.body as { data: { refreshToken: string } }).data.refreshToken;
      expect((await refresh(first)).status).toBe(401);
      // The legitimate holder's newer token died with its family.
      expect((await refresh(next)).status).toBe(401);
    });
  });

  describe('API tokens (item 12)', () => {
    /** Every table of every service schema, searched for `needle` in any column. */
    const rowsContaining = async (needle: string) => {
      const tables = await db.query<{ table_schema: string; table_name: string }>(
        `SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
      );
      const hits: string[] = [];
      for (const { table_schema, table_name } of tables.rows) {
        const res = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${table_schema}"."${table_name}" t WHERE strpos(t::text, $1) > 0`,
          [needle],
        );
        if (Number(res.rows[0].n) > 0) hits.push(`${table_schema}.${table_name}`);
      }
      return { hits, tables: tables.rows.length };
    };

    it('stores tokens, refresh tokens and passwords only hashed: no secret anywhere in the database', async () => {
      const created = await call(t, 'POST', '/v2/users/me/tokens', {
        headers: alice.auth,
        body: { name: 'ci', scope: { account: { STORAGE: ['READ'] } } },
      });
      expect(created.status).toBe(201);
      const { id, token } = (created.body as { data: { id: string; token: string } }).data;
      const parsed = parseApiToken(token)!;
      expect(parsed.tokenId).toBe(id);
      const refreshSecret = alice.refreshToken.split('.')[1];
      // Let the outbox relay publish (the event must not carry the secret either).
      await new Promise((r) => setTimeout(r, 300));
      let tables = 0;
      for (const secret of [parsed.secret, token, refreshSecret, PASSWORD]) {
        const found = await rowsContaining(secret);
        expect({ secret: secret.slice(0, 12), tables: found.hits }).toEqual({
          secret: secret.slice(0, 12),
          tables: [],
        });
        tables = found.tables;
      }
      const row = await db.query('SELECT * FROM identity.api_token WHERE id = $1', [id]);
      expect(row.rows[0].secret_hash).toBe(hashTokenSecret(parsed.secret));
      expect(tables).toBeGreaterThan(10);
      console.log(
        `[security:12] API tokens: 4 secrets searched for in every column of ${tables} tables: none found`,
      );
    });

    it('revokes on the next request, on this replica and (by event) on another', async () => {
      const replica = await createGatewayApp(replicaGatewayConfig());
      await replica.getHttpAdapter().getInstance().ready();
      try {
        const created = await call(t, 'POST', '/v2/users/me/tokens', {
          headers: alice.auth,
          body: { name: 'laptop' },
        });
        const { id, token } = (created.body as { data: { id: string; token: string } }).data;
        const onReplica = () =>
          request(replica.getHttpServer()).get('/v2/users/me').set('authorization', `Bearer ${token}`);
        // Used, and so cached, on both replicas; then revoked through this one.
        expect((await me(token)).status).toBe(200);
        expect((await onReplica()).status).toBe(200);
        expect((await onReplica()).status).toBe(200);
        expect((await call(t, 'DELETE', `/v2/users/me/tokens/${id}`, { headers: alice.auth })).status).toBe(
          204,
        );
        const revokedAt = Date.now();
        const next = await me(token);
        expect(next.status).toBe(401);
        expect((next.body as { error: { type: string } }).error.type).toBe('token-not-valid');
        let status = 200;
        while (status === 200 && Date.now() - revokedAt < 2000) status = (await onReplica()).status;
        const elapsed = Date.now() - revokedAt;
        expect(status).toBe(401);
        expect(elapsed).toBeLessThan(1000);
        console.log(`[security:12] revoked token refused by the other replica after ${elapsed} ms`);
      } finally {
        await replica.close();
      }
    });

    it('rejects malformed tokens before any lookup: 401 even while the identity service is down', async () => {
      const malformed = [
        'atrium_api_',
        'atrium_api_short',
        `atrium_api_${'a'.repeat(56)}`,
        `atrium_api_${'a'.repeat(58)}`,
        `atrium_api_${'a'.repeat(56)}!`,
        `atrium_api_${'a'.repeat(17)}${'é'.repeat(40)}`,
        `atrium_run_${'a'.repeat(20)}`,
        `atrium_run_${'a'.repeat(57)}$`,
        `ATRIUM_API_${'a'.repeat(57)}`,
        'Basic dXNlcjpwYXNz',
      ];
      for (const token of malformed) expect(parseApiToken(token)).toBeNull();
      await t.stack.stopService('identity');
      try {
        // Well-formed but unknown: it needs identity, which is down → 503 (never anonymous, never 200).
        const wellFormed = `atrium_api_${'a'.repeat(57)}`;
        expect(parseApiToken(wellFormed)).not.toBeNull();
        expect((await me(wellFormed)).status).toBe(503);
        const slow: string[] = [];
        for (const token of malformed) {
          const started = Date.now();
          const res = await me(token);
          if (res.status !== 401 || Date.now() - started > 1000)
            slow.push(`${token.slice(0, 24)} → ${res.status} in ${Date.now() - started} ms`);
        }
        expect(slow).toEqual([]);
      } finally {
        await t.stack.startService('identity');
      }
      expect((await call(t, 'GET', '/v2/users/me', { headers: alice.auth })).status).toBe(200);
    }, 30_000);
  });

  it('hashes passwords with argon2id at OWASP parameters or above, salted (item 16)', async () => {
    const bob = await signUp(t, uniqueName('bob'));
    const rows = await db.query<{ password_hash: string }>(
      'SELECT password_hash FROM identity.user_account WHERE id = ANY($1) ORDER BY id',
      [[alice.id, bob.id]],
    );
    expect(rows.rows).toHaveLength(2);
    for (const { password_hash } of rows.rows) {
      // PHC string format: $argon2id$v=19$<k=v,...>$<salt>$<hash> (the parameters in any order).
      const [, algorithm, version, parameters, salt, hash] = password_hash.split('$');
      const params = Object.fromEntries(parameters.split(',').map((kv) => kv.split('=')));
      expect({ algorithm, version, p: params.p }).toEqual({ algorithm: 'argon2id', version: 'v=19', p: '1' });
      expect(Number(params.m)).toBeGreaterThanOrEqual(19 * 1024);
      expect(Number(params.t)).toBeGreaterThanOrEqual(2);
      expect(Buffer.from(salt, 'base64').length).toBeGreaterThanOrEqual(16);
      expect(Buffer.from(hash, 'base64').length).toBeGreaterThanOrEqual(32);
    }
    // Same password, different salts: different hashes.
    expect(rows.rows[0].password_hash).not.toBe(rows.rows[1].password_hash);
  });

  describe('brute force and login timing (item 15)', () => {
    let limited: NestFastifyApplication;
    beforeAll(async () => {
      // A replica with a low per-address limit, in front of the same services.
      limited = await createGatewayApp(replicaGatewayConfig({ AUTH_RATE_LIMIT_PER_MINUTE: '5' }));
      await limited.getHttpAdapter().getInstance().ready();
    });
    afterAll(() => limited.close());

    it('limits login and signup per client address, in one bucket: 429 with Retry-After, X-Forwarded-For does not reset it', async () => {
      for (const path of ['/v2/auth/login', '/v2/auth/signup']) {
        const statuses: number[] = [];
        let limitedResponse: request.Response | undefined;
        for (let i = 0; i < 8; i++) {
          const res = await request(limited.getHttpServer())
            .post(path)
            .set('x-forwarded-for', `10.0.0.${i}`)
            .send(
              path.endsWith('login') ? { login: uniqueName('nobody'), password: 'guess' } : { email: 'x' },
            );
          statuses.push(res.status);
          if (res.status === 429) limitedResponse = res;
        }
        // One bucket for both routes: the logins spent it, sign-up is limited from the first attempt.
        expect({ path, statuses }).toEqual({
          path,
          statuses: path.endsWith('login') ? [...Array(5).fill(401), 429, 429, 429] : Array(8).fill(429),
        });
        expect(limitedResponse!.body.error.type).toBe('rate-limit-exceeded');
        const retryAfter = Number(limitedResponse!.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }
    });

    it('limits failed logins per account, from any address and by username or email: 429 with Retry-After', async () => {
      const victim = await signUp(t, uniqueName('victim'));
      const bystander = await signUp(t, uniqueName('bystander'));
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++)
        statuses.push(
          (await login(i % 2 ? victim.username : `${victim.username}@example.com`, `guess-${i}`)).status,
        );
      expect(statuses).toEqual(Array(10).fill(401));
      // Now even the right password is refused for a while, and says for how long…
      const locked = await login(victim.username, PASSWORD);
      expect(locked.status).toBe(429);
      expect(locked.body.error.type).toBe('rate-limit-exceeded');
      const retryAfter = Number(locked.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      expect((await login(`${victim.username}@EXAMPLE.com`, PASSWORD)).status).toBe(429);
      // …through any replica (the count lives in PostgreSQL), while other accounts sign in as usual.
      const replica = await createGatewayApp(replicaGatewayConfig());
      await replica.getHttpAdapter().getInstance().ready();
      try {
        expect((await login(victim.username, PASSWORD, replica)).status).toBe(429);
      } finally {
        await replica.close();
      }
      expect((await login(bystander.username, PASSWORD)).status).toBe(200);
      // An unknown login is limited alike, so the limit tells nothing about which accounts exist.
      const ghost = uniqueName('ghost');
      const ghostStatuses: number[] = [];
      for (let i = 0; i < 11; i++) ghostStatuses.push((await login(ghost, 'guess')).status);
      expect(ghostStatuses).toEqual([...Array(10).fill(401), 429]);
    });

    it('limits repeated sign-ups naming the same account: 429 with Retry-After', async () => {
      const taken = await signUp(t, uniqueName('taken'));
      const statuses: number[] = [];
      let last: request.Response | undefined;
      for (let i = 0; i < 11; i++) {
        last = await request(t.stack.gateway.getHttpServer())
          .post('/v2/auth/signup')
          .send({
            email: `${uniqueName('other')}@example.com`,
            username: taken.username,
            password: PASSWORD,
          });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([...Array(10).fill(409), 429]);
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('takes as long to refuse an unknown login as a known one (medians within 25%)', async () => {
      const known = await Promise.all([0, 1, 2, 3].map(() => signUp(t, uniqueName('timed'))));
      const times = { known: [] as number[], unknown: [] as number[] };
      const timed = async (name: string) => {
        const started = process.hrtime.bigint();
        const res = await login(name, 'wrong password');
        expect(res.status).toBe(401);
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      await timed(uniqueName('warm-up'));
      for (let i = 0; i < 24; i++) {
        // Interleaved, so drift in machine load falls on both alike; 6 failures per known account.
        times.known.push(await timed(known[i % known.length].username));
        times.unknown.push(await timed(uniqueName('nobody')));
      }
      const [k, u] = [median(times.known), median(times.unknown)];
      console.log(
        `[security:15] login timing: median ${k.toFixed(1)} ms known vs ${u.toFixed(1)} ms unknown (24 each)`,
      );
      expect(Math.abs(k - u) / Math.max(k, u)).toBeLessThan(0.25);
    }, 30_000);
  });
});
