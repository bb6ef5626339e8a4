import { SignedUpUser, signUpEach, startTestStack, TestStack } from './test-stack';

/** The story of issue 2, as a new user would try it, over real RabbitMQ and PostgreSQL. */
describe('datasets shared end to end', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let datasetId: string;

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
  });
  afterAll(() => t.close());

  const setAccountAccess = (generalResourceAccess: string) =>
    t.http().put('/v2/users/me/settings').set(alice.auth).send({ generalResourceAccess }).expect(200);

  it('lets the creator use a dataset as soon as the create call returns', async () => {
    const created = await t.http().post('/v2/datasets?name=results').set(alice.auth).expect(201);
    datasetId = created.body.data.id;
    expect(datasetId).toMatch(/^[A-Za-z0-9]{17}$/);
    expect(created.body.data).toMatchObject({ name: 'results', userId: alice.id, itemCount: 0 });
    expect(created.body.data.consoleUrl).toContain(`/storage/datasets/${datasetId}`);

    await t
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(alice.auth)
      .send([{ n: 1 }, { n: 2 }])
      .expect(201);
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(alice.auth)
      .send({ n: 3, secret: 'x' })
      .expect(201);
    const items = await t
      .http()
      .get(`/v2/datasets/${datasetId}/items?desc=1&omit=secret`)
      .set(alice.auth)
      .expect(200);
    expect(items.body).toEqual([{ n: 3 }, { n: 2 }, { n: 1 }]);
    expect(items.headers['x-apify-pagination-total']).toBe('3');
    expect(items.headers['x-apify-pagination-desc']).toBe('true');
  });

  it('returns the same dataset for the same name (get-or-create) and resolves username~name', async () => {
    const again = await t.http().post('/v2/datasets?name=results').set(alice.auth).expect(201);
    expect(again.body.data.id).toBe(datasetId);
    const byName = await t.http().get(`/v2/datasets/${alice.username}~results`).set(alice.auth).expect(200);
    expect(byName.body.data.id).toBe(datasetId);
  });

  it('hides the dataset from others when the owner account is RESTRICTED (404, not 403)', async () => {
    await setAccountAccess('RESTRICTED');
    const denied = await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(404);
    expect(denied.body.error.type).toBe('record-not-found');
    await t.http().get(`/v2/datasets/${datasetId}`).expect(404);
    await t.http().get(`/v2/datasets/${datasetId}/items`).set(bob.auth).expect(404);
  });

  it('lets anyone with the id read when the account is ANYONE_WITH_ID_CAN_READ, but not write', async () => {
    await setAccountAccess('ANYONE_WITH_ID_CAN_READ');
    const read = await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(200);
    expect(read.body.data.urlSigningSecretKey).toBeUndefined();
    await t.http().get(`/v2/datasets/${datasetId}/items`).expect(200);
    const push = await t
      .http()
      .post(`/v2/datasets/${datasetId}/items`)
      .set(bob.auth)
      .send({ n: 9 })
      .expect(403);
    expect(push.body.error.type).toBe('insufficient-permissions');
    await t.http().post(`/v2/datasets/${datasetId}/items`).send({ n: 9 }).expect(401);
    // With the id only: addressing by name needs ANYONE_WITH_NAME_CAN_READ.
    await t.http().get(`/v2/datasets/${alice.username}~results`).set(bob.auth).expect(404);
  });

  it('applies the dataset own general access over the account setting', async () => {
    await t
      .http()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ generalAccess: 'RESTRICTED' })
      .expect(200);
    await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(404);
    await t
      .http()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ generalAccess: 'ANYONE_WITH_NAME_CAN_READ' })
      .expect(200);
    await t.http().get(`/v2/datasets/${alice.username}~results`).expect(200);
    await t
      .http()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ generalAccess: 'FOLLOW_USER_SETTING' })
      .expect(200);
  });

  it('grants READ, then revokes it with effect on the very next request', async () => {
    await setAccountAccess('RESTRICTED');
    const grant = await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['READ'] })
      .expect(201);
    expect(grant.body.data).toMatchObject({ userId: bob.id, permissions: ['READ'], expiresAt: null });

    await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(200);
    await t.http().post(`/v2/datasets/${datasetId}/items`).set(bob.auth).send({ n: 4 }).expect(403);
    // Bob can read but not manage access: 403 on the access listing, not 404.
    await t.http().get(`/v2/datasets/${datasetId}/access`).set(bob.auth).expect(403);

    const shared = await t.http().get('/v2/datasets?ownership=sharedWithMe').set(bob.auth).expect(200);
    expect(shared.body.data).toMatchObject({ total: 1, count: 1 });
    expect(shared.body.data.items[0].id).toBe(datasetId);

    const listing = await t.http().get(`/v2/datasets/${datasetId}/access`).set(alice.auth).expect(200);
    expect(listing.body.data).toMatchObject({
      effectiveGeneralAccess: 'RESTRICTED',
      owner: { userId: alice.id },
    });
    expect(listing.body.data.grants).toHaveLength(1);

    await t
      .http()
      .delete(`/v2/datasets/${datasetId}/access/grants/${grant.body.data.id}`)
      .set(alice.auth)
      .expect(204);
    await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(404);
    const after = await t.http().get('/v2/datasets?ownership=sharedWithMe').set(bob.auth).expect(200);
    expect(after.body.data.total).toBe(0);
  });

  it('upgrades a grant to WRITE with PUT and honours expiresAt', async () => {
    const grant = await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['READ'] })
      .expect(201);
    await t
      .http()
      .put(`/v2/datasets/${datasetId}/access/grants/${grant.body.data.id}`)
      .set(alice.auth)
      .send({ permissions: ['WRITE'], expiresAt: new Date(Date.now() + 1500).toISOString() })
      .expect(200);
    await t.http().post(`/v2/datasets/${datasetId}/items`).set(bob.auth).send({ n: 5 }).expect(201);
    await new Promise((r) => setTimeout(r, 1700));
    await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(404);
  });

  it('refuses duplicate, self and unknown-user grants clearly', async () => {
    // The expired grant above no longer counts: a new one takes its place; a second is a conflict.
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.id, permissions: ['READ'] })
      .expect(201);
    const dup = await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.id, permissions: ['READ'] });
    expect(dup.status).toBe(409);
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: alice.username, permissions: ['READ'] })
      .expect(400);
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: 'nobody-at-all', permissions: ['READ'] })
      .expect(404);
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['FLY'] })
      .expect(400);
  });

  it('deletes a dataset: gone for the owner and everyone at once', async () => {
    const created = await t.http().post('/v2/datasets').set(alice.auth).expect(201);
    const id = created.body.data.id;
    const owned = await t.http().get('/v2/datasets?unnamed=1').set(alice.auth).expect(200);
    expect(owned.body.data.items.map((d: { id: string }) => d.id)).toContain(id);
    await t.http().delete(`/v2/datasets/${id}`).set(bob.auth).expect(404);
    await t.http().delete(`/v2/datasets/${id}`).set(alice.auth).expect(204);
    await t.http().get(`/v2/datasets/${id}`).set(alice.auth).expect(404);
  });

  it('walks sharedWithMe by cursor: every shared dataset exactly once', async () => {
    const shared: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = (await t.http().post(`/v2/datasets?name=walk-${i}`).set(alice.auth).expect(201)).body.data
        .id;
      await t
        .http()
        .post(`/v2/datasets/${id}/access/grants`)
        .set(alice.auth)
        .send({ user: bob.username, permissions: ['READ'] })
        .expect(201);
      shared.push(id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: { items: { id: string }[]; nextCursor: string | null } } } = await t
        .http()
        .get(`/v2/datasets?ownership=sharedWithMe&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bob.auth)
        .expect(200);
      seen.push(...res.body.data.items.map((d: { id: string }) => d.id));
      cursor = res.body.data.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(expect.arrayContaining(shared.sort()));
    expect(new Set(seen).size).toBe(seen.length);
    await t.http().get('/v2/datasets?ownership=sharedWithMe&cursor=nope').set(bob.auth).expect(400);
  });
});
