import { uniqueName } from '@atrium/testing';
import { signUp, SignedUpUser, startTestStack, TestStack, verifyEmail } from './test-stack';

/** Organizations (Apify) through the gateway: the whole life cycle, and every way to overreach. */
describe('organizations end to end', () => {
  let t: TestStack;
  let alice: SignedUpUser; // creates the organization: its Owner
  let bob: SignedUpUser; // Developer
  let carol: SignedUpUser; // Read only
  let dave: SignedUpUser; // never a member
  let erin: SignedUpUser; // a custom role with MANAGE_MEMBERS
  let fay: SignedUpUser; // a custom role with MANAGE_ACCESS_TOKENS and storage reads
  let orgId: string;
  let orgName: string;
  let roleIds: Record<string, string>;
  let orgToken: { authorization: string };
  let datasetId: string;

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob, carol, dave, erin, fay] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave', 'erin', 'fay'].map((name) => signUp(t, uniqueName(name))),
    );
  });
  afterAll(() => t.close());

  const org = (path = '') => `/v2/organizations/${orgId}${path}`;
  const acceptInvitation = async (invitee: SignedUpUser, user: string, roleId: string) => {
    const sent = await t.http().post(org('/invitations')).set(alice.auth).send({ user, roleId }).expect(201);
    await t.http().post(`/v2/invitations/${sent.body.data.id}/accept`).set(invitee.auth).expect(200);
    return sent.body.data.id as string;
  };
  const pushItem = (who: { authorization: string }) =>
    t.http().post(`/v2/datasets/${datasetId}/items`).set(who).send({ by: 'someone' });

  it('creates an organization whose creator is its Owner, with the built-in roles', async () => {
    orgName = uniqueName('acme');
    const created = await t
      .http()
      .post('/v2/organizations')
      .set(alice.auth)
      .send({ username: orgName })
      .expect(201);
    orgId = created.body.data.id;
    expect(orgId).toMatch(/^[A-Za-z0-9]{17}$/);
    expect(created.body.data).toMatchObject({
      username: orgName,
      ownerId: alice.id,
      role: { name: 'Owner' },
    });

    const mine = await t.http().get('/v2/organizations').set(alice.auth).expect(200);
    expect(mine.body.data).toMatchObject({ total: 1, count: 1, offset: 0 });
    expect(mine.body.data.items[0]).toMatchObject({ id: orgId, role: { name: 'Owner' } });

    const roles = await t.http().get(org('/roles')).set(alice.auth).expect(200);
    expect(roles.body.data.items.map((r: { name: string }) => r.name)).toEqual([
      'Owner',
      'Administrator',
      'Developer',
      'Read only',
    ]);
    roleIds = Object.fromEntries(
      roles.body.data.items.map((r: { name: string; id: string }) => [r.name, r.id]),
    );
    // The organization is an account like a user: its public profile, its settings.
    await t
      .http()
      .get(`/v2/users/${orgName}`)
      .expect(200, { data: { id: orgId, username: orgName } });
    const restricted = await t
      .http()
      .put(org())
      .set(alice.auth)
      .send({ settings: { generalResourceAccess: 'RESTRICTED' } })
      .expect(200);
    expect(restricted.body.data.settings.generalResourceAccess).toBe('RESTRICTED');
  });

  it('keeps usernames unique across users and organizations, and an organization never logs in', async () => {
    await t
      .http()
      .post('/v2/organizations')
      .set(bob.auth)
      .send({ username: orgName.toUpperCase() })
      .expect(409);
    await t.http().post('/v2/organizations').set(bob.auth).send({ username: bob.username }).expect(409);
    await t
      .http()
      .post('/v2/auth/signup')
      .send({ email: `${uniqueName('x')}@example.com`, username: orgName, password: 'correct horse battery' })
      .expect(409);
    await t
      .http()
      .post('/v2/auth/login')
      .send({ login: orgName, password: 'correct horse battery' })
      .expect(401);
  });

  it("refuses to change one's own settings under an organization's X-Account-Id (they are not the organization's)", async () => {
    const before = (await t.http().get('/v2/users/me').set(alice.auth).expect(200)).body.data;
    const refused = await t
      .http()
      .put('/v2/users/me/settings')
      .set(alice.auth)
      .set('X-Account-Id', orgId)
      .send({ generalResourceAccess: 'RESTRICTED' })
      .expect(400);
    expect(refused.body.error.message).toContain('X-Account-Id');
    expect((await t.http().get('/v2/users/me').set(alice.auth).expect(200)).body.data).toEqual(before);
  });

  it('hides the organization from non-members (404)', async () => {
    await t.http().get(org()).set(dave.auth).expect(404);
    await t.http().get(org('/members')).set(dave.auth).expect(404);
    await t
      .http()
      .post(org('/invitations'))
      .set(dave.auth)
      .send({ user: dave.id, roleId: roleIds.Developer })
      .expect(404);
    await t.http().get('/v2/organizations/not-an-id').set(alice.auth).expect(404);
  });

  it('invites by username and by email; only the invitee can accept', async () => {
    const toBob = await t
      .http()
      .post(org('/invitations'))
      .set(alice.auth)
      .send({ user: bob.username.toUpperCase(), roleId: roleIds.Developer })
      .expect(201);
    expect(toBob.body.data).toMatchObject({ userId: bob.id, status: 'PENDING', roleName: 'Developer' });
    const toCarol = await t
      .http()
      .post(org('/invitations'))
      .set(alice.auth)
      .send({ user: `${carol.username}@EXAMPLE.com`, roleId: roleIds['Read only'] })
      .expect(201);
    // An invitation to an address names nobody until accepted: it tells nothing about who is registered.
    expect(toCarol.body.data).toMatchObject({
      userId: null,
      username: null,
      email: `${carol.username}@example.com`,
    });

    const mine = await t.http().get('/v2/users/me/invitations').set(bob.auth).expect(200);
    expect(mine.body.data.items).toEqual([
      expect.objectContaining({ id: toBob.body.data.id, organizationId: orgId }),
    ]);

    // Nobody accepts an invitation addressed to someone else: it does not exist for them.
    for (const intruder of [carol, dave, alice]) {
      await t.http().post(`/v2/invitations/${toBob.body.data.id}/accept`).set(intruder.auth).expect(404);
    }
    await t.http().post(`/v2/invitations/${toBob.body.data.id}/decline`).set(dave.auth).expect(404);

    const accepted = await t
      .http()
      .post(`/v2/invitations/${toBob.body.data.id}/accept`)
      .set(bob.auth)
      .expect(200);
    expect(accepted.body.data.status).toBe('ACCEPTED');
    // Carol accepts once she proved the address is hers.
    await t.http().post(`/v2/invitations/${toCarol.body.data.id}/accept`).set(carol.auth).expect(403);
    await verifyEmail(t, carol);
    await t.http().post(`/v2/invitations/${toCarol.body.data.id}/accept`).set(carol.auth).expect(200);

    const bobsOrgs = await t.http().get('/v2/organizations').set(bob.auth).expect(200);
    expect(bobsOrgs.body.data.items).toEqual([
      expect.objectContaining({
        id: orgId,
        username: orgName,
        role: expect.objectContaining({ name: 'Developer' }),
      }),
    ]);
    const members = await t.http().get(org('/members')).set(carol.auth).expect(200);
    expect(members.body.data.items).toEqual([
      expect.objectContaining({ userId: alice.id, roleName: 'Owner', roleId: roleIds.Owner }),
      expect.objectContaining({ userId: bob.id, username: bob.username, roleName: 'Developer' }),
      expect.objectContaining({ userId: carol.id, roleName: 'Read only' }),
    ]);
  });

  it('gives organization tokens to the Owner only, acting as the organization', async () => {
    await t.http().get(org('/tokens')).set(bob.auth).expect(403);
    await t.http().post(org('/tokens')).set(bob.auth).send({ name: 'mine' }).expect(403);
    const created = await t.http().post(org('/tokens')).set(alice.auth).send({ name: 'ci' }).expect(201);
    orgToken = { authorization: `Bearer ${created.body.data.token}` };
    const listed = await t.http().get(org('/tokens')).set(alice.auth).expect(200);
    expect(listed.body.data.items.map((x: { id: string }) => x.id)).toEqual([created.body.data.id]);
    const own = await t.http().get('/v2/users/me/tokens').set(alice.auth).expect(200);
    expect(own.body.data.items.map((x: { id: string }) => x.id)).not.toContain(created.body.data.id);

    const me = await t.http().get('/v2/users/me').set(orgToken).expect(200);
    expect(me.body.data).toMatchObject({ id: orgId, username: orgName });
    const dataset = await t.http().post('/v2/datasets?name=shared').set(orgToken).expect(201);
    datasetId = dataset.body.data.id;
    expect(dataset.body.data.userId).toBe(orgId);
  });

  it("lets members use the organization's resources by their role", async () => {
    // Developer: reads and writes.
    await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(200);
    await pushItem(bob.auth).expect(201);
    await t.http().get(`/v2/datasets/${orgName}~shared`).set(bob.auth).expect(200);
    // Read only: reads, cannot write.
    await t.http().get(`/v2/datasets/${datasetId}/items`).set(carol.auth).expect(200);
    const denied = await pushItem(carol.auth).expect(403);
    expect(denied.body.error.type).toBe('insufficient-permissions');
    // Not a member, and the organization is RESTRICTED: not even its existence.
    await t.http().get(`/v2/datasets/${datasetId}`).set(dave.auth).expect(404);
  });

  it('lets members create in the organization with X-Account-Id, by their role', async () => {
    const created = await t
      .http()
      .post('/v2/datasets?name=by-bob')
      .set(bob.auth)
      .set('X-Account-Id', orgId)
      .expect(201);
    expect(created.body.data.userId).toBe(orgId);
    const listed = await t.http().get('/v2/datasets').set(carol.auth).set('X-Account-Id', orgId).expect(200);
    expect(listed.body.data.items.map((d: { name: string }) => d.name).sort()).toEqual(['by-bob', 'shared']);
    await t.http().post('/v2/datasets?name=by-carol').set(carol.auth).set('X-Account-Id', orgId).expect(403);
    await t.http().post('/v2/datasets?name=by-dave').set(dave.auth).set('X-Account-Id', orgId).expect(403);
  });

  it('lets a token manager below the Owner mint only tokens scoped within its role, revoked when it is removed', async () => {
    const keepers = await t
      .http()
      .post(org('/roles'))
      .set(alice.auth)
      .send({
        name: 'Token keepers',
        permissions: { STORAGE: ['READ'], ORGANIZATION: ['MANAGE_ACCESS_TOKENS'] },
      })
      .expect(201);
    await acceptInvitation(fay, fay.id, keepers.body.data.id);
    const mint = (body: object) => t.http().post(org('/tokens')).set(fay.auth).send(body);

    // Unscoped it would act as the organization, with every permission: the Owner's alone.
    const unscoped = await mint({ name: 'all' }).expect(403);
    expect(unscoped.body.error.message).toContain('scope');
    const beyond = await mint({
      name: 'writer',
      scope: { account: { STORAGE: ['WRITE'], CREATE: ['DATASET'] } },
    }).expect(403);
    expect(beyond.body.error.message).toContain('STORAGE:WRITE');
    expect(beyond.body.error.message).toContain('CREATE:DATASET');
    const invalid = await mint({ name: 'bad', scope: { account: { STORAGE: ['FLY'] } } }).expect(400);
    expect(invalid.body.error.message).toContain('body.scope.account.STORAGE.0');

    const scope = { account: {}, resources: [{ type: 'DATASET', id: datasetId, permissions: ['READ'] }] };
    const created = await mint({ name: 'reader', scope }).expect(201);
    expect(created.body.data.scope).toEqual(scope);
    const token = { authorization: `Bearer ${created.body.data.token}` };
    // It reads that dataset as the organization, and nothing more.
    await t.http().get(`/v2/datasets/${datasetId}/items`).set(token).expect(200);
    await pushItem(token).expect(403);
    await t.http().get(`/v2/datasets/${orgName}~by-bob`).set(token).expect(404);
    await t.http().get(`/v2/datasets/${orgName}~by-bob`).set(alice.auth).expect(200);
    await t.http().post('/v2/datasets?name=by-token').set(token).expect(403);

    // Removing its creator revokes it: refused on the very next request.
    await t
      .http()
      .delete(org(`/members/${fay.id}`))
      .set(alice.auth)
      .expect(204);
    await t.http().get(`/v2/datasets/${datasetId}/items`).set(token).expect(401);
    const listed = await t.http().get(org('/tokens')).set(alice.auth).expect(200);
    expect(listed.body.data.items.map((x: { id: string }) => x.id)).not.toContain(created.body.data.id);
  });

  it("lets no one take another user's id as a username (invitations name users by id or username)", async () => {
    const victim = await signUp(t, uniqueName('victim'));
    const res = await t
      .http()
      .post('/v2/auth/signup')
      .send({
        email: `${uniqueName('sq')}@example.com`,
        username: victim.id.toLowerCase(),
        password: 'correct horse battery',
      })
      .expect(400);
    expect(res.body.error.message).toContain('body.username');
    const sent = await t
      .http()
      .post(org('/invitations'))
      .set(alice.auth)
      .send({ user: victim.id, roleId: roleIds['Read only'] })
      .expect(201);
    expect(sent.body.data).toMatchObject({ userId: victim.id, username: victim.username });
    await t.http().delete(`/v2/invitations/${sent.body.data.id}`).set(alice.auth).expect(204);
  });

  it('refuses privilege escalation', async () => {
    // No member changes its own role.
    await t
      .http()
      .put(org(`/members/${bob.id}`))
      .set(bob.auth)
      .send({ roleId: roleIds.Administrator })
      .expect(403);
    // A Developer (no MANAGE_MEMBERS) cannot invite, nor manage roles.
    await t
      .http()
      .post(org('/invitations'))
      .set(bob.auth)
      .send({ user: dave.id, roleId: roleIds['Read only'] })
      .expect(403);
    await t.http().post(org('/roles')).set(bob.auth).send({ name: 'Mine' }).expect(403);

    // Erin may manage members, and read storages: no role she creates, edits or gives goes beyond.
    const people = await t
      .http()
      .post(org('/roles'))
      .set(alice.auth)
      .send({ name: 'People', permissions: { STORAGE: ['READ'], ORGANIZATION: ['MANAGE_MEMBERS'] } })
      .expect(201);
    expect(people.body.data.permissions).toEqual({
      ACTOR: [],
      ACTOR_TASK: [],
      SCHEDULE: [],
      STORAGE: ['READ'],
      ORGANIZATION: ['MANAGE_MEMBERS'],
    });
    await acceptInvitation(erin, erin.id, people.body.data.id);
    const above = await t
      .http()
      .post(org('/roles'))
      .set(erin.auth)
      .send({ name: 'Writers', permissions: { STORAGE: ['READ', 'WRITE'] } })
      .expect(403);
    expect(above.body.error.message).toContain('STORAGE:WRITE');
    await t
      .http()
      .put(org(`/roles/${people.body.data.id}`))
      .set(erin.auth)
      .send({ permissions: { STORAGE: ['READ'], ORGANIZATION: ['MANAGE_MEMBERS', 'MANAGE_ACCESS_TOKENS'] } })
      .expect(403);
    await t
      .http()
      .post(org('/invitations'))
      .set(erin.auth)
      .send({ user: dave.id, roleId: roleIds.Developer })
      .expect(403);
    await t
      .http()
      .put(org(`/members/${carol.id}`))
      .set(erin.auth)
      .send({ roleId: roleIds.Developer })
      .expect(403);
    await t
      .http()
      .delete(org(`/members/${alice.id}`))
      .set(erin.auth)
      .expect(403);
    await t
      .http()
      .put(org(`/members/${alice.id}`))
      .set(alice.auth)
      .send({ roleId: roleIds['Read only'] })
      .expect(403);
    await t
      .http()
      .put(org(`/members/${bob.id}`))
      .set(alice.auth)
      .send({ roleId: roleIds.Owner })
      .expect(400);
    // Within her own rights she may.
    const readers = await t
      .http()
      .post(org('/roles'))
      .set(erin.auth)
      .send({ name: 'Readers', permissions: { STORAGE: ['READ'] } })
      .expect(201);
    expect(readers.body.data).toMatchObject({ name: 'Readers', builtIn: null, memberCount: 0 });
    await t.http().get(org('/tokens')).set(erin.auth).expect(403);
  });

  it('answers bad input with 400 naming the field', async () => {
    const cases: [string, string, object, string][] = [
      ['post', '/v2/organizations', { username: 'x' }, 'body.username'],
      ['post', '/v2/organizations', { username: 'fine-name', extra: 1 }, 'body.extra'],
      [
        'post',
        org('/roles'),
        { name: 'Bad', permissions: { STORAGE: ['FLY'] } },
        'body.permissions.STORAGE.0',
      ],
      [
        'post',
        org('/roles'),
        { name: 'Bad', permissions: { ACTOR: ['MANAGE_MEMBERS'] } },
        'body.permissions.ACTOR.0',
      ],
      ['post', org('/roles'), { name: 'Bad', permissions: { BILLING: [] } }, 'body.permissions.BILLING'],
      ['post', org('/roles'), { name: '' }, 'body.name'],
      ['post', org('/invitations'), { user: dave.id }, 'body.roleId'],
      ['post', org('/invitations'), { user: dave.id, roleId: 'A'.repeat(17) }, 'body.roleId'],
      ['put', org(`/members/${bob.id}`), { roleId: 'nope' }, 'body.roleId'],
      ['put', org(), {}, 'body'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await (method === 'post' ? t.http().post(path) : t.http().put(path))
        .set(alice.auth)
        .send(body)
        .expect(400);
      expect(res.body.error.type).toBe('invalid-input');
      expect(res.body.error.message).toContain(field);
    }
    // An organization is never a member of another.
    const other = await t
      .http()
      .post('/v2/organizations')
      .set(dave.auth)
      .send({ username: uniqueName('other') })
      .expect(201);
    const orgInvite = await t
      .http()
      .post(org('/invitations'))
      .set(alice.auth)
      .send({ user: other.body.data.username, roleId: roleIds.Developer })
      .expect(400);
    expect(orgInvite.body.error.message).toContain('body.user');
    await t
      .http()
      .post(org('/invitations'))
      .set(alice.auth)
      .send({ user: 'no-such-user-here', roleId: roleIds.Developer })
      .expect(404);
    await t
      .http()
      .post(org('/invitations'))
      .set(alice.auth)
      .send({ user: bob.id, roleId: roleIds.Developer })
      .expect(409);
  });

  it('takes write away from a member changed to a lesser role on the next request', async () => {
    await pushItem(bob.auth).expect(201);
    const changed = await t
      .http()
      .put(org(`/members/${bob.id}`))
      .set(alice.auth)
      .send({ roleId: roleIds['Read only'] })
      .expect(200);
    expect(changed.body.data).toMatchObject({ userId: bob.id, roleName: 'Read only' });
    await pushItem(bob.auth).expect(403);
    await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(200);
    // Editing the role reaches everyone holding it at once.
    await t
      .http()
      .put(org(`/roles/${roleIds['Read only']}`))
      .set(alice.auth)
      .send({ permissions: { STORAGE: ['READ', 'WRITE'] } })
      .expect(200);
    await pushItem(carol.auth).expect(201);
    await t
      .http()
      .put(org(`/roles/${roleIds['Read only']}`))
      .set(alice.auth)
      .send({ permissions: { STORAGE: ['READ'] } })
      .expect(200);
    await pushItem(carol.auth).expect(403);
    // A role someone holds cannot be removed.
    await t
      .http()
      .delete(org(`/roles/${roleIds['Read only']}`))
      .set(alice.auth)
      .expect(409);
  });

  it('denies a removed member, and one who left, on the next request', async () => {
    await t.http().get(`/v2/datasets/${datasetId}`).set(carol.auth).expect(200);
    await t
      .http()
      .delete(org(`/members/${carol.id}`))
      .set(alice.auth)
      .expect(204);
    await t.http().get(`/v2/datasets/${datasetId}`).set(carol.auth).expect(404);
    await t.http().get(org()).set(carol.auth).expect(404);

    await t
      .http()
      .delete(org(`/members/${bob.id}`))
      .set(bob.auth)
      .expect(204);
    await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(404);
    const bobsOrgs = await t.http().get('/v2/organizations').set(bob.auth).expect(200);
    expect(bobsOrgs.body.data.items).toEqual([]);
    // The Owner cannot leave.
    await t
      .http()
      .delete(org(`/members/${alice.id}`))
      .set(alice.auth)
      .expect(409);
    const members = await t.http().get(org('/members')).set(alice.auth).expect(200);
    expect(members.body.data.items.map((m: { userId: string }) => m.userId)).toEqual([alice.id, erin.id]);
  });

  it('cancels invitations from the organization side only', async () => {
    const sent = await t
      .http()
      .post(org('/invitations'))
      .set(alice.auth)
      .send({ user: dave.username, roleId: roleIds.Developer })
      .expect(201);
    await t.http().delete(`/v2/invitations/${sent.body.data.id}`).set(dave.auth).expect(404);
    await t.http().delete(`/v2/invitations/${sent.body.data.id}`).set(alice.auth).expect(204);
    await t.http().post(`/v2/invitations/${sent.body.data.id}/accept`).set(dave.auth).expect(409);
    const listed = await t.http().get(org('/invitations')).set(alice.auth).expect(200);
    expect(listed.body.data.items[0]).toMatchObject({ id: sent.body.data.id, status: 'CANCELLED' });
  });

  it('lets a user own at most 10 organizations (402)', async () => {
    // Dave owns one already (above).
    for (let i = 0; i < 9; i++) {
      await t
        .http()
        .post('/v2/organizations')
        .set(dave.auth)
        .send({ username: uniqueName('many') })
        .expect(201);
    }
    const refused = await t
      .http()
      .post('/v2/organizations')
      .set(dave.auth)
      .send({ username: uniqueName('many') })
      .expect(402);
    expect(refused.body.error.type).toBe('quota-exceeded');
  });

  it('deletes an organization (Owner only): its tokens stop working and members lose access', async () => {
    await t.http().delete(org()).set(erin.auth).expect(403);
    await t.http().delete(org()).set(alice.auth).expect(204);
    await t.http().get('/v2/users/me').set(orgToken).expect(401);
    await t.http().get(`/v2/datasets/${datasetId}`).set(erin.auth).expect(404);
    await t.http().get(org()).set(alice.auth).expect(404);
  });
});
