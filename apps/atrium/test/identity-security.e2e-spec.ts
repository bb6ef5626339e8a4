import { INestApplication } from '@nestjs/common';
import { createGatewayApp } from '@atrium/gateway';
import { eventually, testSqlPool, uniqueName } from '@atrium/testing';
import type { Pool } from 'pg';
import request from 'supertest';
import {
  createOrganization,
  readMail,
  replicaGatewayConfig,
  SignedUpUser,
  signUp,
  startTestStack,
  TestStack,
  verifyEmail,
} from './test-stack';

const PASSWORD = 'correct horse battery';

/**
 * Identity that can be trusted (issue 12, holes 4, 6 and 8): email verification with real mail
 * (read here from the dev mailbox), invitations to an email accepted only by the verified owner of
 * the address, password change and reset, logout that ends the session's access tokens on every
 * replica, an atomic per-account lockout, and answers that do not tell which emails are registered.
 */
describe('identity security', () => {
  let t: TestStack;
  let replica: INestApplication;
  let sql: Pool;
  let owner: SignedUpUser;

  beforeAll(async () => {
    // Hole 6 counts how many of 60 racing logins are verified: they take the account's lock one at
    // a time, and on a slow CI machine the last ones waited out the 3 s RPC timeout (503).
    t = await startTestStack();
    replica = await createGatewayApp(replicaGatewayConfig());
    await replica.getHttpAdapter().getInstance().ready();
    sql = testSqlPool(t.db.url);
    owner = await signUp(t, uniqueName('owner'));
  });
  afterAll(async () => {
    await sql.end();
    await replica.close();
    await t.close();
  });

  const onReplica = () => request(replica.getHttpServer());
  const login = (login: string, password = PASSWORD) =>
    t.http().post('/v2/auth/login').send({ login, password });

  describe('email verification', () => {
    it('mails a one-time token at sign-up; verifying it marks the address verified', async () => {
      const user = await signUp(t, uniqueName('verify'));
      const me = await t.http().get('/v2/users/me').set(user.auth).expect(200);
      expect(me.body.data.emailVerified).toBe(false);
      const mail = await readMail(t, `${user.username}@example.com`, 'Verify');
      expect(mail.text).toContain('/v2/auth/verify-email');
      // The console's page for it, with the same token.
      const link = /^https?:\/\/\S+\/verify-email\?token=(\S+)$/m.exec(mail.text);
      expect(decodeURIComponent(link?.[1] ?? '')).toBe(mail.token);
      await t.http().post('/v2/auth/verify-email').send({ token: mail.token }).expect(200);
      expect((await t.http().get('/v2/users/me').set(user.auth).expect(200)).body.data.emailVerified).toBe(
        true,
      );
      // One-time: the same token again, or a made-up one, is refused with the field named.
      const again = await t.http().post('/v2/auth/verify-email').send({ token: mail.token }).expect(400);
      expect(again.body.error.message).toContain('body.token');
      await t.http().post('/v2/auth/verify-email').send({ token: 'nonsense' }).expect(400);
      await t.http().post('/v2/auth/verify-email').send({}).expect(400);
    });

    it('sends a new verification mail on request, without saying whether the address exists', async () => {
      const user = await signUp(t, uniqueName('resend'));
      const known = await t
        .http()
        .post('/v2/auth/verify-email/resend')
        .send({ email: `${user.username}@example.com` })
        .expect(202);
      const unknown = await t
        .http()
        .post('/v2/auth/verify-email/resend')
        .send({ email: `${uniqueName('nobody')}@example.com` })
        .expect(202);
      expect(unknown.body).toEqual(known.body);
    });
  });

  describe('hole 4: invitations to an email are claimed only by its verified owner', () => {
    it('refuses a collaboration invitation to whoever signs up with the address without verifying it', async () => {
      const victim = uniqueName('victim');
      const role = (
        await t
          .http()
          .post('/v2/collaboration/roles')
          .set(owner.auth)
          .send({ name: uniqueName('role'), policies: ['system-view'] })
          .expect(201)
      ).body.data.id as string;
      const invited = await t
        .http()
        .post('/v2/collaboration/members')
        .set(owner.auth)
        .send({ email: `${victim}@example.com`, shared: [{ category: 'ENVIRONMENTS', roleIds: [role] }] })
        .expect(201);
      // The attacker registers the invited address first (no mailbox behind it) and tries to accept.
      const attacker = await signUp(t, victim);
      const claim = await t
        .http()
        .post(`/v2/collaborations/${invited.body.data.id}/accept`)
        .set(attacker.auth);
      expect(claim.status).toBe(403);
      expect(claim.body.error.message).toMatch(/verif/i);
      // Verified, the owner of the mailbox can accept, by id or with the mailed token.
      await verifyEmail(t, attacker);
      const mail = await readMail(t, `${victim}@example.com`, 'invited');
      await t
        .http()
        .post('/v2/collaborations/accept')
        .set(attacker.auth)
        .send({ token: mail.token })
        .expect(200);
    });

    it('invites an unregistered email into an organization; only the verified owner accepts, once', async () => {
      const org = await createOrganization(t, owner);
      const victim = uniqueName('orgvictim');
      const invited = await t
        .http()
        .post(`/v2/organizations/${org.id}/invitations`)
        .set(owner.auth)
        .send({ user: `${victim}@example.com`, roleId: org.roleId('Developer') })
        .expect(201);
      expect(invited.body.data).toMatchObject({ status: 'PENDING', email: `${victim}@example.com` });
      const squatter = await signUp(t, victim);
      await t.http().post(`/v2/invitations/${invited.body.data.id}/accept`).set(squatter.auth).expect(403);
      const mail = await readMail(t, `${victim}@example.com`, 'invited');
      // The token alone is not enough either: the account must have verified the address.
      await t.http().post('/v2/invitations/accept').set(owner.auth).send({ token: mail.token }).expect(404);
      await verifyEmail(t, squatter);
      await t
        .http()
        .post('/v2/invitations/accept')
        .set(squatter.auth)
        .send({ token: mail.token })
        .expect(200);
      await t
        .http()
        .post('/v2/invitations/accept')
        .set(squatter.auth)
        .send({ token: mail.token })
        .expect(409);
      const members = await t.http().get(`/v2/organizations/${org.id}/members`).set(owner.auth).expect(200);
      expect(members.body.data.items.map((m: { userId: string }) => m.userId)).toContain(squatter.id);
    });
  });

  describe('sessions', () => {
    it('logout ends the access token of the session at once, on every replica', async () => {
      const user = await signUp(t, uniqueName('logout'));
      const session = (await login(user.username).expect(200)).body.data;
      const auth = { authorization: `Bearer ${session.accessToken}` };
      await t.http().get('/v2/users/me').set(auth).expect(200);
      await onReplica().get('/v2/users/me').set(auth).expect(200);
      await t.http().post('/v2/auth/logout').send({ refreshToken: session.refreshToken }).expect(204);
      await t.http().get('/v2/users/me').set(auth).expect(401);
      await eventually(() => onReplica().get('/v2/users/me').set(auth).expect(401), 250, 10);
      // The user's other session is untouched.
      await t.http().get('/v2/users/me').set(user.auth).expect(200);
    });

    it('changes the password: other sessions end, this one stays, bad input names the field', async () => {
      const user = await signUp(t, uniqueName('passwd'));
      const other = (await login(user.username).expect(200)).body.data;
      const otherAuth = { authorization: `Bearer ${other.accessToken}` };
      await onReplica().get('/v2/users/me').set(otherAuth).expect(200);
      const bad = await t
        .http()
        .put('/v2/users/me/password')
        .set(user.auth)
        .send({ currentPassword: PASSWORD, newPassword: 'short' })
        .expect(400);
      expect(bad.body.error.message).toContain('body.newPassword');
      const wrong = await t
        .http()
        .put('/v2/users/me/password')
        .set(user.auth)
        .send({ currentPassword: 'not the password', newPassword: 'a new long password' })
        .expect(400);
      expect(wrong.body.error.message).toContain('body.currentPassword');
      await t
        .http()
        .put('/v2/users/me/password')
        .set(user.auth)
        .send({ currentPassword: PASSWORD, newPassword: 'a new long password' })
        .expect(204);
      await t.http().get('/v2/users/me').set(user.auth).expect(200);
      await t.http().get('/v2/users/me').set(otherAuth).expect(401);
      await eventually(() => onReplica().get('/v2/users/me').set(otherAuth).expect(401), 250, 10);
      await t.http().post('/v2/auth/refresh').send({ refreshToken: other.refreshToken }).expect(401);
      await login(user.username).expect(401);
      await login(user.username, 'a new long password').expect(200);
    });

    it('resets a forgotten password by mail: same answer for unknown emails, one-time, ends every session', async () => {
      const user = await signUp(t, uniqueName('reset'));
      const email = `${user.username}@example.com`;
      const known = await t.http().post('/v2/auth/password-reset').send({ email }).expect(202);
      const unknown = await t
        .http()
        .post('/v2/auth/password-reset')
        .send({ email: `${uniqueName('ghost')}@example.com` })
        .expect(202);
      expect(unknown.body).toEqual(known.body);
      const mail = await readMail(t, email, 'password');
      const link = /^https?:\/\/\S+\/reset-password\?token=(\S+)$/m.exec(mail.text);
      expect(decodeURIComponent(link?.[1] ?? '')).toBe(mail.token);
      const weak = await t
        .http()
        .post('/v2/auth/password-reset/confirm')
        .send({ token: mail.token, newPassword: 'short' })
        .expect(400);
      expect(weak.body.error.message).toContain('body.newPassword');
      await t
        .http()
        .post('/v2/auth/password-reset/confirm')
        .send({ token: mail.token, newPassword: 'reset long password' })
        .expect(204);
      const reused = await t
        .http()
        .post('/v2/auth/password-reset/confirm')
        .send({ token: mail.token, newPassword: 'another long password' })
        .expect(400);
      expect(reused.body.error.message).toContain('body.token');
      await t.http().get('/v2/users/me').set(user.auth).expect(401);
      await t.http().post('/v2/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
      await login(user.username).expect(401);
      await login(user.username, 'reset long password').expect(200);
    });
  });

  describe('hole 6: the per-account lockout cannot be raced', () => {
    it('lets at most 10 of 60 concurrent wrong logins be verified; the rest get 429', async () => {
      const user = await signUp(t, uniqueName('race'));
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          (i % 2 ? t.http() : onReplica())
            .post('/v2/auth/login')
            .send({ login: user.username, password: 'wrong' }),
        ),
      );
      const verified = results.filter((r) => r.status === 401).length;
      const limited = results.filter((r) => r.status === 429).length;
      expect({ verified, limited, other: 60 - verified - limited }).toEqual({
        verified: 10,
        limited: 50,
        other: 0,
      });
      // Locked: even the right password waits out the window.
      await login(user.username).expect(429);
    });
  });

  describe('hole 8: no answer tells whether an email is registered', () => {
    it('answers a grant by email alike for registered and unknown addresses', async () => {
      const registered = await signUp(t, uniqueName('known'));
      const dataset = (
        await t
          .http()
          .post(`/v2/datasets?name=${uniqueName('ds')}`)
          .set(owner.auth)
          .expect(201)
      ).body.data.id as string;
      const grant = (user: string) =>
        t
          .http()
          .post(`/v2/datasets/${dataset}/access/grants`)
          .set(owner.auth)
          .send({ user, permissions: ['READ'] });
      const known = await grant(`${registered.username}@example.com`);
      const unknown = await grant(`${uniqueName('nobody')}@example.com`);
      expect(known.status).toBe(unknown.status);
      expect(JSON.stringify(known.body)).not.toContain(registered.id);
      // By username (public anyway) it still works.
      await grant(registered.username).expect(201);
    });

    it('answers a collaboration invitation alike for registered and unknown addresses', async () => {
      const registered = await signUp(t, uniqueName('known'));
      const role = (
        await t
          .http()
          .post('/v2/collaboration/roles')
          .set(owner.auth)
          .send({ name: uniqueName('role'), policies: ['system-view'] })
          .expect(201)
      ).body.data.id as string;
      const invite = (email: string) =>
        t
          .http()
          .post('/v2/collaboration/members')
          .set(owner.auth)
          .send({ email, shared: [{ category: 'ENVIRONMENTS', roleIds: [role] }] })
          .expect(201);
      const known = await invite(`${registered.username}@example.com`);
      const unknown = await invite(`${uniqueName('nobody')}@example.com`);
      expect(known.body.data.userId).toBeNull();
      expect(unknown.body.data.userId).toBeNull();
      expect(JSON.stringify(known.body)).not.toContain(registered.id);
    });

    it('answers an organization invitation by email alike for registered and unknown addresses', async () => {
      const registered = await signUp(t, uniqueName('known'));
      const org = await createOrganization(t, owner);
      const invite = (user: string) =>
        t
          .http()
          .post(`/v2/organizations/${org.id}/invitations`)
          .set(owner.auth)
          .send({ user, roleId: org.roleId('Developer') });
      const known = await invite(`${registered.username}@example.com`);
      const unknown = await invite(`${uniqueName('nobody')}@example.com`);
      expect(known.status).toBe(201);
      expect(unknown.status).toBe(201);
      expect(JSON.stringify(known.body)).not.toContain(registered.id);
      expect(JSON.stringify(known.body)).not.toContain(registered.username + '"');
    });
  });

  it('keeps mail in the dev mailbox, readable by the operator only', async () => {
    const rows = await sql.query('SELECT count(*)::int AS n FROM identity.dev_mail');
    expect(rows.rows[0].n).toBeGreaterThan(0);
    // No HTTP route serves it.
    await t.http().get('/v2/mailbox').set(owner.auth).expect(404);
  });
});
