import { createDataset, SignedUpUser, signUpEach, startTestStack, TestStack } from './test-stack';

/** Scoped API tokens (issue 4, part 4): rule 1 narrows what the token's user may do. */
describe('scoped API tokens', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let inScope: string;
  let outOfScope: string;
  let bobs: string;

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const createToken = async (scope: unknown) => {
    const res = await t
      .http()
      .post('/v2/users/me/tokens')
      .set(alice.auth)
      .send({ name: 'scoped', scope })
      .expect(201);
    return res.body.data as { id: string; token: string; scope: unknown };
  };

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
    inScope = await createDataset(t, alice, 'in-scope');
    outOfScope = (await t.http().post('/v2/datasets?name=out-of-scope').set(alice.auth).expect(201)).body.data
      .id;
    bobs = await createDataset(t, bob, 'shared');
    // Bob lets Alice read (not write) his dataset.
    await t
      .http()
      .post(`/v2/datasets/${bobs}/access/grants`)
      .set(bob.auth)
      .send({ user: alice.username, permissions: ['READ'] })
      .expect(201);
  });
  afterAll(() => t.close());

  it('reaches only the resources in its scope, even those its user owns', async () => {
    const token = await createToken({ resources: [{ type: 'DATASET', id: inScope, permissions: ['READ'] }] });
    expect(token.scope).toMatchObject({ resources: [{ id: inScope, permissions: ['READ'] }] });
    await t.http().get(`/v2/datasets/${inScope}`).set(bearer(token.token)).expect(200);
    const write = await t
      .http()
      .post(`/v2/datasets/${inScope}/items`)
      .set(bearer(token.token))
      .send({ a: 1 })
      .expect(403);
    expect(write.body.error.type).toBe('insufficient-permissions');
    await t.http().get(`/v2/datasets/${outOfScope}`).set(bearer(token.token)).expect(404);
    await t.http().get(`/v2/datasets/${outOfScope}`).set(alice.auth).expect(200);
  });

  it('lets WRITE imply READ, and account-level permissions cover the whole category', async () => {
    const writer = await createToken({
      resources: [{ type: 'DATASET', id: outOfScope, permissions: ['WRITE'] }],
    });
    await t
      .http()
      .post(`/v2/datasets/${outOfScope}/items`)
      .set(bearer(writer.token))
      .send({ a: 1 })
      .expect(201);
    await t.http().get(`/v2/datasets/${outOfScope}/items`).set(bearer(writer.token)).expect(200);

    const reader = await createToken({ account: { STORAGE: ['READ'] } });
    await t.http().get(`/v2/datasets/${inScope}`).set(bearer(reader.token)).expect(200);
    await t.http().get(`/v2/datasets/${outOfScope}`).set(bearer(reader.token)).expect(200);
    await t
      .http()
      .put(`/v2/datasets/${inScope}`)
      .set(bearer(reader.token))
      .send({ name: 'renamed' })
      .expect(403);
    await t.http().get('/v2/datasets').set(bearer(reader.token)).expect(200);
    // Listing needs the category in the scope.
    const narrow = await createToken({
      resources: [{ type: 'DATASET', id: inScope, permissions: ['READ'] }],
    });
    await t.http().get('/v2/key-value-stores').set(bearer(narrow.token)).expect(403);
  });

  it('never exceeds its user: a scope with WRITE on a dataset the user may only read still cannot write', async () => {
    const token = await createToken({ resources: [{ type: 'DATASET', id: bobs, permissions: ['WRITE'] }] });
    await t.http().get(`/v2/datasets/${bobs}`).set(bearer(token.token)).expect(200);
    await t.http().post(`/v2/datasets/${bobs}/items`).set(bearer(token.token)).send({ a: 1 }).expect(403);
  });

  it('creates only the types in its CREATE scope, and what it creates is fully available to it', async () => {
    const none = await createToken({ account: { STORAGE: ['READ'] } });
    await t.http().post('/v2/datasets?name=nope').set(bearer(none.token)).expect(403);

    const creator = await createToken({ account: { CREATE: ['DATASET'] } });
    const created = await t
      .http()
      .post('/v2/datasets?name=made-by-token')
      .set(bearer(creator.token))
      .expect(201);
    const id = created.body.data.id;
    expect(created.body.data.userId).toBe(alice.id);
    await t.http().post(`/v2/datasets/${id}/items`).set(bearer(creator.token)).send({ b: 2 }).expect(201);
    await t.http().put(`/v2/datasets/${id}`).set(bearer(creator.token)).send({ name: 'made-2' }).expect(200);
    await t.http().get(`/v2/datasets/${id}/access`).set(bearer(creator.token)).expect(200);
    // Its other resources stay out of reach, and creating another type is refused.
    await t.http().get(`/v2/datasets/${inScope}`).set(bearer(creator.token)).expect(404);
    await t.http().post('/v2/key-value-stores').set(bearer(creator.token)).expect(403);
    // Its scope itself is unchanged: the creation is recorded by the permissions service.
    const listed = await t.http().get('/v2/users/me/tokens').set(alice.auth).expect(200);
    const mine = listed.body.data.items.find((x: { id: string }) => x.id === creator.id);
    expect(mine.scope).toEqual({ account: { CREATE: ['DATASET'] }, resources: [] });
  });

  it('cannot take over an existing dataset through get-or-create by name', async () => {
    const creator = await createToken({ account: { CREATE: ['DATASET'] } });
    const res = await t.http().post('/v2/datasets?name=in-scope').set(bearer(creator.token)).expect(404);
    expect(res.body.error.type).toBe('record-not-found');
    await t.http().get(`/v2/datasets/${inScope}`).set(bearer(creator.token)).expect(404);
    // A token that may read it gets it back, with what it may do (no signing key without WRITE).
    const reader = await createToken({ account: { STORAGE: ['READ'], CREATE: ['DATASET'] } });
    const again = await t.http().post('/v2/datasets?name=in-scope').set(bearer(reader.token)).expect(201);
    expect(again.body.data.id).toBe(inScope);
    expect(again.body.data.urlSigningSecretKey).toBeUndefined();
    await t.http().post(`/v2/datasets/${inScope}/items`).set(bearer(reader.token)).send({ c: 3 }).expect(403);
  });

  it('cannot use account routes, so it cannot mint itself a wider token', async () => {
    const token = await createToken({ account: { STORAGE: ['READ', 'WRITE'] } });
    const res = await t
      .http()
      .post('/v2/users/me/tokens')
      .set(bearer(token.token))
      .send({ name: 'wider' })
      .expect(403);
    expect(res.body.error.type).toBe('insufficient-permissions');
    await t.http().get('/v2/users/me').set(bearer(token.token)).expect(403);
  });

  it('rejects a malformed scope naming the field, and creates nothing', async () => {
    const before = (await t.http().get('/v2/users/me/tokens').set(alice.auth).expect(200)).body.data;
    const bad = await t
      .http()
      .post('/v2/users/me/tokens')
      .set(alice.auth)
      .send({ name: 'bad', scope: { account: { STORAGE: ['RUN'] } } })
      .expect(400);
    expect(bad.body.error.message).toContain('scope.account.STORAGE');
    const wrongType = await t
      .http()
      .post('/v2/users/me/tokens')
      .set(alice.auth)
      .send({ name: 'bad', scope: { resources: [{ type: 'DATASET', id: inScope, permissions: ['RUN'] }] } })
      .expect(400);
    expect(wrongType.body.error.message).toContain('scope.resources.0.permissions');
    const after = (await t.http().get('/v2/users/me/tokens').set(alice.auth).expect(200)).body.data;
    expect(after).toEqual(before);
  });
});
