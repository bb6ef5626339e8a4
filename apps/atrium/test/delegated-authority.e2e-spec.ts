import { uniqueName } from '@atrium/testing';
import {
  createActor,
  createDataset,
  createOrganization,
  joinOrganization,
  SignedUpUser,
  signUp,
  startTestStack,
  TestStack,
} from './test-stack';

/**
 * No escalation under delegated authority (issue 12), as the second outside attack pass probed
 * it: whoever may manage access gives, extends or takes away only what it holds itself; a task is
 * scheduled only by whoever may run it; explain names users as grants do.
 */
describe('delegated authority gives no more than it holds', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let carol: SignedUpUser;
  let dave: SignedUpUser;
  let erin: SignedUpUser;
  let frank: SignedUpUser;
  let datasetId: string;

  const grants = (id = datasetId) => `/v2/datasets/${id}/access/grants`;
  const grantTo = (by: SignedUpUser, user: SignedUpUser, permissions: string[]) =>
    t.http().post(grants()).set(by.auth).send({ user: user.username, permissions });

  /** A role of alice's organization: its id. */
  const customRole = async (orgId: string, name: string, permissions: Record<string, string[]>) =>
    (
      await t
        .http()
        .post(`/v2/organizations/${orgId}/roles`)
        .set(alice.auth)
        .send({ name, permissions })
        .expect(201)
    ).body.data.id as string;

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob, carol, dave, erin, frank] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((name) => signUp(t, uniqueName(name))),
    );
    datasetId = await createDataset(t, alice, 'shared');
  });
  afterAll(() => t.close());

  it('lets a READ + MANAGE_ACCESS grantee give only READ, and not raise its own grant', async () => {
    const own = (await grantTo(alice, bob, ['READ', 'MANAGE_ACCESS']).expect(201)).body.data;
    // One grant a user: a second is refused with the one to change.
    const twice = await grantTo(alice, bob, ['READ']).expect(409);
    expect(twice.body.error.message).toContain(`PUT …/access/grants/${own.id}`);
    const beyond = await grantTo(bob, carol, ['WRITE']).expect(403);
    expect(beyond.body.error).toMatchObject({ type: 'insufficient-permissions' });
    expect(beyond.body.error.message).toContain('WRITE');
    expect(beyond.body.error.message).toContain('body.permissions');
    const carols = (await grantTo(bob, carol, ['READ']).expect(201)).body.data;
    // Its own grant: not to WRITE.
    await t
      .http()
      .put(`${grants()}/${own.id}`)
      .set(bob.auth)
      .send({ permissions: ['READ', 'WRITE', 'MANAGE_ACCESS'] })
      .expect(403);
    // A grant beyond it: not even its time extended.
    const daves = (await grantTo(alice, dave, ['WRITE']).expect(201)).body.data;
    const later = new Date(Date.now() + 86_400_000).toISOString();
    await t.http().put(`${grants()}/${daves.id}`).set(bob.auth).send({ expiresAt: later }).expect(403);
    await t.http().put(`${grants()}/${carols.id}`).set(bob.auth).send({ expiresAt: later }).expect(200);
    // Nothing changed by the refusals.
    await t.http().post(`/v2/datasets/${datasetId}/items`).set(bob.auth).send({ a: 1 }).expect(403);
    await t.http().post(`/v2/datasets/${datasetId}/items`).set(carol.auth).send({ a: 1 }).expect(403);
    // The owner gives anything.
    await t
      .http()
      .put(`${grants()}/${carols.id}`)
      .set(alice.auth)
      .send({ permissions: ['WRITE'] })
      .expect(200);
  });

  it('keeps what a time-limited manager gives within its time, its own grant included', async () => {
    const timed = await createDataset(t, alice, uniqueName('timed'));
    const grantsOf = grants(timed);
    const ends = new Date(Date.now() + 3_600_000).toISOString();
    const later = new Date(Date.now() + 86_400_000).toISOString();
    /** Alice's grant to `user` until `ends`: a time-limited manager's own. */
    const untilEnds = async (path: string, user: SignedUpUser, permissions: string[]) =>
      (
        await t
          .http()
          .post(path)
          .set(alice.auth)
          .send({ user: user.username, permissions, expiresAt: ends })
          .expect(201)
      ).body.data as { id: string };
    const own = await untilEnds(grantsOf, bob, ['READ', 'MANAGE_ACCESS']);
    const give = (body: object) => t.http().post(grantsOf).set(bob.auth).send(body);
    // No expiry asked for (absent or null): the grant ends when the grantor's power to give it does.
    const carols = (await give({ user: carol.username, permissions: ['READ'] }).expect(201)).body.data;
    expect(carols.expiresAt).toBe(ends);
    const daves = (await give({ user: dave.username, permissions: ['READ'], expiresAt: null }).expect(201))
      .body.data;
    expect(daves.expiresAt).toBe(ends);
    await t.http().delete(`${grantsOf}/${daves.id}`).set(bob.auth).expect(204);
    const refused = await give({ user: dave.username, permissions: ['READ'], expiresAt: later }).expect(403);
    expect(refused.body.error.type).toBe('insufficient-permissions');
    expect(refused.body.error.message).toContain(`ends at ${ends}`);
    expect(refused.body.error.message).toContain('body.expiresAt');
    // Not its own grant, nor the one it gave, made to last longer: no expiry asked keeps them as they are.
    const change = (grantId: string, body: object) =>
      t.http().put(`${grantsOf}/${grantId}`).set(bob.auth).send(body);
    for (const grantId of [own.id, carols.id]) {
      await change(grantId, { expiresAt: later }).expect(403);
      expect((await change(grantId, { expiresAt: null }).expect(200)).body.data.expiresAt).toBe(ends);
    }
    // The refusals changed nothing; the owner extends anything.
    const listed = await t.http().get(`/v2/datasets/${timed}/access`).set(alice.auth).expect(200);
    const expiries = Object.fromEntries(
      listed.body.data.grants.map((g: { userId: string; expiresAt: string }) => [g.userId, g.expiresAt]),
    );
    expect(expiries).toEqual({ [bob.id]: ends, [carol.id]: ends });
    await t.http().put(`${grantsOf}/${own.id}`).set(alice.auth).send({ expiresAt: null }).expect(200);
    expect((await change(carols.id, { expiresAt: null }).expect(200)).body.data.expiresAt).toBeNull();

    // Nor opened to everyone, which would outlast it too; closing stays its to do.
    await untilEnds(grantsOf, dave, ['WRITE', 'MANAGE_ACCESS']);
    const opened = await t
      .http()
      .put(`/v2/datasets/${timed}`)
      .set(dave.auth)
      .send({ generalAccess: 'ANYONE_WITH_ID_CAN_READ' })
      .expect(403);
    expect(opened.body.error.message).toContain('body.generalAccess');
    await t
      .http()
      .put(`/v2/datasets/${timed}`)
      .set(dave.auth)
      .send({ generalAccess: 'RESTRICTED' })
      .expect(200);
    const actorId = await createActor(t, alice, { name: uniqueName('timed-act') });
    await untilEnds(`/v2/acts/${actorId}/access/grants`, dave, ['WRITE', 'MANAGE_ACCESS']);
    const published = await t
      .http()
      .put(`/v2/acts/${actorId}`)
      .set(dave.auth)
      .send({ isPublic: true })
      .expect(403);
    expect(published.body.error.message).toContain('publishing it would outlast it');

    // A revocation racing a grant: the grant is refused or ends in time, never unbounded.
    for (let i = 0; i < 5; i++) {
      const racer = await untilEnds(grantsOf, erin, ['READ', 'MANAGE_ACCESS']);
      const [, raced] = await Promise.all([
        t.http().delete(`${grantsOf}/${racer.id}`).set(erin.auth),
        t
          .http()
          .post(grantsOf)
          .set(erin.auth)
          .send({ user: frank.username, permissions: ['READ'], expiresAt: null }),
      ]);
      if (raced.status === 201) {
        expect(raced.body.data.expiresAt).toBe(ends);
      } else expect([403, 404]).toContain(raced.status);
      const franks = (
        await t.http().get(`/v2/datasets/${timed}/access`).set(alice.auth).expect(200)
      ).body.data.grants.find((g: { userId: string }) => g.userId === frank.id);
      expect(franks?.expiresAt ?? ends).toBe(ends);
      if (franks) await t.http().delete(`${grantsOf}/${franks.id}`).set(alice.auth).expect(204);
    }

    // A manager by an organization role, which does not expire, is not bounded by a grant that does.
    const org = await createOrganization(t, alice);
    const role = await customRole(org.id, 'Sharers', { STORAGE: ['READ', 'MANAGE_ACCESS'] });
    await joinOrganization(t, alice, org.id, dave, role);
    const orgs = (
      await t
        .http()
        .post(`/v2/datasets?name=${uniqueName('org-timed')}`)
        .set(alice.auth)
        .set('X-Account-Id', org.id)
        .expect(201)
    ).body.data.id as string;
    await untilEnds(grants(orgs), dave, ['WRITE', 'MANAGE_ACCESS']);
    const giveOnOrgs = (user: SignedUpUser, permissions: string[]) =>
      t.http().post(grants(orgs)).set(dave.auth).send({ user: user.username, permissions }).expect(201);
    expect((await giveOnOrgs(carol, ['READ'])).body.data.expiresAt).toBeNull();
    // But WRITE, which only its grant gives it, it gives until that grant ends.
    expect((await giveOnOrgs(bob, ['READ', 'WRITE'])).body.data.expiresAt).toBe(ends);
  });

  it('holds a scoped token to its scope when it grants', async () => {
    const token = (
      await t
        .http()
        .post('/v2/users/me/tokens')
        .set(alice.auth)
        .send({
          name: 'share-only',
          scope: { resources: [{ type: 'DATASET', id: datasetId, permissions: ['READ', 'MANAGE_ACCESS'] }] },
        })
        .expect(201)
    ).body.data.token as string;
    const other = await signUp(t, uniqueName('eve'));
    await t
      .http()
      .post(grants())
      .set({ authorization: `Bearer ${token}` })
      .send({ user: other.username, permissions: ['READ', 'WRITE'] })
      .expect(403);
  });

  it('explains a user named by username as by id, and 404 for no such user', async () => {
    const byName = await t
      .http()
      .get(`/v2/access/explain?resourceId=${datasetId}&permission=READ&userId=${bob.username}`)
      .set(alice.auth)
      .expect(200);
    const byId = await t
      .http()
      .get(`/v2/access/explain?resourceId=${datasetId}&permission=READ&userId=${bob.id}`)
      .set(alice.auth)
      .expect(200);
    expect(byName.body.data).toEqual(byId.body.data);
    expect(byName.body.data).toMatchObject({ userId: bob.id, allowed: true, rule: 'grant' });
    await t
      .http()
      .get(`/v2/access/explain?resourceId=${datasetId}&permission=READ&userId=${uniqueName('nobody')}`)
      .set(alice.auth)
      .expect(404);
  });

  it('lets an app collaborator take away only scopes it holds, unless it may delete collaborators', async () => {
    const app = (
      await t
        .http()
        .post('/v2/apps')
        .set(alice.auth)
        .send({ name: uniqueName('app') })
        .expect(201)
    ).body.data.id as string;
    const add = (by: SignedUpUser, user: SignedUpUser, scopes: string[]) =>
      t.http().post(`/v2/apps/${app}/collaborators`).set(by.auth).send({ user: user.username, scopes });
    await add(alice, bob, ['Collaborators:Add', 'Inputs:Add', 'Inputs:Get']).expect(201);
    await add(alice, carol, ['Models:Add', 'Models:Get']).expect(201);
    const patch = (by: SignedUpUser, scopes: string[]) =>
      t.http().patch(`/v2/apps/${app}/collaborators/${carol.id}`).set(by.auth).send({ scopes });
    const stripped = await patch(bob, ['Inputs:Get']).expect(403);
    expect(stripped.body.error.message).toContain('body.scopes');
    const listed = await t.http().get(`/v2/apps/${app}/collaborators`).set(alice.auth).expect(200);
    const carols = listed.body.data.items.find((c: { userId: string }) => c.userId === carol.id);
    expect([...carols.scopes].sort()).toEqual(['Models:Add', 'Models:Get']);
    // Adding what it holds, taking nothing away: allowed.
    await patch(bob, ['Models:Add', 'Models:Get', 'Inputs:Get']).expect(200);
    // The owner (Collaborators:Delete) takes away anything.
    await patch(alice, ['Inputs:Get']).expect(200);
  });

  it('schedules a task only for whoever may run it: READ on the task and RUN on its Actor', async () => {
    const actorId = (
      await t
        .http()
        .post('/v2/acts')
        .set(alice.auth)
        .send({ name: uniqueName('act') })
        .expect(201)
    ).body.data.id as string;
    const taskId = (
      await t
        .http()
        .post('/v2/actor-tasks')
        .set(alice.auth)
        .send({ actId: actorId, name: uniqueName('task') })
        .expect(201)
    ).body.data.id as string;
    await t
      .http()
      .post(`/v2/actor-tasks/${taskId}/access/grants`)
      .set(alice.auth)
      .send({ user: carol.username, permissions: ['READ'] })
      .expect(201);
    const schedule = {
      name: uniqueName('nightly'),
      cronExpression: '@daily',
      isEnabled: false,
      actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: taskId }],
    };
    // Running it is refused, and so is scheduling it.
    await t.http().post(`/v2/actor-tasks/${taskId}/runs`).set(carol.auth).expect(404);
    const refused = await t.http().post('/v2/schedules').set(carol.auth).send(schedule).expect(404);
    expect(refused.body.error.message).toContain('body.actions.0.actorTaskId');
    await t
      .http()
      .post(`/v2/acts/${actorId}/access/grants`)
      .set(alice.auth)
      .send({ user: carol.username, permissions: ['RUN'] })
      .expect(201);
    await t.http().post('/v2/schedules').set(carol.auth).send(schedule).expect(201);
  });

  it("lets a token manager below the Owner revoke only tokens within its role, not the Owner's", async () => {
    const org = await createOrganization(t, alice);
    const role = await customRole(org.id, 'Token keepers', {
      STORAGE: ['READ'],
      ORGANIZATION: ['MANAGE_ACCESS_TOKENS'],
    });
    await joinOrganization(t, alice, org.id, dave, role);
    const tokens = `/v2/organizations/${org.id}/tokens`;
    const owners = (await t.http().post(tokens).set(alice.auth).send({ name: 'ci' }).expect(201)).body.data;
    const refused = await t.http().delete(`${tokens}/${owners.id}`).set(dave.auth).expect(403);
    expect(refused.body.error.message).toContain('beyond your role');
    const own = (
      await t
        .http()
        .post(tokens)
        .set(dave.auth)
        .send({ name: 'mine', scope: { account: { STORAGE: ['READ'] } } })
        .expect(201)
    ).body.data;
    await t.http().delete(`${tokens}/${own.id}`).set(dave.auth).expect(204);
    await t.http().delete(`${tokens}/${owners.id}`).set(alice.auth).expect(204);
  });

  it('refuses a username shaped like an id, which grants and invitations would read as an id', async () => {
    const res = await t
      .http()
      .post('/v2/auth/signup')
      .send({ email: `${uniqueName('x')}@example.com`, username: bob.id, password: 'correct horse battery' })
      .expect(400);
    expect(res.body.error.message).toContain('body.username');
  });
});
