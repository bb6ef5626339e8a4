import { RpcIdempotencySweeper } from '@atrium/persistence';
import { Pool } from 'pg';
import {
  createDataset,
  SignedUpUser,
  signUpEach,
  startTestStack,
  TEST_DISTRIBUTED,
  TEST_EMBEDDED,
  TestStack,
} from './test-stack';

/**
 * Issue 17, item 1: a client's `Idempotency-Key` makes a write happen once, whatever the number
 * of times it is sent; it is scoped to who sends it and to the request (method, path, body).
 * Runs on the embedded mode too (TEST_EMBEDDED=1): the in-process transport carries the keys.
 */
describe('Idempotency-Key on write requests', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let datasetId: string;

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
    datasetId = await createDataset(t, alice, 'keyed');
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['READ', 'WRITE'] })
      .expect(201);
  });
  afterAll(() => t.close());

  const push = (user: SignedUpUser, key: string | undefined, items: unknown) => {
    const req = t.http().post(`/v2/datasets/${datasetId}/items`).set(user.auth);
    return (key === undefined ? req : req.set('Idempotency-Key', key)).send(items as object);
  };
  const itemCount = async () =>
    (await t.http().get(`/v2/datasets/${datasetId}`).set(alice.auth).expect(200)).body.data
      .itemCount as number;

  it('answers the same request sent again with the same key with the first answer, writing once', async () => {
    const first = await push(alice, 'push-1', [{ n: 1 }]).expect(201);
    const again = await push(alice, 'push-1', [{ n: 1 }]).expect(201);
    expect(again.body).toEqual(first.body);
    expect(await itemCount()).toBe(1);
  });

  it('runs a request with the same key but another body as a new request', async () => {
    await push(alice, 'push-1', [{ n: 2 }]).expect(201);
    expect(await itemCount()).toBe(2);
    await push(alice, 'push-1', [{ n: 2 }]).expect(201);
    expect(await itemCount()).toBe(2);
  });

  it("never replays another user's result: the same key and body from bob is his own request", async () => {
    await push(bob, 'push-1', [{ n: 1 }]).expect(201);
    expect(await itemCount()).toBe(3);
  });

  it('writes each request without a key (keys are per request, not per body)', async () => {
    await push(alice, undefined, [{ n: 9 }]).expect(201);
    await push(alice, undefined, [{ n: 9 }]).expect(201);
    expect(await itemCount()).toBe(5);
  });

  it('answers a grant sent twice with the same key with the same grant, where a repeat without a key is refused', async () => {
    const other = await createDataset(t, alice, 'granted');
    const grant = (key?: string) => {
      const req = t.http().post(`/v2/datasets/${other}/access/grants`).set(alice.auth);
      return (key ? req.set('Idempotency-Key', key) : req).send({
        user: bob.username,
        permissions: ['READ'],
      });
    };
    const first = await grant('grant-1').expect(201);
    const again = await grant('grant-1').expect(201);
    expect(again.body.data.id).toBe(first.body.data.id);
    expect((await grant()).status).toBeGreaterThanOrEqual(400);
    if (!TEST_EMBEDDED) {
      const sql = new Pool({ connectionString: t.db.url, max: 1 });
      try {
        const { rows } = await sql.query(
          'SELECT count(*)::int AS n FROM permissions.grant WHERE resource_id = $1',
          [other],
        );
        expect(rows[0].n).toBe(1);
      } finally {
        await sql.end();
      }
    }
  });

  it('keeps no secret: an API token created with a key is not recorded, and its repeat is refused (409), not answered with a token that does not work', async () => {
    const create = () =>
      t
        .http()
        .post('/v2/users/me/tokens')
        .set(alice.auth)
        .set('Idempotency-Key', 'token-1')
        .send({ name: 'keyed' });
    const first = await create().expect(201);
    const token = first.body.data.token as string;
    expect(token).toBeTruthy();
    const again = await create().expect(409);
    expect(again.body.error.message).toMatch(/held a secret, which Atrium does not keep/);
    // One token, which works.
    await t.http().get('/v2/users/me').set('Authorization', `Bearer ${token}`).expect(200);
    if (!TEST_EMBEDDED) {
      const sql = new Pool({ connectionString: t.db.url, max: 1 });
      try {
        // Neither the secret nor a session's tokens (sign-ups and logins are keyed too) are kept.
        const { rows } = await sql.query(
          `SELECT count(*)::int AS n FROM (
             SELECT result FROM identity.rpc_idempotency UNION ALL SELECT result FROM resources.rpc_idempotency
           ) r WHERE result LIKE $1 OR result LIKE '%"refreshToken":"%' OR result LIKE '%"accessToken":"%'
              OR result LIKE '%passwordHash%'`,
          [`%${token}%`],
        );
        expect(rows[0].n).toBe(0);
        const { rows: kept } = await sql.query(
          `SELECT count(*)::int AS n FROM identity.rpc_idempotency WHERE result LIKE '%"$secret":true%'`,
        );
        expect(kept[0].n).toBeGreaterThan(0);
      } finally {
        await sql.end();
      }
    }
  });

  it.each([
    ['empty', ''],
    ['256 characters long', 'k'.repeat(256)],
    ['not printable ASCII', 'clé'],
  ])('refuses a key that is %s with 400 naming the header', async (_what, key) => {
    const res = await push(alice, key, [{ n: 0 }]);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Idempotency-Key');
  });

  (TEST_DISTRIBUTED ? it.skip : it)(
    'forgets keys past the window: the same request then runs again',
    async () => {
      await push(alice, 'expiring', [{ n: 7 }]).expect(201);
      const counted = await itemCount();
      const sweeper = t.stack.services.get('resources')!.get(RpcIdempotencySweeper);
      // A window of 0 ms stands for 24 h having passed; every resources key is older than that.
      expect(await sweeper.sweep(0)).toBeGreaterThan(0);
      await push(alice, 'expiring', [{ n: 7 }]).expect(201);
      expect(await itemCount()).toBe(counted + 1);
    },
  );
});
