import { uniqueName } from '@atrium/testing';
import { signUp, SignedUpUser, startTestStack, TestStack } from './test-stack';

/** Issue 4, part 3: apps with Clarifai-style collaborators, as their users would try them. */
describe('apps with collaborators end to end', () => {
  let t: TestStack;
  let alice: SignedUpUser; // owner
  let bob: SignedUpUser; // collaborator with Input + Search
  let carol: SignedUpUser; // collaborator who may add others
  let dave: SignedUpUser; // added by carol
  let eve: SignedUpUser; // stranger
  let appId: string;
  /** Bob's collaborator token, its secret obtained by rotating it. */
  let bobToken: { authorization: string };
  let modelId: string;
  let dogInputId: string;

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob, carol, dave, eve] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave', 'eve'].map((n) => signUp(t, uniqueName(n))),
    );
  });
  afterAll(() => t.close());

  const as = (user: SignedUpUser | { authorization: string }) => ({
    get: (path: string) =>
      t
        .http()
        .get(path)
        .set('auth' in user ? user.auth : user),
    post: (path: string, body: unknown = {}) =>
      t
        .http()
        .post(path)
        .set('auth' in user ? user.auth : user)
        .send(body as object),
    patch: (path: string, body: unknown) =>
      t
        .http()
        .patch(path)
        .set('auth' in user ? user.auth : user)
        .send(body as object),
    put: (path: string, body: unknown) =>
      t
        .http()
        .put(path)
        .set('auth' in user ? user.auth : user)
        .send(body as object),
    delete: (path: string) =>
      t
        .http()
        .delete(path)
        .set('auth' in user ? user.auth : user),
  });
  const app = (rest = '') => `/v2/apps/${appId}${rest}`;
  const ids = (res: { body: { data: { items: { id: string }[] } } }) => res.body.data.items.map((i) => i.id);
  const collaboratorTokens = async (user: SignedUpUser) =>
    (await as(user).get('/v2/users/me/tokens').expect(200)).body.data.items.filter(
      (tk: { name: string }) => tk.name === `app:${appId} collaborator`,
    );

  it('lets the owner create an app and fill it', async () => {
    const created = await as(alice)
      .post('/v2/apps', { name: 'pets', description: 'Pet photos and notes' })
      .expect(201);
    appId = created.body.data.id;
    expect(created.body.data).toMatchObject({
      name: 'pets',
      userId: alice.id,
      description: 'Pet photos and notes',
    });
    expect((await as(alice).get(`/v2/apps/${alice.username}~pets`).expect(200)).body.data.id).toBe(appId);
    expect(ids(await as(alice).get('/v2/apps?ownership=ownedByMe').expect(200))).toEqual([appId]);

    await as(alice).post(app('/concepts'), { id: 'dog', name: 'Dog' }).expect(201);
    await as(alice).post(app('/concepts'), { id: 'cat', name: 'Cat' }).expect(201);
    const dog = await as(alice)
      .post(app('/inputs'), { data: { text: 'A puppy fetching a ball in the park' } })
      .expect(201);
    dogInputId = dog.body.data.id;
    const cat = await as(alice)
      .post(app('/inputs'), { data: { text: 'A kitten purring on the sofa', metadata: { room: 'living' } } })
      .expect(201);
    await as(alice)
      .post(app('/annotations'), { inputId: dogInputId, conceptIds: ['dog'] })
      .expect(201);
    await as(alice)
      .post(app('/annotations'), { inputId: cat.body.data.id, conceptIds: ['cat'] })
      .expect(201);
    const model = await as(alice)
      .post(app('/models'), { name: 'pet classifier', conceptIds: ['dog', 'cat'] })
      .expect(201);
    modelId = model.body.data.id;
    expect(model.body.data).toMatchObject({ versionCount: 0, latestVersion: null });
    await as(alice)
      .post(app('/workflows'), { name: 'classify', modelIds: [modelId] })
      .expect(201);
    await as(alice)
      .post(app('/tasks'), { name: 'label pets', conceptIds: ['dog', 'cat'] })
      .expect(201);
    await as(alice).post(app('/collectors'), { name: 'uploads', modelId }).expect(201);
    await as(alice)
      .post(app('/vocabs'), { name: 'animals', conceptIds: ['dog', 'cat'] })
      .expect(201);

    const inputs = await as(alice).get(app('/inputs')).expect(200);
    expect(inputs.body.data).toMatchObject({ total: 2, count: 2, offset: 0, desc: false });
    expect(inputs.body.data.items[0]).toMatchObject({ id: dogInputId, conceptIds: ['dog'] });
    for (const kind of ['workflows', 'tasks', 'collectors', 'vocabs']) {
      expect(
        (
          await as(alice)
            .get(app(`/${kind}`))
            .expect(200)
        ).body.data.total,
      ).toBe(1);
    }
  });

  it('refuses bad input with 400 naming the field', async () => {
    const cases: [string, unknown, string][] = [
      ['/v2/apps', { name: 'no spaces allowed' }, 'body.name'],
      [app('/inputs'), { data: {} }, 'body.data'],
      [app('/inputs'), { data: { text: 'x' }, extra: true }, 'body.extra'],
      [app('/annotations'), { inputId: dogInputId, conceptIds: ['unicorn'] }, 'body.conceptIds.0'],
      [app('/models'), { name: 'm', conceptIds: [] }, 'body.conceptIds'],
      [app('/collaborators'), { user: bob.username, scopes: ['Input', 'Inputs:Fly'] }, 'body.scopes.1'],
      [app('/collaborators'), { scopes: ['Input'] }, 'body.user'],
      [app('/searches'), { query: {} }, 'body.query'],
      [app(`/models/${modelId}/outputs`), { inputs: [] }, 'body.inputs'],
    ];
    for (const [path, body, field] of cases) {
      const res = await as(alice).post(path, body);
      expect([path, res.status, res.body.error?.type]).toEqual([path, 400, 'invalid-input']);
      expect(res.body.error.message).toContain(field);
    }
    const noUser = await as(alice).post(app('/collaborators'), { user: 'nobody-here', scopes: ['Input'] });
    expect(noUser.status).toBe(404);
    expect(noUser.body.error.message).toContain('body.user');
    await as(alice).get(app('/inputs/not-an-id')).expect(404);
  });

  it('gives real search results and refuses predicting with an untrained model', async () => {
    const byText = await as(alice)
      .post(app('/searches'), { query: { text: 'PUPPY' } })
      .expect(200);
    expect(ids(byText)).toEqual([dogInputId]);
    const byConcept = await as(alice)
      .post(app('/searches'), { query: { conceptIds: ['cat'] } })
      .expect(200);
    expect(byConcept.body.data.items).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ text: 'A kitten purring on the sofa' }) }),
    ]);
    const none = await as(alice)
      .post(app('/searches'), { query: { text: 'puppy', conceptIds: ['cat'] } })
      .expect(200);
    expect(none.body.data.total).toBe(0);

    const untrained = await as(alice)
      .post(app(`/models/${modelId}/outputs`), { inputs: [{ data: { text: 'a puppy' } }] })
      .expect(409);
    expect(untrained.body.error.message).toContain('not been trained');
  });

  it('hides the app from a stranger: 404 everywhere', async () => {
    const paths: [string, string, unknown?][] = [
      ['get', app()],
      ['put', app(), { description: 'mine now' }],
      ['delete', app()],
      ['get', app('/inputs')],
      ['post', app('/inputs'), { data: { text: 'x' } }],
      ['get', app(`/inputs/${dogInputId}`)],
      ['delete', app(`/inputs/${dogInputId}`)],
      ['get', app('/concepts/dog')],
      ['get', app('/models')],
      ['post', app('/searches'), { query: { text: 'puppy' } }],
      ['post', app(`/models/${modelId}/train`)],
      ['post', app(`/models/${modelId}/outputs`), { inputs: [{ data: { text: 'a' } }] }],
      ['get', app('/collaborators')],
      ['post', app('/collaborators'), { user: eve.username, scopes: ['Input'] }],
      ['delete', app(`/collaborators/${bob.id}`)],
    ];
    for (const [method, path, body] of paths) {
      const client = as(eve) as unknown as Record<
        string,
        (p: string, b?: unknown) => Promise<{ status: number }>
      >;
      const res = await client[method]!(path, body);
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    expect((await as(eve).get('/v2/apps?ownership=sharedWithMe').expect(200)).body.data.total).toBe(0);
  });

  it('adds a collaborator by username with basic scopes, no acceptance, and a personal token', async () => {
    const added = await as(alice)
      .post(app('/collaborators'), { user: bob.username, scopes: ['Input', 'Search'] })
      .expect(201);
    expect(added.body.data).toMatchObject({
      id: bob.id,
      userId: bob.id,
      username: bob.username,
      appId,
      scopes: ['Inputs:Add', 'Inputs:Delete', 'Inputs:Get', 'Inputs:Patch', 'Search'],
      addedBy: alice.id,
    });
    // The token's secret goes to bob's token list, never to whoever added him.
    expect(JSON.stringify(added.body)).not.toMatch(/"token"/);
    const [token] = await collaboratorTokens(bob);
    expect(token).toMatchObject({ name: `app:${appId} collaborator` });
    // Scoped to this app and to bob's scopes on it: never renaming, deleting or sharing it.
    expect(token.scope).toEqual({
      account: {},
      resources: [
        {
          type: 'APP',
          id: appId,
          permissions: ['Inputs:Add', 'Inputs:Delete', 'Inputs:Get', 'Inputs:Patch', 'Search'],
        },
      ],
    });
    expect(token.token).toBeUndefined();

    await as(alice)
      .post(app('/collaborators'), { user: bob.id, scopes: ['Input'] })
      .expect(409);
    const owner = await as(alice).post(app('/collaborators'), { user: alice.username, scopes: ['Input'] });
    expect(owner.status).toBe(400);
    expect(owner.body.error.message).toContain('body.user');
  });

  it("gives the collaborator its token's secret by rotating it, once, usable within its scopes", async () => {
    const [listed] = await collaboratorTokens(bob);
    // Nobody else can rotate it: another user's token is not found.
    await as(alice).post(`/v2/users/me/tokens/${listed.id}/rotate`).expect(404);
    await as(bob).post('/v2/users/me/tokens/not-an-id/rotate').expect(404);
    const rotated = await as(bob).post(`/v2/users/me/tokens/${listed.id}/rotate`).expect(200);
    expect(rotated.body.data).toMatchObject({ id: listed.id, name: listed.name, scope: listed.scope });
    expect(rotated.body.data.token).toMatch(/^atrium_api_/);
    const secret = { authorization: `Bearer ${rotated.body.data.token}` };
    await as(secret).get(app()).expect(200);
    await as(secret).get(app('/inputs')).expect(200);
    await as(secret).get(app('/models')).expect(403);
    // A scoped token cannot rotate tokens (nor mint itself an unscoped secret that way).
    await as(secret).post(`/v2/users/me/tokens/${listed.id}/rotate`).expect(403);
    // The secret is shown once: the list never carries it; rotating again replaces it.
    expect(JSON.stringify((await as(bob).get('/v2/users/me/tokens').expect(200)).body)).not.toMatch(
      /"token"/,
    );
    const again = await as(bob).post(`/v2/users/me/tokens/${listed.id}/rotate`).expect(200);
    expect(again.body.data.token).not.toBe(rotated.body.data.token);
    const refused = await as(secret).get(app());
    expect(refused.status).toBe(401);
    bobToken = { authorization: `Bearer ${again.body.data.token}` };
    await as(bobToken).get(app()).expect(200);
  });

  it('lets the collaborator use exactly its scopes and see the app as shared', async () => {
    await as(bob).get(app()).expect(200);
    const added = await as(bob)
      .post(app('/inputs'), { data: { text: 'Bob brought a puppy to the office' } })
      .expect(201);
    expect(added.body.data.createdBy).toBe(bob.id);
    await as(bob)
      .patch(app(`/inputs/${added.body.data.id}`), { data: { metadata: { by: 'bob' } } })
      .expect(200);
    expect((await as(bob).get(app('/inputs')).expect(200)).body.data.total).toBe(3);
    const found = await as(bob)
      .post(app('/searches'), { query: { text: 'puppy' } })
      .expect(200);
    expect(ids(found)).toEqual([dogInputId, added.body.data.id]);

    for (const res of [
      await as(bob).get(app('/models')),
      await as(bob).post(app(`/models/${modelId}/train`)),
      await as(bob).post(app(`/models/${modelId}/outputs`), { inputs: [{ data: { text: 'puppy' } }] }),
      await as(bob).get(app('/concepts')),
      await as(bob).post(app('/annotations'), { inputId: dogInputId, conceptIds: ['dog'] }),
      await as(bob).get(app('/collaborators')),
      await as(bob).post(app('/collaborators'), { user: eve.username, scopes: ['Search'] }),
      await as(bob).put(app(), { description: 'renamed by bob' }),
      await as(bob).delete(app()),
    ]) {
      expect([res.status, res.body.error?.type]).toEqual([403, 'insufficient-permissions']);
    }
    const shared = await as(bob).get('/v2/apps?ownership=sharedWithMe').expect(200);
    expect(ids(shared)).toEqual([appId]);
    expect((await as(bob).get('/v2/apps').expect(200)).body.data.total).toBe(0);
  });

  it('lets a collaborator with Collaborators:Add share only what it holds, never raise its own', async () => {
    await as(alice)
      .post(app('/collaborators'), {
        user: carol.username,
        scopes: ['Collaborator', 'Input'],
      })
      .expect(201);
    const subset = await as(carol)
      .post(app('/collaborators'), { user: dave.username, scopes: ['Inputs:Get'] })
      .expect(201);
    expect(subset.body.data).toMatchObject({ userId: dave.id, scopes: ['Inputs:Get'], addedBy: carol.id });
    await as(dave).get(app('/inputs')).expect(200);
    await as(dave)
      .post(app('/inputs'), { data: { text: 'x' } })
      .expect(403);

    const lacking = await as(carol)
      .post(app('/collaborators'), { user: eve.username, scopes: ['Inputs:Get', 'Models:Get'] })
      .expect(403);
    expect(lacking.body.error.message).toContain('Models:Get');
    await as(eve).get(app()).expect(404);

    const raiseOther = await as(carol)
      .patch(app(`/collaborators/${dave.id}`), { scopes: ['Inputs:Get', 'Search'] })
      .expect(403);
    expect(raiseOther.body.error.message).toContain('Search');
    await as(carol)
      .patch(app(`/collaborators/${dave.id}`), { scopes: ['Inputs:Get', 'Inputs:Add'] })
      .expect(200);
    await as(dave)
      .post(app('/inputs'), { data: { text: 'added by dave' } })
      .expect(201);

    const own = await as(carol)
      .patch(app(`/collaborators/${carol.id}`), { scopes: ['Collaborator', 'Input', 'Model'] })
      .expect(403);
    expect(own.body.error.message).toContain('own scopes');
    await as(bob)
      .patch(app(`/collaborators/${bob.id}`), { scopes: ['Input', 'Search', 'Model'] })
      .expect(403);
    await as(carol)
      .post(app('/collaborators'), { user: alice.username, scopes: ['Inputs:Get'] })
      .expect(400);
    await as(dave)
      .post(app('/collaborators'), { user: eve.username, scopes: ['Inputs:Get'] })
      .expect(403);

    const listed = await as(carol).get(app('/collaborators')).expect(200);
    expect(listed.body.data.items).toEqual([
      expect.objectContaining({ userId: bob.id, username: bob.username, addedBy: alice.id }),
      expect.objectContaining({ userId: carol.id, addedBy: alice.id }),
      expect.objectContaining({
        userId: dave.id,
        username: dave.username,
        scopes: ['Inputs:Add', 'Inputs:Get'],
        addedBy: carol.id,
      }),
    ]);
  });

  it('applies the owner editing scopes on the very next request, and trains and predicts for real', async () => {
    await as(bob).get(app('/models')).expect(403);
    const edited = await as(alice)
      .patch(app(`/collaborators/${bob.id}`), { scopes: ['Input', 'Model', 'Predict'] })
      .expect(200);
    expect(edited.body.data.scopes).toEqual(
      expect.arrayContaining(['Models:Get', 'Models:Train', 'Predict', 'Inputs:Get']),
    );
    await as(bob).get(app('/models')).expect(200);
    await as(bob)
      .post(app('/searches'), { query: { text: 'puppy' } })
      .expect(403);
    // Bob's personal access token follows at once: listed with the new scopes, and acting on them.
    const [token] = await collaboratorTokens(bob);
    expect(token.scope.resources[0].permissions).toEqual(edited.body.data.scopes);
    await as(bobToken).get(app('/models')).expect(200);
    await as(bobToken)
      .post(app('/searches'), { query: { text: 'puppy' } })
      .expect(403);

    const trained = await as(bob)
      .post(app(`/models/${modelId}/train`))
      .expect(200);
    expect(trained.body.data).toMatchObject({
      versionCount: 1,
      latestVersion: { version: 1, examples: { dog: 1, cat: 1 }, trainedBy: bob.id },
    });
    const predicted = await as(bob)
      .post(app(`/models/${modelId}/outputs`), {
        inputs: [{ data: { text: 'my puppy chased the ball' } }, { data: { text: 'a purring kitten' } }],
      })
      .expect(200);
    const [first, second] = predicted.body.data.outputs;
    expect(predicted.body.data.model).toEqual({ id: modelId, name: 'pet classifier', version: 1 });
    expect(first.concepts.map((c: { id: string }) => c.id)).toEqual(['dog', 'cat']);
    expect(first.concepts[0].value).toBeGreaterThan(first.concepts[1].value);
    expect(second.concepts[0]).toMatchObject({ id: 'cat', name: 'Cat' });
  });

  it('narrows a collaborator to its token scope: grant scopes ∩ token scope', async () => {
    const created = await as(bob)
      .post('/v2/users/me/tokens', {
        name: 'read inputs only',
        scope: { account: {}, resources: [{ type: 'APP', id: appId, permissions: ['READ', 'Inputs:Get'] }] },
      })
      .expect(201);
    const scoped = { authorization: `Bearer ${created.body.data.token}` };
    await as(scoped).get(app('/inputs')).expect(200);
    // Bob's grant has these; the token does not.
    await as(scoped)
      .post(app('/inputs'), { data: { text: 'via narrow token' } })
      .expect(403);
    await as(scoped).get(app('/models')).expect(403);
  });

  it('removes a collaborator: denied on the next request, its token revoked', async () => {
    expect(await collaboratorTokens(bob)).toHaveLength(1);
    // Removing needs Collaborators:Delete, which dave lacks.
    await as(dave)
      .delete(app(`/collaborators/${bob.id}`))
      .expect(403);
    await as(alice)
      .delete(app(`/collaborators/${bob.id}`))
      .expect(204);
    await as(bob).get(app()).expect(404);
    await as(bob).get(app('/inputs')).expect(404);
    expect(await collaboratorTokens(bob)).toEqual([]);
    expect((await as(bobToken).get(app())).status).toBe(401);
    expect((await as(bob).get('/v2/apps?ownership=sharedWithMe').expect(200)).body.data.total).toBe(0);
    await as(alice)
      .delete(app(`/collaborators/${bob.id}`))
      .expect(404);
    const listed = await as(alice).get(app('/collaborators')).expect(200);
    expect(listed.body.data.items.map((c: { userId: string }) => c.userId)).toEqual([carol.id, dave.id]);
  });

  it("keeps a collaborator's token in step with changes made through the access API", async () => {
    const access = await as(alice).get(app('/access')).expect(200);
    const grant = access.body.data.grants.find((g: { userId: string }) => g.userId === dave.id);
    await as(alice)
      .put(app(`/access/grants/${grant.id}`), { permissions: ['READ', 'Inputs:Get'] })
      .expect(200);
    const [token] = await collaboratorTokens(dave);
    expect(token.scope.resources[0].permissions).toEqual(['Inputs:Get']);
    await as(alice)
      .delete(app(`/access/grants/${grant.id}`))
      .expect(204);
    expect(await collaboratorTokens(dave)).toEqual([]);
    await as(dave).get(app()).expect(404);
    const listed = await as(alice).get(app('/collaborators')).expect(200);
    expect(listed.body.data.items.map((c: { userId: string }) => c.userId)).toEqual([carol.id]);
  });

  it('deletes the app with its collaborators tokens', async () => {
    expect(await collaboratorTokens(carol)).toHaveLength(1);
    await as(carol).delete(app()).expect(403);
    await as(alice).delete(app()).expect(204);
    await as(alice).get(app()).expect(404);
    await as(carol).get(app('/inputs')).expect(404);
    expect(await collaboratorTokens(carol)).toEqual([]);
  });
});
