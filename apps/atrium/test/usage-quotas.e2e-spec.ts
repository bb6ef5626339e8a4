import { testSqlPool, uniqueName } from '@atrium/testing';
import {
  createOrganization,
  joinOrganization,
  SignedUpUser,
  signUp,
  signUpEach,
  startTestStack,
  TestStack,
  verifyEmail,
} from './test-stack';

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** Usage recorded against the owner account with who caused it, and limits enforced with 402 (issue 4, part 5). */
describe('usage and quotas end to end', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
  });
  afterAll(() => t.close());

  const usageOf = async (user: SignedUpUser) =>
    (await t.http().get('/v2/users/me/usage').set(user.auth).expect(200)).body.data;
  const setLimits = (user: SignedUpUser, limits: object) =>
    t.http().put('/v2/users/me/limits').set(user.auth).send(limits);

  it('starts at zero, under the deployment limits', async () => {
    const usage = await usageOf(alice);
    expect(usage).toMatchObject({ accountId: alice.id, storageBytes: 0, runTimeSecs: 0, byUser: [] });
    expect(usage.resources).toMatchObject({ DATASET: 0, ACTOR: 0, ENVIRONMENT: 0 });
    expect(usage.limits).toEqual({
      resources: expect.objectContaining({ DATASET: 10_000, ENVIRONMENT: 10_000 }),
      storageBytes: 10 * 1024 ** 3,
      runTimeSecs: 3_600_000,
    });
    await t.http().get('/v2/users/me/usage').expect(401);
  });

  it('counts what is created, pushed, put and deleted, for the user who created it', async () => {
    const datasetId = (await t.http().post('/v2/datasets?name=usage').set(alice.auth).expect(201)).body.data
      .id;
    const items = [{ n: 1 }, { title: 'Ünïcode', tags: ['a', 'b'] }];
    await t.http().post(`/v2/datasets/${datasetId}/items`).set(alice.auth).send(items).expect(201);
    const itemBytes = items.reduce((total, item) => total + jsonBytes(item), 0);

    const storeId = (await t.http().post('/v2/key-value-stores').set(alice.auth).expect(201)).body.data.id;
    await t
      .http()
      .put(`/v2/key-value-stores/${storeId}/records/greeting`)
      .set(alice.auth)
      .set('content-type', 'text/plain')
      .send('hello')
      .expect(201);
    let usage = await usageOf(alice);
    expect(usage.resources).toMatchObject({ DATASET: 1, KEY_VALUE_STORE: 1 });
    expect(usage.storageBytes).toBe(itemBytes + 5);
    expect(usage.byUser).toEqual([
      expect.objectContaining({
        userId: alice.id,
        storageBytes: itemBytes + 5,
        resources: expect.objectContaining({ DATASET: 1, KEY_VALUE_STORE: 1 }),
      }),
    ]);
    // Someone else's account is untouched.
    expect((await usageOf(bob)).storageBytes).toBe(0);

    await t.http().delete(`/v2/key-value-stores/${storeId}/records/greeting`).set(alice.auth).expect(204);
    await t.http().delete(`/v2/datasets/${datasetId}`).set(alice.auth).expect(204);
    usage = await usageOf(alice);
    expect(usage.resources).toMatchObject({ DATASET: 0, KEY_VALUE_STORE: 1 });
    expect(usage.storageBytes).toBe(0);
    await t.http().delete(`/v2/key-value-stores/${storeId}`).set(alice.auth).expect(204);
    expect((await usageOf(alice)).byUser).toEqual([]);
  });

  it('refuses a create at the limit the account set for itself with 402 quota-exceeded', async () => {
    const set = await setLimits(alice, { resources: { DATASET: 1 } }).expect(200);
    expect(set.body.data.limits.resources).toMatchObject({ DATASET: 1, KEY_VALUE_STORE: 10_000 });
    await t.http().post('/v2/datasets').set(alice.auth).expect(201);
    const refused = await t.http().post('/v2/datasets?name=second').set(alice.auth).expect(402);
    expect(refused.body).toEqual({
      error: { type: 'quota-exceeded', message: expect.stringContaining('limit of 1 datasets') },
    });
    // Nothing was created: the name is free once the limit allows it again.
    expect((await usageOf(alice)).resources.DATASET).toBe(1);
    await t.http().get(`/v2/datasets/${alice.username}~second`).set(alice.auth).expect(404);
    // Other types, and other accounts, are not limited by it.
    await t.http().post('/v2/request-queues').set(alice.auth).expect(201);
    await t.http().post('/v2/datasets').set(bob.auth).expect(201);

    await setLimits(alice, { resources: { DATASET: null } }).expect(200);
    await t.http().post('/v2/datasets?name=second').set(alice.auth).expect(201);
  });

  it('refuses a push beyond the storage limit and stores nothing of it', async () => {
    const datasetId = (await t.http().post('/v2/datasets?name=capped').set(alice.auth).expect(201)).body.data
      .id;
    const used = (await usageOf(alice)).storageBytes;
    const first = { n: 1 };
    await setLimits(alice, { storageBytes: used + jsonBytes(first) + 3 }).expect(200);
    await t.http().post(`/v2/datasets/${datasetId}/items`).set(alice.auth).send(first).expect(201);

    const refused = await t
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(alice.auth)
      .send([{ n: 2 }, { n: 3 }])
      .expect(402);
    expect(refused.body.error.type).toBe('quota-exceeded');
    const items = await t.http().get(`/v2/datasets/${datasetId}/items`).set(alice.auth).expect(200);
    expect(items.body).toEqual([first]);
    expect(
      (await t.http().get(`/v2/datasets/${datasetId}`).set(alice.auth).expect(200)).body.data.itemCount,
    ).toBe(1);

    const storeId = (await t.http().post('/v2/key-value-stores').set(alice.auth).expect(201)).body.data.id;
    await t
      .http()
      .put(`/v2/key-value-stores/${storeId}/records/big`)
      .set(alice.auth)
      .set('content-type', 'text/plain')
      .send('more than three bytes')
      .expect(402);
    await t.http().get(`/v2/key-value-stores/${storeId}/records/big`).set(alice.auth).expect(404);
    expect((await usageOf(alice)).storageBytes).toBe(used + jsonBytes(first));

    await setLimits(alice, { storageBytes: null }).expect(200);
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(alice.auth)
      .send([{ n: 2 }])
      .expect(201);
  });

  it('counts a finished run for its starter and refuses a start once run time is used up', async () => {
    const actorId = (await t.http().post('/v2/acts').set(bob.auth).send({ name: 'timed' }).expect(201)).body
      .data.id;
    const before = await usageOf(bob);
    const input = { q: 1 };
    const run = (await t.http().post(`/v2/acts/${actorId}/runs`).set(bob.auth).send(input).expect(201)).body
      .data;
    await t.http().put(`/v2/actor-runs/${run.id}`).set(bob.auth).send({ status: 'RUNNING' }).expect(200);
    await new Promise((done) => setTimeout(done, 20));
    await t.http().put(`/v2/actor-runs/${run.id}`).set(bob.auth).send({ status: 'SUCCEEDED' }).expect(200);

    const usage = await usageOf(bob);
    expect(usage.runTimeSecs).toBeGreaterThanOrEqual(1);
    expect(usage.resources.ACTOR_RUN).toBe(1);
    // The run's default storages, with its INPUT record, are the starter's.
    expect(usage.resources.DATASET).toBe(before.resources.DATASET + 1);
    expect(usage.storageBytes).toBe(before.storageBytes + jsonBytes(input));
    expect(usage.byUser.find((u: { userId: string }) => u.userId === bob.id)).toMatchObject({
      runTimeSecs: usage.runTimeSecs,
    });

    await setLimits(bob, { runTimeSecs: usage.runTimeSecs }).expect(200);
    const refused = await t.http().post(`/v2/acts/${actorId}/runs`).set(bob.auth).send(input).expect(402);
    expect(refused.body.error).toMatchObject({ type: 'quota-exceeded' });
    expect(refused.body.error.message).toContain('run time');
    const runs = await t.http().get(`/v2/acts/${actorId}/runs`).set(bob.auth).expect(200);
    expect(runs.body.data.total).toBe(1);
    expect((await usageOf(bob)).resources).toEqual(usage.resources);
  });

  describe('in an organization', () => {
    let orgId: string;
    let carol: SignedUpUser;

    beforeAll(async () => {
      carol = await signUp(t, uniqueName('carol'));
      const org = await createOrganization(t, alice);
      orgId = org.id;
      await joinOrganization(t, alice, orgId, bob, org.roleId('Developer'));
    });

    const inOrg = (user: SignedUpUser) => ({ ...user.auth, 'x-account-id': orgId });

    it("counts a member's creation against the organization, for that member", async () => {
      const before = await usageOf(bob);
      const created = await t.http().post('/v2/datasets').set(inOrg(bob)).expect(201);
      expect(created.body.data.userId).toBe(orgId);

      const usage = (await t.http().get(`/v2/organizations/${orgId}/usage`).set(alice.auth).expect(200)).body
        .data;
      expect(usage.accountId).toBe(orgId);
      expect(usage.resources.DATASET).toBe(1);
      expect(usage.byUser).toEqual([
        expect.objectContaining({ userId: bob.id, resources: expect.objectContaining({ DATASET: 1 }) }),
      ]);
      // Not the member's own account.
      expect((await usageOf(bob)).resources).toEqual(before.resources);

      // Each write into it is recorded in the ledger with its writer as the cause.
      const datasetId = created.body.data.id;
      await t
        .http()
        .post(`/v2/datasets/${datasetId}/items`)
        .set(bob.auth)
        .send([{ by: 'bob' }])
        .expect(201);
      await t
        .http()
        .post(`/v2/datasets/${datasetId}/items`)
        .set(alice.auth)
        .send({ by: 'alice' })
        .expect(201);
      const sql = testSqlPool(t.db.url);
      try {
        const { rows } = await sql.query(
          `SELECT caused_by AS "causedBy" FROM resources.usage_ledger
            WHERE resource_id = $1 AND metric = 'STORAGE_BYTES' ORDER BY id`,
          [datasetId],
        );
        expect(rows.map((r) => r.causedBy)).toEqual([bob.id, alice.id]);
      } finally {
        await sql.end();
      }
    });

    it("shows the organization's usage only to members whose role allows it", async () => {
      // Developer holds neither VIEW_INVOICES nor MANAGE_BILLING.
      const denied = await t.http().get(`/v2/organizations/${orgId}/usage`).set(bob.auth).expect(403);
      expect(denied.body.error.type).toBe('insufficient-permissions');
      // A non-member learns nothing about the organization.
      await t.http().get(`/v2/organizations/${orgId}/usage`).set(carol.auth).expect(404);
      await t.http().get('/v2/organizations/not-an-id/usage').set(alice.auth).expect(404);
    });

    it('enforces the limits the organization sets, which only MANAGE_BILLING may change', async () => {
      await t
        .http()
        .put(`/v2/organizations/${orgId}/limits`)
        .set(bob.auth)
        .send({ resources: { DATASET: 5 } })
        .expect(403);
      await t
        .http()
        .put(`/v2/organizations/${orgId}/limits`)
        .set(carol.auth)
        .send({ storageBytes: 1 })
        .expect(404);
      const set = await t
        .http()
        .put(`/v2/organizations/${orgId}/limits`)
        .set(alice.auth)
        .send({ resources: { DATASET: 1 } })
        .expect(200);
      expect(set.body.data.limits.resources.DATASET).toBe(1);
      await t
        .http()
        .put(`/v2/organizations/${orgId}/limits`)
        .set(alice.auth)
        .send({ resources: { DATASET: -1 } })
        .expect(400);

      const refused = await t.http().post('/v2/datasets').set(inOrg(bob)).expect(402);
      expect(refused.body.error.type).toBe('quota-exceeded');
      // The member's own account has its own limits.
      await t.http().post('/v2/datasets').set(bob.auth).expect(201);
      // The organization's limit is not the owner's either.
      expect((await usageOf(alice)).limits.resources.DATASET).toBe(10_000);
    });
  });

  describe('in account collaboration', () => {
    let primary: SignedUpUser;
    let member: SignedUpUser;

    beforeAll(async () => {
      [primary, member] = await signUpEach(t, 'primary', 'member');
      const role = (
        await t
          .http()
          .post('/v2/collaboration/roles')
          .set(primary.auth)
          .send({ name: 'Creator', policies: ['system-view', 'system-create'] })
          .expect(201)
      ).body.data;
      await t
        .http()
        .post('/v2/collaboration/members')
        .set(primary.auth)
        .send({
          email: `${member.username}@example.com`,
          shared: [{ category: 'ENVIRONMENTS', roleIds: [role.id] }],
        })
        .expect(201);
      await verifyEmail(t, member); // only a verified owner of the address sees and answers it
      const mine = (await t.http().get('/v2/collaborations').set(member.auth).expect(200)).body.data.items;
      const collaboration = mine.find((c: { primaryId: string }) => c.primaryId === primary.id);
      await t.http().post(`/v2/collaborations/${collaboration.id}/accept`).set(member.auth).expect(200);
    });

    it("counts a member's environment against the primary's quota, for that member", async () => {
      await setLimits(primary, { resources: { ENVIRONMENT: 1 } }).expect(200);
      const created = await t
        .http()
        .post('/v2/environments')
        .set(member.auth)
        .send({ name: 'member-env', ownerId: primary.id })
        .expect(201);
      expect(created.body.data).toMatchObject({ ownerId: primary.id, createdBy: member.id });

      const usage = await usageOf(primary);
      expect(usage.resources.ENVIRONMENT).toBe(1);
      expect(usage.byUser).toEqual([
        expect.objectContaining({
          userId: member.id,
          resources: expect.objectContaining({ ENVIRONMENT: 1 }),
        }),
      ]);
      expect((await usageOf(member)).resources.ENVIRONMENT).toBe(0);

      // The primary's limit binds the member on the primary's account, not on its own.
      const refused = await t
        .http()
        .post('/v2/environments')
        .set(member.auth)
        .send({ name: 'one-more', ownerId: primary.id })
        .expect(402);
      expect(refused.body.error.type).toBe('quota-exceeded');
      await t.http().post('/v2/environments').set(member.auth).send({ name: 'own' }).expect(201);
      await t.http().post('/v2/environments').set(primary.auth).send({ name: 'primary-env' }).expect(402);
    });
  });

  it('answers bad limits with 400 naming the field, changing nothing', async () => {
    const cases: [object, string][] = [
      [{ storageBytes: -1 }, 'body.storageBytes'],
      [{ runTimeSecs: 'soon' }, 'body.runTimeSecs'],
      [{ resources: { WIDGET: 1 } }, 'body.resources.WIDGET'],
      [{ resources: { DATASET: 2.5 } }, 'body.resources.DATASET'],
      [{ quota: 1 }, 'body.quota'],
      [{ storageBytes: 10 * 1024 ** 3 + 1 }, 'storageBytes'],
      [{ resources: { ACTOR: 10_001 } }, 'resources.ACTOR'],
    ];
    const before = (await usageOf(alice)).limits;
    for (const [body, field] of cases) {
      const res = await setLimits(alice, body).expect(400);
      expect(res.body.error.type).toBe('invalid-input');
      expect(res.body.error.message).toContain(field);
    }
    await t
      .http()
      .put('/v2/users/me/limits')
      .set(alice.auth)
      .set('content-type', 'text/plain')
      .send('x')
      .expect(400);
    expect((await usageOf(alice)).limits).toEqual(before);
  });
});
