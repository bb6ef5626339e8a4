import { EventEnvelope, Events, IdentityRpc } from '@atrium/contracts';
import {
  ContractHarness,
  eventually,
  expectAppError,
  expectEveryRouteValidated,
  recordEvents,
  startContractHarness,
  testServiceConfig,
  testSqlPool,
  uniqueName,
} from '@atrium/testing';
import { DataSource } from 'typeorm';
import { IdentityModule } from '../src/identity.module';

describe('identity message contract (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const received: EventEnvelope[] = [];

  beforeAll(async () => {
    h = await startContractHarness('identity', (url) => IdentityModule.forRoot(testServiceConfig(url)));
    await recordEvents(h, 'identity', [Events.accountCreated.name, Events.accountUpdated.name], received);
  });
  afterAll(() => h.close());

  it('validates the payload of every pattern it defines', () => expectEveryRouteValidated(h, 'identity'));

  it('counts 200 concurrent hits on one rate-limit window once each, and refuses a bad window', async () => {
    const key = uniqueName('auth-credentials-5-10.0.0.1');
    const started = performance.now();
    const hits = await Promise.all(
      Array.from({ length: 200 }, () => h.rpc.call(IdentityRpc.hitRateLimit, { key, windowMs: 60_000 })),
    );
    const elapsed = performance.now() - started;
    console.log(
      `200 concurrent hits on one key: ${elapsed.toFixed(0)} ms (${((200 / elapsed) * 1000).toFixed(0)} hits/s)`,
    );
    // No lost update and no double count: every count from 1 to 200 answered exactly once.
    expect(hits.map((hit) => hit.hits).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    for (const hit of hits) expect(hit.windowEndsInMs).toBeGreaterThan(0);
    for (const hit of hits) expect(hit.windowEndsInMs).toBeLessThanOrEqual(60_000);
    await expectAppError(h.rpc.call(IdentityRpc.hitRateLimit, { key, windowMs: 10 }), 'invalid-input');
  });

  it('answers health', async () => {
    expect(await h.rpc.call(IdentityRpc.health, {})).toEqual({ service: 'identity', ok: true });
  });

  it('signs up (argon2id hash, account.created event through the outbox) and logs in', async () => {
    const username = uniqueName('u');
    const result = await h.rpc.call(IdentityRpc.signup, {
      email: `${username}@x.io`,
      username,
      password: 'password123',
    });
    expect(result.accessToken.split('.')).toHaveLength(3);
    const [row] = await h.app
      .get(DataSource)
      .query('SELECT password_hash FROM identity.user_account WHERE id = $1', [result.user.id]);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    await eventually(async () =>
      expect(received).toContainEqual(
        expect.objectContaining({
          name: 'account.created',
          payload: expect.objectContaining({ id: result.user.id, version: 1 }),
        }),
      ),
    );
    const login = await h.rpc.call(IdentityRpc.login, {
      login: username.toUpperCase(),
      password: 'password123',
    });
    expect(login.user.id).toBe(result.user.id);
    await expectAppError(
      h.rpc.call(IdentityRpc.login, { login: username, password: 'nope' }),
      'token-not-valid',
    );
    await expectAppError(
      h.rpc.call(IdentityRpc.signup, {
        email: `${username}@x.io`,
        username: `${username}2`,
        password: 'password123',
      }),
      'conflict',
    );
  });

  it('rotates refresh tokens and revokes the family on reuse; logout revokes', async () => {
    const username = uniqueName('r');
    const first = await h.rpc.call(IdentityRpc.signup, {
      email: `${username}@x.io`,
      username,
      password: 'password123',
    });
    const second = await h.rpc.call(IdentityRpc.refresh, { refreshToken: first.refreshToken });
    await expectAppError(
      h.rpc.call(IdentityRpc.refresh, { refreshToken: first.refreshToken }),
      'token-not-valid',
    );
    await expectAppError(
      h.rpc.call(IdentityRpc.refresh, { refreshToken: second.refreshToken }),
      'token-not-valid',
    );
    const third = await h.rpc.call(IdentityRpc.login, { login: username, password: 'password123' });
    expect(await h.rpc.call(IdentityRpc.logout, { refreshToken: third.refreshToken })).toEqual({
      userId: third.user.id,
      sessionIds: [expect.any(String)],
    });
    await expectAppError(
      h.rpc.call(IdentityRpc.refresh, { refreshToken: third.refreshToken }),
      'token-not-valid',
    );
    await expectAppError(h.rpc.call(IdentityRpc.logout, { refreshToken: 'x'.repeat(20) }), 'token-not-valid');
  });

  it('reads users, resolves references and serves versioned account facts', async () => {
    const username = uniqueName('f');
    const { user } = await h.rpc.call(IdentityRpc.signup, {
      email: `${username}@x.io`,
      username,
      password: 'password123',
    });
    expect(await h.rpc.call(IdentityRpc.getUser, { userId: user.id })).toMatchObject({
      id: user.id,
      username,
    });
    for (const ref of [user.id, username]) {
      expect(await h.rpc.call(IdentityRpc.resolveUser, { ref })).toEqual({ id: user.id, username });
    }
    // Never by email: that would tell who is registered.
    await expectAppError(h.rpc.call(IdentityRpc.resolveUser, { ref: `${username}@X.io` }), 'invalid-input');
    await expectAppError(h.rpc.call(IdentityRpc.resolveUser, { ref: 'nobody' }), 'record-not-found');
    await expectAppError(h.rpc.call(IdentityRpc.getUser, { userId: 'nobody' }), 'record-not-found');

    const updated = await h.rpc.call(IdentityRpc.updateSettings, {
      userId: user.id,
      settings: { generalResourceAccess: 'RESTRICTED' },
    });
    expect(updated.settings.generalResourceAccess).toBe('RESTRICTED');
    expect(await h.rpc.call(IdentityRpc.getAccountFacts, { username: username.toUpperCase() })).toEqual({
      id: user.id,
      username,
      generalResourceAccess: 'RESTRICTED',
      shareRunsWithPublicActorCreators: false,
      version: 2,
    });
    await eventually(async () =>
      expect(received).toContainEqual(
        expect.objectContaining({
          name: 'account.updated',
          payload: expect.objectContaining({ id: user.id, version: 2 }),
        }),
      ),
    );
    await expectAppError(
      h.rpc.call(IdentityRpc.updateSettings, { userId: user.id, settings: {} }),
      'invalid-input',
    );
  });

  it("resolves a reference by id first: a username equal to someone's id does not take it over", async () => {
    const signUp = async (username: string) =>
      (
        await h.rpc.call(IdentityRpc.signup, {
          email: `${uniqueName('e')}@x.io`,
          username,
          password: 'password123',
        })
      ).user;
    const victim = await signUp(uniqueName('victim'));
    // Sign-up refuses such a username now; an account from before may still have one.
    await expectAppError(signUp(victim.id.toLowerCase()), 'invalid-input');
    const squatter = { ...(await signUp(uniqueName('squatter'))), username: victim.id.toLowerCase() };
    const sql = testSqlPool(h.db.url);
    await sql.query('UPDATE identity.user_account SET username = $1, username_lower = $1 WHERE id = $2', [
      squatter.username,
      squatter.id,
    ]);
    await sql.end();
    // The victim's row is rewritten after the squatter's: an unordered lookup would meet the squatter first.
    await h.rpc.call(IdentityRpc.updateSettings, {
      userId: victim.id,
      settings: { shareRunsWithPublicActorCreators: true },
    });
    for (let i = 0; i < 3; i++) {
      expect(await h.rpc.call(IdentityRpc.resolveUser, { ref: victim.id })).toEqual({
        id: victim.id,
        username: victim.username,
      });
    }
    // Then the username (case-insensitive); never the email.
    expect(await h.rpc.call(IdentityRpc.resolveUser, { ref: squatter.username.toUpperCase() })).toEqual({
      id: squatter.id,
      username: squatter.username,
    });
  });

  it('creates, verifies, lists and revokes API tokens', async () => {
    const username = uniqueName('t');
    const { user } = await h.rpc.call(IdentityRpc.signup, {
      email: `${username}@x.io`,
      username,
      password: 'password123',
    });
    const created = await h.rpc.call(IdentityRpc.createToken, { userId: user.id, token: { name: 'bot' } });
    expect(await h.rpc.call(IdentityRpc.verifyToken, { token: created.token })).toEqual({
      userId: user.id,
      username,
      tokenId: created.id,
      scope: null,
      expiresAt: null,
    });
    const listed = await h.rpc.call(IdentityRpc.listTokens, { userId: user.id });
    expect(listed.map((t) => t.id)).toEqual([created.id]);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    await h.rpc.call(IdentityRpc.revokeToken, { userId: user.id, tokenId: created.id });
    await expectAppError(h.rpc.call(IdentityRpc.verifyToken, { token: created.token }), 'token-not-valid');
    await expectAppError(
      h.rpc.call(IdentityRpc.revokeToken, { userId: user.id, tokenId: created.id }),
      'record-not-found',
    );
    await expectAppError(
      h.rpc.call(IdentityRpc.createToken, {
        userId: user.id,
        token: { name: 'old', expiresAt: '2001-01-01T00:00:00Z' },
      }),
      'invalid-input',
    );
  });

  it('fails fast, with a clear error, on a pattern nobody handles', async () => {
    const started = Date.now();
    const err = await expectAppError(
      h.rpc.call({ ...IdentityRpc.health, pattern: 'identity.no-such-pattern' }, {}),
      'service-unavailable',
    );
    expect(err.message).toMatch(/no matching message handler/i);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
