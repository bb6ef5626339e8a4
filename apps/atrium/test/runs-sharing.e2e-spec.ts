import {
  createActor,
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startTestStack,
  TestStack,
} from './test-stack';

/** Runs, their default storages, run tokens and the run-sharing exceptions, both sides of each. */
describe('runs and the run-sharing exceptions', () => {
  let t: TestStack;
  let alice: SignedUpUser; // publishes an Actor
  let bob: SignedUpUser; // runs it
  let carol: SignedUpUser; // another user, later a collaborator
  let actorId: string;

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob, carol] = await signUpEach(t, 'alice', 'bob', 'carol');
    await restrictResourceAccess(t, alice, bob, carol);
    actorId = await createActor(t, alice, { name: 'scraper', isPublic: true });
  });
  afterAll(() => t.close());

  const startRun = async (user: SignedUpUser, input: unknown = { q: 1 }, actor = actorId) =>
    (
      await t
        .http()
        .post(`/v2/acts/${actor}/runs`)
        .set(user.auth)
        .send(input as object)
        .expect(201)
    ).body.data;
  const canRead = async (path: string, user?: SignedUpUser) => {
    const req = t.http().get(path);
    if (user) req.set(user.auth);
    const res = await req;
    expect([200, 404]).toContain(res.status);
    return res.status === 200;
  };

  it("starts a run of a public Actor: the run and its storages are the runner's, input stored as INPUT", async () => {
    const run = await startRun(bob);
    expect(run).toMatchObject({ actId: actorId, userId: bob.id, status: 'READY', actorTaskId: null });
    expect(run.runToken).toMatch(/^atrium_run_/);
    const input = await t
      .http()
      .get(`/v2/key-value-stores/${run.defaultKeyValueStoreId}/records/INPUT`)
      .set(bob.auth)
      .expect(200);
    expect(input.body).toEqual({ q: 1 });
    await t.http().get(`/v2/datasets/${run.defaultDatasetId}`).set(bob.auth).expect(200);
    await t.http().get(`/v2/request-queues/${run.defaultRequestQueueId}`).set(bob.auth).expect(200);
    // Alice owns the Actor, not the run.
    expect(await canRead(`/v2/actor-runs/${run.id}`, alice)).toBe(false);
    expect(await canRead(`/v2/datasets/${run.defaultDatasetId}`, alice)).toBe(false);
  });

  it('shares runs with the public Actor creator on opt-in only, and takes them back on opt-out', async () => {
    const run = await startRun(bob);
    await t
      .http()
      .post(`/v2/datasets/${run.defaultDatasetId}/items`)
      .set(bob.auth)
      .send({ found: 1 })
      .expect(201);
    await t
      .http()
      .put('/v2/users/me/settings')
      .set(bob.auth)
      .send({ shareRunsWithPublicActorCreators: true })
      .expect(200);
    for (const path of [
      `/v2/actor-runs/${run.id}`,
      `/v2/actor-runs/${run.id}/log`,
      `/v2/datasets/${run.defaultDatasetId}/items`,
      `/v2/key-value-stores/${run.defaultKeyValueStoreId}/records/INPUT`,
    ]) {
      expect({ path, alice: await canRead(path, alice) }).toEqual({ path, alice: true });
      expect({ path, carol: await canRead(path, carol) }).toEqual({ path, carol: false });
      expect({ path, anonymous: await canRead(path) }).toEqual({ path, anonymous: false });
    }
    const sharedRuns = await t
      .http()
      .get('/v2/actor-runs?ownership=sharedWithMe')
      .set(alice.auth)
      .expect(200);
    expect(sharedRuns.body.data.items.map((r: { id: string }) => r.id)).toContain(run.id);
    const sharedDatasets = await t
      .http()
      .get('/v2/datasets?ownership=sharedWithMe')
      .set(alice.auth)
      .expect(200);
    expect(sharedDatasets.body.data.items.map((d: { id: string }) => d.id)).toContain(run.defaultDatasetId);
    const carolShared = await t
      .http()
      .get('/v2/actor-runs?ownership=sharedWithMe')
      .set(carol.auth)
      .expect(200);
    expect(carolShared.body.data.total).toBe(0);
    // Read only: the creator cannot change the run or its storages.
    await t
      .http()
      .post(`/v2/datasets/${run.defaultDatasetId}/items`)
      .set(alice.auth)
      .send({ x: 1 })
      .expect(403);
    await t.http().post(`/v2/actor-runs/${run.id}/abort`).set(alice.auth).expect(403);

    // Bob's runs of another public Actor are not Alice's to see.
    const carolsActor = await createActor(t, carol, { name: 'other', isPublic: true });
    const elsewhere = await startRun(bob, {}, carolsActor);
    expect(await canRead(`/v2/actor-runs/${elsewhere.id}`, alice)).toBe(false);
    expect(await canRead(`/v2/actor-runs/${elsewhere.id}`, carol)).toBe(true);

    await t
      .http()
      .put('/v2/users/me/settings')
      .set(bob.auth)
      .send({ shareRunsWithPublicActorCreators: false })
      .expect(200);
    expect(await canRead(`/v2/actor-runs/${run.id}`, alice)).toBe(false);
    expect(await canRead(`/v2/datasets/${run.defaultDatasetId}/items`, alice)).toBe(false);
    const after = await t.http().get('/v2/actor-runs?ownership=sharedWithMe').set(alice.auth).expect(200);
    expect(after.body.data.items.map((r: { id: string }) => r.id)).not.toContain(run.id);
  });

  it("VIEW_OWNER_RUNS shares the Actor owner's runs one way, never other collaborators' runs", async () => {
    const privateActor = await createActor(t, alice, { name: 'private-one' });
    await t
      .http()
      .post(`/v2/acts/${privateActor}/access/grants`)
      .set(alice.auth)
      .send({ user: carol.username, permissions: ['READ', 'RUN', 'VIEW_OWNER_RUNS'] })
      .expect(201);
    await t
      .http()
      .post(`/v2/acts/${privateActor}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['RUN'] })
      .expect(201);
    const alicesRun = await startRun(alice, { owner: true }, privateActor);
    const bobsRun = await startRun(bob, { other: true }, privateActor);
    const carolsRun = await startRun(carol, {}, privateActor);

    expect(await canRead(`/v2/actor-runs/${alicesRun.id}`, carol)).toBe(true);
    expect(await canRead(`/v2/actor-runs/${alicesRun.id}/log`, carol)).toBe(true);
    expect(
      await canRead(`/v2/key-value-stores/${alicesRun.defaultKeyValueStoreId}/records/INPUT`, carol),
    ).toBe(true);
    expect(await canRead(`/v2/actor-runs/${bobsRun.id}`, carol)).toBe(false);
    const shared = await t
      .http()
      .get('/v2/actor-runs?ownership=sharedWithMe&limit=1')
      .set(carol.auth)
      .expect(200);
    expect(shared.body.data).toMatchObject({ total: 1, count: 1 });
    expect(shared.body.data.items[0].id).toBe(alicesRun.id);
    const sharedStores = await t
      .http()
      .get('/v2/key-value-stores?ownership=sharedWithMe')
      .set(carol.auth)
      .expect(200);
    expect(sharedStores.body.data.items.map((s: { id: string }) => s.id)).toEqual([
      alicesRun.defaultKeyValueStoreId,
    ]);
    expect(await canRead(`/v2/actor-runs/${alicesRun.id}`, bob)).toBe(false);
    // One way: the owner does not see collaborators' runs through it.
    expect(await canRead(`/v2/actor-runs/${carolsRun.id}`, alice)).toBe(false);
    await t
      .http()
      .put(`/v2/actor-runs/${alicesRun.id}`)
      .set(carol.auth)
      .send({ status: 'RUNNING' })
      .expect(403);
  });

  it('reads the builds of a public Actor anonymously while the owner account is RESTRICTED', async () => {
    const build = (await t.http().post(`/v2/acts/${actorId}/builds`).set(alice.auth).send({}).expect(201))
      .body.data;
    expect(await canRead(`/v2/actor-builds/${build.id}`)).toBe(true);
    expect(await canRead(`/v2/actor-builds/${build.id}`, carol)).toBe(true);
    const privateActor = await createActor(t, alice, { name: 'hidden' });
    const hiddenBuild = (
      await t.http().post(`/v2/acts/${privateActor}/builds`).set(alice.auth).send({}).expect(201)
    ).body.data;
    expect(await canRead(`/v2/actor-builds/${hiddenBuild.id}`)).toBe(false);
    expect(await canRead(`/v2/actor-builds/${hiddenBuild.id}`, carol)).toBe(false);
  });

  it('follows the run lifecycle and keeps a log', async () => {
    const run = await startRun(bob);
    await t.http().put(`/v2/actor-runs/${run.id}`).set(bob.auth).send({ status: 'RUNNING' }).expect(200);
    const done = await t
      .http()
      .put(`/v2/actor-runs/${run.id}`)
      .set(bob.auth)
      .send({ status: 'SUCCEEDED', statusMessage: 'ok' })
      .expect(200);
    expect(done.body.data).toMatchObject({ status: 'SUCCEEDED', statusMessage: 'ok' });
    expect(done.body.data.finishedAt).toEqual(expect.any(String));
    await t.http().put(`/v2/actor-runs/${run.id}`).set(bob.auth).send({ status: 'RUNNING' }).expect(409);
    await t.http().post(`/v2/actor-runs/${run.id}/abort`).set(bob.auth).expect(409);
    const log = await t.http().get(`/v2/logs/${run.id}`).set(bob.auth).expect(200);
    expect(log.text).toContain('Status changed from RUNNING to SUCCEEDED');
    const aborted = await startRun(bob);
    expect(
      (await t.http().post(`/v2/actor-runs/${aborted.id}/abort`).set(bob.auth).expect(200)).body.data.status,
    ).toBe('ABORTED');
    await t.http().put(`/v2/actor-runs/${run.id}`).set(bob.auth).send({ status: 'DONE' }).expect(400);
    await t
      .http()
      .put(`/v2/actor-runs/${run.id}`)
      .set(bob.auth)
      .send({ generalAccess: 'ANYONE_WITH_NAME_CAN_READ' })
      .expect(400);
  });

  it('a run readable by anyone makes its default storages and log readable too', async () => {
    const run = await startRun(bob);
    expect(await canRead(`/v2/actor-runs/${run.id}`)).toBe(false);
    await t
      .http()
      .put(`/v2/actor-runs/${run.id}`)
      .set(bob.auth)
      .send({ generalAccess: 'ANYONE_WITH_ID_CAN_READ' })
      .expect(200);
    expect(await canRead(`/v2/actor-runs/${run.id}`)).toBe(true);
    expect(await canRead(`/v2/logs/${run.id}`)).toBe(true);
    expect(await canRead(`/v2/datasets/${run.defaultDatasetId}/items`)).toBe(true);
    expect(await canRead(`/v2/key-value-stores/${run.defaultKeyValueStoreId}/records/INPUT`, carol)).toBe(
      true,
    );
  });

  it('a run token acts as its starter, on what the run may touch only, until the run finishes', async () => {
    const run = await startRun(bob);
    const asRun = { authorization: `Bearer ${run.runToken}` };
    const otherDataset = (await t.http().post('/v2/datasets?name=private-notes').set(bob.auth).expect(201))
      .body.data.id;
    await t.http().get(`/v2/actor-runs/${run.id}`).set(asRun).expect(200);
    await t
      .http()
      .post(`/v2/datasets/${run.defaultDatasetId}/items`)
      .set(asRun)
      .send({ from: 'run' })
      .expect(201);
    await t.http().get(`/v2/acts/${actorId}`).set(asRun).expect(200);
    await t.http().get(`/v2/datasets/${otherDataset}`).set(asRun).expect(404);
    // Who it acts as (as the SDK asks inside a run), without the email; no other account route.
    const me = await t.http().get('/v2/users/me').set(asRun).expect(200);
    expect(me.body.data.id).toBe(bob.id);
    expect(me.body.data).not.toHaveProperty('email');
    await t.http().get('/v2/users/me/tokens').set(asRun).expect(403);
    await t.http().get('/v2/users/me/usage').set(asRun).expect(403);
    await t.http().get(`/v2/acts/${actorId}/runs`).set(asRun).expect(403);
    await t
      .http()
      .get(`/v2/access/explain?resourceId=${otherDataset}&permission=READ`)
      .set(asRun)
      .expect(403);
    const batch = await t
      .http()
      .post('/v2/access/check')
      .set(asRun)
      .send({
        checks: [
          { resourceId: otherDataset, permission: 'READ' },
          { resourceId: run.defaultDatasetId, permission: 'WRITE' },
        ],
      })
      .expect(200);
    expect(batch.body.data).toEqual([{ allowed: false }, { allowed: true }]);
    await t.http().post(`/v2/acts/${actorId}/runs`).set(asRun).send({}).expect(403);
    await t.http().put(`/v2/actor-runs/${run.id}`).set(bob.auth).send({ status: 'SUCCEEDED' }).expect(200);
    await t.http().get(`/v2/actor-runs/${run.id}`).set(asRun).expect(401);
    await t
      .http()
      .get(`/v2/actor-runs/${run.id}`)
      .set({ authorization: `Bearer ${run.runToken.slice(0, -1)}x` })
      .expect(401);
  });

  it('lists my runs and answers unknown or forbidden runs alike', async () => {
    const mine = await t.http().get('/v2/actor-runs?desc=1&limit=2').set(bob.auth).expect(200);
    expect(mine.body.data).toMatchObject({ count: 2, limit: 2 });
    expect(mine.body.data.total).toBeGreaterThan(2);
    const ofActor = await t.http().get(`/v2/acts/${actorId}/runs`).set(bob.auth).expect(200);
    expect(
      ofActor.body.data.items.every(
        (r: { actId: string; userId: string }) => r.actId === actorId && r.userId === bob.id,
      ),
    ).toBe(true);
    const unknown = await t.http().get('/v2/actor-runs/AAAAAAAAAAAAAAAAA').set(bob.auth).expect(404);
    const forbidden = await t
      .http()
      .get(`/v2/actor-runs/${mine.body.data.items[0].id}`)
      .set(carol.auth)
      .expect(404);
    expect(unknown.body).toEqual({ error: { type: 'record-not-found', message: expect.any(String) } });
    expect(forbidden.body.error.type).toBe(unknown.body.error.type);
    await t.http().post('/v2/acts/AAAAAAAAAAAAAAAAA/runs').set(bob.auth).send({}).expect(404);
    await t.http().post(`/v2/acts/${actorId}/runs?memory=1`).set(bob.auth).send({}).expect(400);
  });
});
