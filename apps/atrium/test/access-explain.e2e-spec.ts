import {
  createActor,
  createDataset,
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startTestStack,
  TestStack,
} from './test-stack';

/** Explain names the rule of the decision order that decided, with its chain; batch check answers in order. */
describe('explain and batch check', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let carol: SignedUpUser;
  let datasetId: string;
  let actorId: string;

  const explain = async (
    user: SignedUpUser | null,
    resourceId: string,
    permission: string,
    userId?: string,
  ) => {
    const req = t
      .http()
      .get(
        `/v2/access/explain?resourceId=${resourceId}&permission=${permission}${userId ? `&userId=${userId}` : ''}`,
      );
    if (user) req.set(user.auth);
    return req;
  };
  const rule = async (user: SignedUpUser | null, resourceId: string, permission: string) => {
    const res = await explain(user, resourceId, permission);
    expect(res.status).toBe(200);
    return res.body.data;
  };

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob, carol] = await signUpEach(t, 'alice', 'bob', 'carol');
    await restrictResourceAccess(t, alice, bob);
    datasetId = await createDataset(t, alice, 'explained');
    actorId = await createActor(t, alice, { name: 'explained', isPublic: true });
  });
  afterAll(() => t.close());

  it('owner', async () => {
    const data = await rule(alice, datasetId, 'WRITE');
    expect(data).toMatchObject({ allowed: true, rule: 'owner', userId: alice.id, resourceType: 'DATASET' });
    expect(data.chain[0]).toContain('owns the dataset');
  });

  it('grant, and a denial lists every rule checked', async () => {
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['READ'] })
      .expect(201);
    expect(await rule(bob, datasetId, 'READ')).toMatchObject({ allowed: true, rule: 'grant' });
    const denied = await rule(bob, datasetId, 'WRITE');
    expect(denied).toMatchObject({ allowed: false, rule: 'none', chain: [] });
    expect(denied.checked.map((c: { rule: string }) => c.rule)).toEqual(['owner', 'grant', 'general-access']);
    expect(denied.checked[2].detail).toContain('RESTRICTED');
  });

  it("explains another user's access only to those who manage it", async () => {
    const forOwner = await explain(alice, datasetId, 'READ', carol.id);
    expect(forOwner.status).toBe(200);
    expect(forOwner.body.data).toMatchObject({ userId: carol.id, allowed: false });
    // Bob can read but not manage: 403; Carol cannot read: 404 (and learns nothing).
    expect((await explain(bob, datasetId, 'READ', alice.id)).status).toBe(403);
    expect((await explain(carol, datasetId, 'READ')).status).toBe(404);
    expect((await explain(carol, 'AAAAAAAAAAAAAAAAA', 'READ')).status).toBe(404);
    expect((await explain(alice, datasetId, 'FLY')).status).toBe(400);
    // A permission the type does not have is named as such, to whoever can see the resource only.
    const notApplicable = await explain(alice, datasetId, 'RUN');
    expect(notApplicable.status).toBe(400);
    expect(notApplicable.body.error.message).toBe(
      'Field "query.permission" is invalid: RUN does not apply to DATASET (READ, WRITE, MANAGE_ACCESS)',
    );
    expect((await explain(carol, datasetId, 'RUN')).status).toBe(404);
  });

  it('general access, from the owner setting', async () => {
    await t
      .http()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ generalAccess: 'ANYONE_WITH_ID_CAN_READ' })
      .expect(200);
    const data = await rule(null, datasetId, 'READ');
    expect(data).toMatchObject({ allowed: true, rule: 'general-access', userId: null });
    expect(data.chain[0]).toContain('ANYONE_WITH_ID_CAN_READ');
    await t
      .http()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ generalAccess: 'FOLLOW_USER_SETTING' })
      .expect(200);
  });

  it('public Actor and its builds, with the chain down to the Actor', async () => {
    expect(await rule(carol, actorId, 'RUN')).toMatchObject({ allowed: true, rule: 'public-actor' });
    const build = (await t.http().post(`/v2/acts/${actorId}/builds`).set(alice.auth).send({}).expect(201))
      .body.data;
    const data = await rule(null, build.id, 'READ');
    expect(data).toMatchObject({ allowed: true, rule: 'public-actor-build' });
    expect(data.chain).toHaveLength(2);
    expect(data.chain[1]).toContain('public-actor');
  });

  it('run storage, runs shared with the public Actor creator, and VIEW_OWNER_RUNS, each with its chain', async () => {
    await t
      .http()
      .put('/v2/users/me/settings')
      .set(bob.auth)
      .send({ shareRunsWithPublicActorCreators: true })
      .expect(200);
    const run = (await t.http().post(`/v2/acts/${actorId}/runs`).set(bob.auth).send({}).expect(201)).body
      .data;
    const shared = await rule(alice, run.id, 'READ');
    expect(shared).toMatchObject({ allowed: true, rule: 'shared-with-public-actor-creator' });
    const storage = await rule(alice, run.defaultDatasetId, 'READ');
    expect(storage).toMatchObject({ allowed: true, rule: 'run-storage' });
    expect(storage.chain[1]).toContain('shared-with-public-actor-creator');

    await t
      .http()
      .post(`/v2/acts/${actorId}/access/grants`)
      .set(alice.auth)
      .send({ user: carol.username, permissions: ['VIEW_OWNER_RUNS'] })
      .expect(201);
    const alicesRun = (await t.http().post(`/v2/acts/${actorId}/runs`).set(alice.auth).send({}).expect(201))
      .body.data;
    const viewed = await rule(carol, alicesRun.id, 'READ');
    expect(viewed).toMatchObject({ allowed: true, rule: 'view-owner-runs' });
    expect(viewed.chain[1]).toContain('grant');
  });

  it('batch check answers each question in order, for the caller', async () => {
    const res = await t
      .http()
      .post('/v2/access/check')
      .set(bob.auth)
      .send({
        checks: [
          { resourceId: datasetId, permission: 'READ' },
          { resourceId: datasetId, permission: 'WRITE' },
          { resourceId: actorId, permission: 'RUN' },
          { resourceId: 'AAAAAAAAAAAAAAAAA', permission: 'READ' },
        ],
      })
      .expect(200);
    expect(res.body.data).toEqual([
      { allowed: true },
      { allowed: false },
      { allowed: true },
      { allowed: false },
    ]);
    const anonymous = await t
      .http()
      .post('/v2/access/check')
      .send({ checks: [{ resourceId: actorId, permission: 'RUN' }] })
      .expect(200);
    expect(anonymous.body.data).toEqual([{ allowed: false }]);
    await t.http().post('/v2/access/check').set(bob.auth).send({ checks: [] }).expect(400);
    await t
      .http()
      .post('/v2/access/check')
      .set(bob.auth)
      .send({ checks: [{ resourceId: datasetId, permission: 'FLY' }] })
      .expect(400);
  });
});
