import { INestMicroservice } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGatewayApp } from '@atrium/gateway';
import { IdentityModule, ThrottleSweeper } from '@atrium/identity';
import { startServiceApp } from '@atrium/messaging';
import { testServiceConfig, testSqlPool, uniqueName } from '@atrium/testing';
import type { Pool } from 'pg';
import request from 'supertest';
import {
  TEST_DISTRIBUTED,
  TEST_EMBEDDED,
  TestStack,
  FAIL_FAST,
  replicaGatewayConfig,
  signUp,
  startTestStack,
} from './test-stack';

const PASSWORD = 'correct horse battery';
/** identity's per-account limits (account-throttle.ts). */
const ACCOUNT_LIMIT = 10;

/**
 * Throttles that guard sign-in are counted in one place every replica sees (issue 17, item 3): the
 * gateway's per-address limit in identity's `rate_limit_window`, the per-account lockout and the
 * per-address mail limit in identity's `auth_failure`. Two gateways (and, on RabbitMQ, two identity
 * replicas competing for its queue) give an attacker the limit once, not twice.
 */
describe('throttles shared by replicas', () => {
  let t: TestStack;
  let sql: Pool;
  let secondIdentity: INestMicroservice | undefined;
  const gateways: NestFastifyApplication[] = [];

  const gateway = async (overrides: Record<string, string> = {}) => {
    const app = await createGatewayApp(replicaGatewayConfig(overrides));
    await app.getHttpAdapter().getInstance().ready();
    gateways.push(app);
    return app;
  };
  const on = (app: NestFastifyApplication) => request(app.getHttpServer());
  const count = (statuses: number[]) =>
    statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});

  beforeAll(async () => {
    t = await startTestStack();
    sql = testSqlPool(t.db.url);
    // A second identity replica on the same queue and database (the distributed mode runs two
    // processes of each service already; the embedded one has a single process by design).
    if (!TEST_EMBEDDED && !TEST_DISTRIBUTED)
      secondIdentity = await startServiceApp(
        IdentityModule.forRoot(testServiceConfig(t.db.url)),
        'identity',
        { amqpUrl: testServiceConfig(t.db.url).AMQP_URL, logLevel: 'error' },
      );
  });
  afterAll(async () => {
    for (const app of gateways) await app.close();
    await secondIdentity?.close();
    await sql.end();
    await t.close();
  });

  describe('the per-address limit of the auth routes', () => {
    it('gives an attacker alternating between two gateways the limit once in total', async () => {
      const limit = 6;
      const [a, b] = [
        await gateway({ AUTH_RATE_LIMIT_PER_MINUTE: String(limit) }),
        await gateway({ AUTH_RATE_LIMIT_PER_MINUTE: String(limit) }),
      ];
      const statuses: number[] = [];
      let limited: request.Response | undefined;
      const refusedMs: number[] = [];
      for (let i = 0; i < 2 * limit + 2; i++) {
        const sent = performance.now();
        const res = await on(i % 2 ? b : a)
          .post('/v2/auth/login')
          .send({ login: uniqueName('nobody'), password: 'guess' });
        // A refused attempt costs the counting hop alone (no login RPC, no argon2).
        if (res.status === 429) refusedMs.push(performance.now() - sent);
        statuses.push(res.status);
        if (res.status === 429) limited ??= res;
      }
      refusedMs.sort((x, y) => x - y);
      console.log(
        `alternating A/B, limit ${limit}: ${JSON.stringify(statuses)}; a refused attempt (one counting RPC) median ${refusedMs[refusedMs.length >> 1].toFixed(1)} ms`,
      );
      expect(statuses).toEqual([...Array(limit).fill(401), ...Array(limit + 2).fill(429)]);
      expect(limited!.body.error.type).toBe('rate-limit-exceeded');
      const retryAfter = Number(limited!.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited!.body.error.message).toMatch(
        /^Too many sign-in requests from this address; try again in \d+ seconds$/,
      );
    });

    it('counts 50 concurrent attempts on two gateways exactly: the limit passes, the rest get 429', async () => {
      const limit = 7;
      const [c, d] = [
        await gateway({ AUTH_RATE_LIMIT_PER_MINUTE: String(limit) }),
        await gateway({ AUTH_RATE_LIMIT_PER_MINUTE: String(limit) }),
      ];
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          on(i % 2 ? d : c)
            .post('/v2/auth/login')
            .send({ login: uniqueName('nobody'), password: 'guess' }),
        ),
      );
      const statuses = count(results.map((r) => r.status));
      const { rows } = await sql.query<{ hits: number }>(
        `SELECT hits FROM identity.rate_limit_window WHERE key LIKE $1`,
        [`auth-credentials-${limit}-%`],
      );
      console.log(
        `50 concurrent on C/D, limit ${limit}: ${JSON.stringify(statuses)}, hits counted ${rows[0]?.hits}, ${Date.now() - started} ms`,
      );
      expect(statuses).toEqual({ 401: limit, 429: 50 - limit });
      expect(rows).toEqual([{ hits: 50 }]);
    });

    it('opens a new window once the last one ended, and the sweeper deletes ended windows and old failures', async () => {
      const limit = 2;
      const e = await gateway({ AUTH_RATE_LIMIT_PER_MINUTE: String(limit) });
      const attempt = async () =>
        (
          await on(e)
            .post('/v2/auth/login')
            .send({ login: uniqueName('nobody'), password: 'guess' })
        ).status;
      expect([await attempt(), await attempt(), await attempt()]).toEqual([401, 401, 429]);
      const key = `auth-credentials-${limit}-%`;
      await sql.query(
        `UPDATE identity.rate_limit_window SET ends_at = now() - interval '1 second' WHERE key LIKE $1`,
        [key],
      );
      expect([await attempt(), await attempt(), await attempt()]).toEqual([401, 401, 429]);
      if (TEST_DISTRIBUTED) return; // the services are other processes there
      await sql.query(
        `UPDATE identity.rate_limit_window SET ends_at = now() - interval '1 second' WHERE key LIKE $1`,
        [key],
      );
      // And a per-account failure older than its 15-minute window, beside a recent one.
      const failureKey = uniqueName('login:swept');
      await sql.query(
        `INSERT INTO identity.auth_failure (id, key, failed_at)
              VALUES (substr(md5(random()::text), 1, 17), $1, now() - interval '16 minutes'),
                     (substr(md5(random()::text), 1, 17), $1, now() - interval '1 minute')`,
        [failureKey],
      );
      await t.stack.services.get('identity')!.get(ThrottleSweeper).sweep();
      const failures = await sql.query(`SELECT 1 FROM identity.auth_failure WHERE key = $1`, [failureKey]);
      expect(failures.rowCount).toBe(1);
      const { rows } = await sql.query(`SELECT 1 FROM identity.rate_limit_window WHERE key LIKE $1`, [key]);
      expect(rows).toEqual([]);
    });
  });

  describe('the per-account lockout', () => {
    it('counts exactly the threshold of 50 concurrent wrong passwords sent through two gateways', async () => {
      // A longer RPC timeout than the tests' 3 s: 50 argon2-verified logins on a shared 2-core
      // machine may take longer, and this counts the lockout, not the latency.
      const [a, b] = [await gateway(), await gateway()];
      const user = await signUp(t, uniqueName('target'));
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          on(i % 2 ? b : a)
            .post('/v2/auth/login')
            .send({ login: user.username, password: `wrong-${i}` }),
        ),
      );
      const statuses = count(results.map((r) => r.status));
      const { rows } = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM identity.auth_failure WHERE key = $1`,
        [`login:${user.id}`],
      );
      console.log(
        `50 concurrent wrong passwords on two gateways: ${JSON.stringify(statuses)}, failures counted ${rows[0].n}, ${Date.now() - started} ms`,
      );
      expect(statuses).toEqual({ 401: ACCOUNT_LIMIT, 429: 50 - ACCOUNT_LIMIT });
      expect(rows[0].n).toBe(ACCOUNT_LIMIT);
    });

    it('enforces a lockout set through gateway A on gateway B at once', async () => {
      const b = await gateway();
      const user = await signUp(t, uniqueName('victim'));
      const bystander = await signUp(t, uniqueName('bystander'));
      for (let i = 0; i < ACCOUNT_LIMIT; i++)
        await t
          .http()
          .post('/v2/auth/login')
          .send({ login: user.username, password: `guess-${i}` })
          .expect(401);
      const locked = await on(b).post('/v2/auth/login').send({ login: user.username, password: PASSWORD });
      expect(locked.status).toBe(429);
      expect(locked.body.error.type).toBe('rate-limit-exceeded');
      const retryAfter = Number(locked.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      await on(b).post('/v2/auth/login').send({ login: bystander.username, password: PASSWORD }).expect(200);
    });

    it('lets exactly the limit of 30 concurrent password-reset requests for one address through', async () => {
      const [a, b] = [await gateway(), await gateway()];
      const user = await signUp(t, uniqueName('mailbox'));
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          on(i % 2 ? b : a)
            .post('/v2/auth/password-reset')
            .send({ email: `${user.username}@example.com` }),
        ),
      );
      const statuses = count(results.map((r) => r.status));
      console.log(`30 concurrent password-reset requests for one address: ${JSON.stringify(statuses)}`);
      expect(statuses).toEqual({ 202: ACCOUNT_LIMIT, 429: 30 - ACCOUNT_LIMIT });
    });
  });

  describe('when the counters cannot be reached', () => {
    it('refuses auth attempts with 503, never lets them through uncounted', async () => {
      const a = await gateway({ ...FAIL_FAST, AUTH_RATE_LIMIT_PER_MINUTE: '5' });
      await secondIdentity?.close();
      secondIdentity = undefined;
      await t.stack.stopService('identity');
      const started = Date.now();
      const res = await on(a)
        .post('/v2/auth/login')
        .send({ login: uniqueName('nobody'), password: 'guess' });
      console.log(
        `login with identity stopped: ${res.status} in ${Date.now() - started} ms: ${res.body.error?.message}`,
      );
      expect(res.status).toBe(503);
      expect(res.body.error.type).toBe('service-unavailable');
      const signup = await on(a).post('/v2/auth/signup').send({ email: 'x' });
      expect(signup.status).toBe(503);
    }, 20_000);
  });
});
