import { uniqueName } from '@atrium/testing';
import request from 'supertest';
import {
  createActor,
  createDataset,
  createOrganization,
  joinOrganization,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from './test-stack';

/**
 * Issue 12, holes 1, 2 and 7, as the outside attack pass found them: a scoped token escaping its
 * scope through list routes (and lists handing out signing keys and signed links), an
 * organization token holding MANAGE_ACCESS its minter's role lacks on what it created, and explain
 * ignoring the token's scope. Each list answers through the decision of the single-resource route.
 */
describe('scoped credentials on lists, creations and explain', () => {
  let t: TestStack & { baseUrl: string };
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let mallory: SignedUpUser;
  let inScope: string;
  let secret: string;
  let secretStore: string;
  let secretTask: string;

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const mintToken = async (user: SignedUpUser, scope: unknown) =>
    (await t.http().post('/v2/users/me/tokens').set(user.auth).send({ name: 'scoped', scope }).expect(201))
      .body.data.token as string;
  const ids = (res: { body: { data: { items: { id: string }[] } } }) => res.body.data.items.map((i) => i.id);

  beforeAll(async () => {
    t = await startListeningTestStack();
    [alice, bob, mallory] = await signUpEach(t, 'alice', 'bob', 'mallory');
    inScope = await createDataset(t, alice, 'public-one');
    secret = await createDataset(t, alice, 'secret');
    await t
      .http()
      .put(`/v2/datasets/${secret}`)
      .set(alice.auth)
      .send({ generalAccess: 'RESTRICTED' })
      .expect(200);
    await t.http().post(`/v2/datasets/${secret}/items`).set(alice.auth).send({ card: '4111' }).expect(201);
    secretStore = (await t.http().post('/v2/key-value-stores?name=keys').set(alice.auth).expect(201)).body
      .data.id;
    const actor = (
      await t
        .http()
        .post('/v2/acts')
        .set(alice.auth)
        .send({ name: uniqueName('act') })
        .expect(201)
    ).body.data.id;
    secretTask = (
      await t
        .http()
        .post('/v2/actor-tasks')
        .set(alice.auth)
        .send({ actId: actor, name: uniqueName('task'), input: { password: 'hunter2' } })
        .expect(201)
    ).body.data.id;
    await t
      .http()
      .post('/v2/actor-tasks')
      .set(alice.auth)
      .send({ actId: actor, name: uniqueName('other-task'), input: { apiKey: 'sk-other' } })
      .expect(201);
  });
  afterAll(() => t.close());

  it('lists only what a token scoped to one dataset may read, without writer fields', async () => {
    const token = bearer(
      await mintToken(alice, { resources: [{ type: 'DATASET', id: inScope, permissions: ['READ'] }] }),
    );
    const datasets = await t.http().get('/v2/datasets').set(token).expect(200);
    expect(ids(datasets)).toEqual([inScope]);
    expect(datasets.body.data.total).toBe(1);
    const [listed] = datasets.body.data.items;
    expect(listed.urlSigningSecretKey).toBeUndefined();
    expect(listed.itemsPublicUrl).not.toContain('signature=');
    // Other types: nothing of them is in its scope.
    await t.http().get('/v2/key-value-stores').set(token).expect(403);
    await t.http().get('/v2/actor-tasks').set(token).expect(403);
    const shared = await t.http().get('/v2/datasets?ownership=sharedWithMe').set(token).expect(200);
    expect(ids(shared)).toEqual([]);
    // What the list used to hand out no longer opens the restricted items to anyone.
    const anonymous = await request(t.baseUrl).get(`/v2/datasets/${secret}/items`);
    expect(anonymous.status).toBe(404);
  });

  it("lists as sharedWithMe only what is shared with the token's user, paged by id and cursor like the full list", async () => {
    // Outside pass: a token scoped to a dataset anyone with its id may read listed it as shared.
    const [grantedA, grantedB] = [
      await createDataset(t, alice, 'granted-a'),
      await createDataset(t, alice, 'granted-b'),
    ];
    // Shared with bob too, but outside the token's scope.
    const outOfScope = await createDataset(t, alice, 'granted-elsewhere');
    for (const id of [grantedA, grantedB, outOfScope])
      await t
        .http()
        .post(`/v2/datasets/${id}/access/grants`)
        .set(alice.auth)
        .send({ user: bob.id, permissions: ['READ'] })
        .expect(201);
    // A run of alice's: bob may open its default dataset by the run's link, but it is not shared with him.
    const actor = await createActor(t, alice, { name: uniqueName('runner') });
    const run = (await t.http().post(`/v2/acts/${actor}/runs`).set(alice.auth).send({}).expect(201)).body
      .data;
    await t.http().get(`/v2/datasets/${run.defaultDatasetId}`).set(bob.auth).expect(200);
    const scope = {
      resources: [inScope, grantedA, grantedB, run.defaultDatasetId].map((id) => ({
        type: 'DATASET',
        id,
        permissions: ['READ'],
      })),
    };
    const token = bearer(await mintToken(bob, scope));
    const full = await t.http().get('/v2/datasets?ownership=sharedWithMe').set(bob.auth).expect(200);
    expect(ids(full)).not.toContain(inScope);
    expect(ids(full)).not.toContain(run.defaultDatasetId);
    expect(ids(full)).toContain(outOfScope);
    const sorted = [grantedA, grantedB].sort();
    const listed = await t.http().get('/v2/datasets?ownership=sharedWithMe').set(token).expect(200);
    expect(ids(listed)).toEqual(sorted);
    expect(listed.body.data.total).toBe(2);
    // A page of one, then the page after its cursor, then none.
    const first = await t.http().get('/v2/datasets?ownership=sharedWithMe&limit=1').set(token).expect(200);
    expect(ids(first)).toEqual([sorted[0]]);
    expect(first.body.data.nextCursor).toBe(sorted[0]);
    const second = await t
      .http()
      .get(`/v2/datasets?ownership=sharedWithMe&limit=1&cursor=${first.body.data.nextCursor}`)
      .set(token)
      .expect(200);
    expect(ids(second)).toEqual([sorted[1]]);
    expect(second.body.data.nextCursor).toBeNull();
    const backwards = await t.http().get('/v2/datasets?ownership=sharedWithMe&desc=1').set(token).expect(200);
    expect(ids(backwards)).toEqual([...sorted].reverse());
  });

  it("lists a token's own unnamed storages only with unnamed=1, as the full list does", async () => {
    const token = bearer(await mintToken(bob, { account: { CREATE: ['DATASET'] } }));
    const unnamed = (await t.http().post('/v2/datasets').set(token).expect(201)).body.data.id;
    const named = (
      await t
        .http()
        .post(`/v2/datasets?name=${uniqueName('named')}`)
        .set(token)
        .expect(201)
    ).body.data.id;
    expect(ids(await t.http().get('/v2/datasets').set(token).expect(200))).toEqual([named]);
    const all = await t.http().get('/v2/datasets?unnamed=1').set(token).expect(200);
    expect(ids(all)).toEqual([unnamed, named]);
  });

  it('lists the category to a token with READ on it, but signing keys only to writers', async () => {
    const reader = bearer(await mintToken(alice, { account: { STORAGE: ['READ'] } }));
    const datasets = await t.http().get('/v2/datasets').set(reader).expect(200);
    expect(ids(datasets)).toEqual(expect.arrayContaining([inScope, secret]));
    for (const d of datasets.body.data.items) {
      expect(d.urlSigningSecretKey).toBeUndefined();
      expect(d.itemsPublicUrl).not.toContain('signature=');
    }
    const stores = await t.http().get('/v2/key-value-stores').set(reader).expect(200);
    expect(
      stores.body.data.items.find((s: { id: string }) => s.id === secretStore).urlSigningSecretKey,
    ).toBeUndefined();

    const writer = bearer(await mintToken(alice, { account: { STORAGE: ['WRITE'] } }));
    const written = await t.http().get('/v2/datasets').set(writer).expect(200);
    for (const d of written.body.data.items) expect(d.urlSigningSecretKey).toEqual(expect.any(String));
    // The owner itself, with a full credential, still sees its keys.
    const own = await t.http().get('/v2/datasets').set(alice.auth).expect(200);
    for (const d of own.body.data.items) expect(d.urlSigningSecretKey).toEqual(expect.any(String));
  });

  it('does not list tasks (and their input) beyond a token scope', async () => {
    const token = bearer(await mintToken(alice, { account: { STORAGE: ['READ'] } }));
    await t.http().get('/v2/actor-tasks').set(token).expect(403);
    const taskReader = bearer(
      await mintToken(alice, { resources: [{ type: 'ACTOR_TASK', id: secretTask, permissions: ['READ'] }] }),
    );
    expect(ids(await t.http().get('/v2/actor-tasks').set(taskReader).expect(200))).toEqual([secretTask]);
  });

  it('lists what a token created, and only that, when its scope names no category', async () => {
    const creator = bearer(await mintToken(alice, { account: { CREATE: ['DATASET'] } }));
    const made = (await t.http().post('/v2/datasets?name=made-by-token').set(creator).expect(201)).body.data;
    const listed = await t.http().get('/v2/datasets').set(creator).expect(200);
    expect(ids(listed)).toEqual([made.id]);
    expect(listed.body.data.items[0].urlSigningSecretKey).toEqual(expect.any(String));
  });

  let org: Awaited<ReturnType<typeof createOrganization>>;
  const mintOrg = async (scope: unknown) =>
    (
      await t
        .http()
        .post(`/v2/organizations/${org.id}/tokens`)
        .set(bob.auth)
        .send({ name: 'org', scope })
        .expect(201)
    ).body.data.token as string;

  it('lists organization storages to an organization token of a STORAGE READ member without signing keys', async () => {
    org = await createOrganization(t, alice);
    const orgHeader = { 'x-account-id': org.id };
    const orgDataset = (
      await t.http().post('/v2/datasets?name=org-data').set(alice.auth).set(orgHeader).expect(201)
    ).body.data.id;
    const role = async (name: string, permissions: object) =>
      (
        await t
          .http()
          .post(`/v2/organizations/${org.id}/roles`)
          .set(alice.auth)
          .send({ name, permissions })
          .expect(201)
      ).body.data.id as string;
    await joinOrganization(
      t,
      alice,
      org.id,
      bob,
      await role('Storage writers', {
        STORAGE: ['READ', 'WRITE'],
        ORGANIZATION: ['MANAGE_ACCESS_TOKENS'],
      }),
    );
    const mintOrg = async (scope: unknown) =>
      (
        await t
          .http()
          .post(`/v2/organizations/${org.id}/tokens`)
          .set(bob.auth)
          .send({ name: 'org', scope })
          .expect(201)
      ).body.data.token as string;

    // Hole 1, organization variant: READ on the category lists, without keys.
    const reader = bearer(await mintOrg({ account: { STORAGE: ['READ'] } }));
    const listed = await t.http().get('/v2/datasets').set(reader).expect(200);
    expect(ids(listed)).toContain(orgDataset);
    for (const d of listed.body.data.items) {
      expect(d.urlSigningSecretKey).toBeUndefined();
      expect(d.itemsPublicUrl).not.toContain('signature=');
    }
  });

  it('gives an organization token no MANAGE_ACCESS its minter lacks on what it creates', async () => {
    // Hole 2: what the token creates it reads and writes, but cannot share.
    const writer = bearer(await mintOrg({ account: { STORAGE: ['READ', 'WRITE'], CREATE: ['DATASET'] } }));
    const made = (await t.http().post('/v2/datasets?name=token-made').set(writer).expect(201)).body.data;
    expect(made.userId).toBe(org.id);
    await t.http().post(`/v2/datasets/${made.id}/items`).set(writer).send({ x: 1 }).expect(201);
    await t
      .http()
      .post(`/v2/datasets/${made.id}/access/grants`)
      .set(writer)
      .send({ user: mallory.username, permissions: ['WRITE', 'MANAGE_ACCESS'] })
      .expect(403);
    await t
      .http()
      .put(`/v2/datasets/${made.id}`)
      .set(writer)
      .send({ generalAccess: 'ANYONE_WITH_ID_CAN_READ' })
      .expect(403);
    await t.http().post(`/v2/datasets/${made.id}/items`).set(mallory.auth).send({ y: 1 }).expect(403);
    // The organization's Owner still manages it.
    await t
      .http()
      .post(`/v2/datasets/${made.id}/access/grants`)
      .set(alice.auth)
      .send({ user: mallory.username, permissions: ['READ'] })
      .expect(201);
  });

  it('explains nothing a token scope excludes, and explains the scope for what it includes', async () => {
    await t
      .http()
      .post(`/v2/datasets/${secret}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['WRITE'] })
      .expect(201);
    const narrow = bearer(
      await mintToken(alice, { resources: [{ type: 'DATASET', id: inScope, permissions: ['READ'] }] }),
    );
    const excluded = await t
      .http()
      .get(`/v2/access/explain?resourceId=${secret}&permission=READ&userId=${bob.id}`)
      .set(narrow);
    expect(excluded.status).toBe(404);
    expect(JSON.stringify(excluded.body)).not.toContain(bob.id);
    await t.http().get(`/v2/access/explain?resourceId=${secret}&permission=READ`).set(narrow).expect(404);
    // Someone else's access needs MANAGE_ACCESS, which a READ scope does not give.
    await t
      .http()
      .get(`/v2/access/explain?resourceId=${inScope}&permission=READ&userId=${bob.id}`)
      .set(narrow)
      .expect(403);
    const own = await t
      .http()
      .get(`/v2/access/explain?resourceId=${inScope}&permission=WRITE`)
      .set(narrow)
      .expect(200);
    expect(own.body.data).toMatchObject({ allowed: false, rule: 'none' });
    expect(own.body.data.checked.at(-1)).toMatchObject({ rule: 'token-scope', gives: ['READ'] });
  });
});
