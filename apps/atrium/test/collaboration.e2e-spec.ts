import { uniqueName } from '@atrium/testing';
import { SignedUpUser, signUp, signUpEach, startTestStack, TestStack, verifyEmail } from './test-stack';

/**
 * Account collaboration (Virtuozzo) end to end: a primary shares environments with a member at
 * three levels (an environment, a group and its subgroups, the whole ENVIRONMENTS category), the
 * most specific level wins, and every status change takes effect on the member's next request.
 */
describe('account collaboration end to end', () => {
  let t: TestStack;
  let primary: SignedUpUser;
  let member: SignedUpUser;
  let other: SignedUpUser;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestStack();
    [primary, member] = await signUpEach(t, 'primary', 'member');
    // Invitations go to an address: only an account that verified it may answer them.
    await verifyEmail(t, member);
    other = await signUp(t, uniqueName('other'));
  });
  afterAll(() => t.close());

  const as = (user: SignedUpUser) => ({
    get: (path: string) => t.http().get(path).set(user.auth),
    post: (path: string, body: object = {}) => t.http().post(path).set(user.auth).send(body),
    put: (path: string, body: object) => t.http().put(path).set(user.auth).send(body),
    delete: (path: string) => t.http().delete(path).set(user.auth),
  });
  const act = (user: SignedUpUser, env: string, action: string, body: object = {}) =>
    as(user).post(`/v2/environments/${ids[env]}/actions/${action}`, body);
  const expectError = (
    res: { status: number; body: { error?: { type: string; message: string } } },
    status: number,
    text?: string,
  ) => {
    expect(res.status).toBe(status);
    if (text) expect(res.body.error?.message).toContain(text);
  };

  it('lets the primary build policies, roles, groups and environments', async () => {
    const policies = await as(primary).get('/v2/collaboration/policies').expect(200);
    expect(policies.body.data.items).toContainEqual(
      expect.objectContaining({ id: 'system-view', name: 'View', system: true, permissions: ['READ'] }),
    );
    const operate = await as(primary)
      .post('/v2/collaboration/policies', { name: 'Operate', permissions: ['START_STOP', 'RESTART'] })
      .expect(201);
    ids.operatePolicy = operate.body.data.id;

    const role = async (name: string, policies: string[]) =>
      (await as(primary).post('/v2/collaboration/roles', { name, policies }).expect(201)).body.data
        .id as string;
    ids.viewer = await role('Viewer', ['system-view', 'system-create']);
    ids.operator = await role('Operator', ['system-view', ids.operatePolicy]);
    ids.deployer = await role('Deployer', ['system-deploy', 'system-logs']);

    const prod = await as(primary).post('/v2/environment-groups', { name: 'prod' }).expect(201);
    ids.prod = prod.body.data.id;
    const eu = await as(primary)
      .post('/v2/environment-groups', { name: 'prod-eu', parentId: ids.prod })
      .expect(201);
    ids.prodEu = eu.body.data.id;
    expect(eu.body.data).toMatchObject({ parentId: ids.prod, ownerId: primary.id });

    const env = async (name: string, groupId?: string) => {
      const res = await as(primary).post('/v2/environments', { name, groupId }).expect(201);
      expect(res.body.data).toMatchObject({
        name,
        ownerId: primary.id,
        createdBy: primary.id,
        status: 'CREATED',
      });
      return res.body.data.id as string;
    };
    ids.api = await env('api', ids.prodEu);
    ids.web = await env('web', ids.prodEu);
    ids.db = await env('db');
    await act(primary, 'api', 'start').expect(200);
    await act(primary, 'web', 'start').expect(200);
    await act(primary, 'db', 'start').expect(200);
    // Not shared by grants, even by its owner: the answer says how instead.
    for (const path of [`/v2/environments/${ids.api}/access`, `/v2/environment-groups/${ids.prod}/access`]) {
      const refused = await as(primary).get(path).expect(403);
      expect(refused.body.error.message).toContain('shared through account collaboration');
    }
  });

  it('answers bad input with 400 naming the field', async () => {
    expectError(
      await as(primary).post('/v2/collaboration/policies', { name: 'Fly', permissions: ['FLY'] }),
      400,
      'body.permissions.0',
    );
    expectError(
      await as(primary).post('/v2/collaboration/roles', { name: 'Empty', policies: [] }),
      400,
      'body.policies',
    );
    expectError(
      await as(primary).post('/v2/collaboration/roles', {
        name: 'Ghost',
        policies: ['system-view', 'AAAAAAAAAAAAAAAAA'],
      }),
      400,
      'body.policies.1',
    );
    expectError(await as(primary).post('/v2/collaboration/members', { shared: [] }), 400, 'body.email');
    expectError(
      await as(primary).post('/v2/collaboration/members', { email: 'not-an-email', shared: [] }),
      400,
      'body.email',
    );
    expectError(
      await as(primary).post('/v2/collaboration/members', {
        email: member.username + '@example.com',
        shared: [{ category: 'ACTORS', roleIds: [ids.viewer] }],
      }),
      400,
      'body.shared.0.category',
    );
    expectError(await as(primary).post('/v2/environments', { name: 'no spaces' }), 400, 'body.name');
    expectError(await as(primary).post('/v2/environments', { name: 'x', colour: 'red' }), 400, 'body.colour');
    expectError(await act(primary, 'api', 'explode'), 400, 'params.action');
    expectError(await act(primary, 'api', 'deploy', {}), 400, 'body.artifact');
    expectError(await act(primary, 'api', 'migrate', { region: 'EU WEST' }), 400, 'body.region');

    // Groups and shares must be the primary's own.
    const theirs = await as(other).post('/v2/environment-groups', { name: 'theirs' }).expect(201);
    const theirEnv = await as(other).post('/v2/environments', { name: 'theirs' }).expect(201);
    ids.otherEnv = theirEnv.body.data.id;
    expectError(
      await as(primary).post('/v2/environment-groups', { name: 'x', parentId: theirs.body.data.id }),
      400,
      'body.parentId',
    );
    expectError(
      await as(primary).post('/v2/environments', { name: 'x', groupId: theirs.body.data.id }),
      400,
      'body.groupId',
    );
    expectError(
      await as(primary).post('/v2/collaboration/members', {
        email: `${member.username}@example.com`,
        shared: [{ resourceId: ids.otherEnv, roleIds: [ids.viewer] }],
      }),
      400,
      'body.shared.0.resourceId',
    );
    // No cycles among groups.
    expectError(
      await as(primary).put(`/v2/environment-groups/${ids.prod}`, { parentId: ids.prodEu }),
      400,
      'body.parentId',
    );
    // System policies are fixed.
    expectError(
      await as(primary).put('/v2/collaboration/policies/system-view', { permissions: ['READ', 'DELETE'] }),
      403,
    );
    expectError(await as(primary).delete('/v2/collaboration/policies/system-deploy'), 403);
    // Nothing was half-created.
    const roles = await as(primary).get('/v2/collaboration/roles').expect(200);
    expect(roles.body.data.items.map((r: { name: string }) => r.name)).toEqual([
      'Viewer',
      'Operator',
      'Deployer',
    ]);
    const members = await as(primary).get('/v2/collaboration/members').expect(200);
    expect(members.body.data.total).toBe(0);
  });

  it('invites the member by email; while pending the member sees nothing, and nobody else can accept', async () => {
    await as(member).get(`/v2/environments/${ids.db}`).expect(404);
    const invited = await as(primary)
      .post('/v2/collaboration/members', {
        email: `${member.username.toUpperCase()}@example.com`,
        displayName: 'Member',
        shared: [
          { category: 'ENVIRONMENTS', roleIds: [ids.viewer] },
          { groupId: ids.prod, roleIds: [ids.operator] },
          { resourceId: ids.api, roleIds: [ids.deployer] },
        ],
      })
      .expect(201);
    ids.member = invited.body.data.id;
    // Bound to a user only on acceptance: the answer tells nothing about who owns the address.
    expect(invited.body.data).toMatchObject({ status: 'PENDING', userId: null, primaryId: primary.id });
    expect(invited.body.data.shared[1]).toMatchObject({
      groupId: ids.prod,
      permissions: ['READ', 'START_STOP', 'RESTART'],
    });

    const mine = await as(member).get('/v2/collaborations').expect(200);
    expect(mine.body.data.items).toEqual([
      expect.objectContaining({
        id: ids.member,
        status: 'PENDING',
        primaryId: primary.id,
        primaryUsername: primary.username,
      }),
    ]);
    await as(member).get(`/v2/environments/${ids.db}`).expect(404);
    await as(member).get(`/v2/environments/${ids.api}`).expect(404);
    const shared = await as(member).get('/v2/environments?ownership=sharedWithMe').expect(200);
    expect(shared.body.data.items).toEqual([]);

    // Someone else cannot accept (or even see) the invitation.
    expect((await as(other).get('/v2/collaborations').expect(200)).body.data.items).toEqual([]);
    await as(other).post(`/v2/collaborations/${ids.member}/accept`).expect(404);
    await as(primary).post(`/v2/collaborations/${ids.member}/accept`).expect(404);
    await as(member).post(`/v2/collaborations/${ids.member}/leave`).expect(409);
  });

  it('after acceptance resolves each environment by the most specific share: direct > group > category', async () => {
    const accepted = await as(member).post(`/v2/collaborations/${ids.member}/accept`).expect(200);
    expect(accepted.body.data.status).toBe('ACTIVE');

    // Category (Viewer): db is visible, nothing more.
    await as(member).get(`/v2/environments/${ids.db}`).expect(200);
    await act(member, 'db', 'restart').expect(403);
    await act(member, 'db', 'stop').expect(403);
    await as(member).get(`/v2/environments/${ids.db}/logs`).expect(403);
    await as(member).delete(`/v2/environments/${ids.db}`).expect(403);

    // Group prod (Operator), inherited by prod-eu: web restarts, but does not deploy.
    await as(member).get(`/v2/environment-groups/${ids.prodEu}`).expect(200);
    await act(member, 'web', 'restart').expect(200);
    await act(member, 'web', 'stop').expect(200);
    await act(member, 'web', 'start').expect(200);
    await act(member, 'web', 'deploy', { artifact: 'web.tar.gz' }).expect(403);

    // Direct on api (Deployer): deploys and reads logs, but the group's restart does not apply.
    const deployed = await act(member, 'api', 'deploy', { artifact: 'api-2.0.tar.gz' }).expect(200);
    expect(deployed.body.data.environment.deployments).toEqual([
      expect.objectContaining({ artifact: 'api-2.0.tar.gz', deployedBy: member.id }),
    ]);
    await act(member, 'api', 'restart').expect(403);
    const logs = await as(member).get(`/v2/environments/${ids.api}/logs`).expect(200);
    expect(logs.body.data.items.map((l: { message: string }) => l.message)).toContainEqual(
      expect.stringContaining('Deployed api-2.0.tar.gz'),
    );
    await act(member, 'api', 'ssh').expect(403);

    // Explain names the rule and the share that decided: the direct one on api, the group's on web.
    const explain = async (env: string, permission: string) =>
      (await as(member).get(`/v2/access/explain?resourceId=${ids[env]}&permission=${permission}`).expect(200))
        .body.data;
    const onApi = await explain('api', 'DEPLOY');
    expect(onApi).toMatchObject({ allowed: true, rule: 'collaboration' });
    expect(onApi.chain.join(' ')).toContain(primary.id);
    const onWeb = await explain('web', 'DEPLOY');
    expect(onWeb).toMatchObject({ allowed: false, rule: 'none' });
    expect((await explain('web', 'RESTART')).rule).toBe('collaboration');

    const shared = await as(member).get('/v2/environments?ownership=sharedWithMe').expect(200);
    expect(shared.body.data.items.map((e: { name: string }) => e.name).sort()).toEqual(['api', 'db', 'web']);
    expect((await as(member).get('/v2/environments').expect(200)).body.data.items).toEqual([]);
  });

  it('applies a custom policy edit to the member on the very next request', async () => {
    await act(member, 'web', 'deploy', { artifact: 'web.tar.gz' }).expect(403);
    await as(primary)
      .put(`/v2/collaboration/policies/${ids.operatePolicy}`, {
        permissions: ['START_STOP', 'RESTART', 'DEPLOY'],
      })
      .expect(200);
    await act(member, 'web', 'deploy', { artifact: 'web.tar.gz' }).expect(200);
    // A role edit likewise: Deployer also gets SSH on api.
    await as(primary)
      .put(`/v2/collaboration/roles/${ids.deployer}`, {
        policies: ['system-deploy', 'system-logs', 'system-ssh'],
      })
      .expect(200);
    const ssh = await act(member, 'api', 'ssh').expect(200);
    expect(ssh.body.data.session).toMatchObject({ port: 22 });
    expectError(await as(primary).delete(`/v2/collaboration/roles/${ids.deployer}`), 409);
  });

  it('lets a member with CREATE on the category create environments the primary owns', async () => {
    const created = await as(member)
      .post('/v2/environments', { name: 'mine', ownerId: primary.id })
      .expect(201);
    ids.mine = created.body.data.id;
    expect(created.body.data).toMatchObject({ ownerId: primary.id, createdBy: member.id });
    await as(member).get(`/v2/environments/${ids.mine}`).expect(200);
    // The primary sees it and can do everything with it.
    const owned = await as(primary).get('/v2/environments').expect(200);
    expect(owned.body.data.items.map((e: { name: string }) => e.name)).toContain('mine');
    await act(primary, 'mine', 'start').expect(200);
    await act(primary, 'mine', 'migrate', { region: 'eu-west' }).expect(200);
    // It counts against the primary's usage and quota (caused by the member), not the member's.
    const usage = await as(primary).get('/v2/users/me/usage').expect(200);
    expect(usage.body.data.resources.ENVIRONMENT).toBe(4);
    expect(usage.body.data.byUser).toContainEqual(
      expect.objectContaining({ userId: member.id, resources: expect.objectContaining({ ENVIRONMENT: 1 }) }),
    );
    expect((await as(member).get('/v2/users/me/usage').expect(200)).body.data.resources.ENVIRONMENT).toBe(0);
    await as(primary)
      .put('/v2/users/me/limits', { resources: { ENVIRONMENT: 4 } })
      .expect(200);
    expectError(await as(member).post('/v2/environments', { name: 'over', ownerId: primary.id }), 402);
    await as(primary)
      .put('/v2/users/me/limits', { resources: { ENVIRONMENT: null } })
      .expect(200);
    // Not in the prod group (Operator has no CREATE), and not in an account that shares nothing.
    expectError(
      await as(member).post('/v2/environments', { name: 'mine2', ownerId: primary.id, groupId: ids.prod }),
      403,
    );
    expectError(await as(member).post('/v2/environments', { name: 'mine3', ownerId: other.id }), 403);
    // Cloning needs CLONE on the source (Operator on web has none).
    expectError(await act(member, 'web', 'clone', { name: 'web-mine' }), 403);
    const clone = await act(primary, 'web', 'clone', { name: 'web-copy' }).expect(200);
    expect(clone.body.data.clone).toMatchObject({
      name: 'web-copy',
      ownerId: primary.id,
      groupId: ids.prodEu,
    });
  });

  it("does not let the member touch the primary's roles, policies or members", async () => {
    await as(member)
      .put(`/v2/collaboration/roles/${ids.viewer}`, { policies: ['system-view', 'system-delete'] })
      .expect(404);
    await as(member).delete(`/v2/collaboration/roles/${ids.operator}`).expect(404);
    await as(member)
      .put(`/v2/collaboration/policies/${ids.operatePolicy}`, { permissions: ['DELETE'] })
      .expect(404);
    await as(member).get(`/v2/collaboration/members/${ids.member}`).expect(404);
    await as(member)
      .put(`/v2/collaboration/members/${ids.member}`, {
        shared: [{ category: 'ENVIRONMENTS', roleIds: [ids.deployer] }],
      })
      .expect(404);
    await as(member).post(`/v2/collaboration/members/${ids.member}/activate`).expect(404);
    expect((await as(member).get('/v2/collaboration/members').expect(200)).body.data.total).toBe(0);
    // A role of the primary cannot be shared by the member as its own.
    expectError(
      await as(member).post('/v2/collaboration/members', {
        email: `${other.username}@example.com`,
        shared: [{ category: 'ENVIRONMENTS', roleIds: [ids.deployer] }],
      }),
      400,
      'body.shared.0.roleIds.0',
    );
    // Still limited as before.
    await as(member).delete(`/v2/environments/${ids.db}`).expect(403);
  });

  it('hides everything from a suspended member and gives it back on activate', async () => {
    const suspended = await as(primary).post(`/v2/collaboration/members/${ids.member}/suspend`).expect(200);
    expect(suspended.body.data.status).toBe('SUSPENDED');
    for (const env of ['api', 'web', 'db', 'mine'])
      await as(member).get(`/v2/environments/${ids[env]}`).expect(404);
    await as(member).get(`/v2/environment-groups/${ids.prod}`).expect(404);
    expect(
      (await as(member).get('/v2/environments?ownership=sharedWithMe').expect(200)).body.data.items,
    ).toEqual([]);
    expectError(await as(member).post('/v2/environments', { name: 'sneaky', ownerId: primary.id }), 403);

    await as(primary).post(`/v2/collaboration/members/${ids.member}/activate`).expect(200);
    await as(member).get(`/v2/environments/${ids.api}`).expect(200);
    await act(member, 'web', 'restart').expect(200);
  });

  it('applies share edits at once', async () => {
    await as(primary)
      .put(`/v2/collaboration/members/${ids.member}`, {
        shared: [{ resourceId: ids.api, roleIds: [ids.deployer] }],
      })
      .expect(200);
    await as(member).get(`/v2/environments/${ids.db}`).expect(404);
    await as(member).get(`/v2/environments/${ids.web}`).expect(404);
    await as(member).get(`/v2/environments/${ids.api}`).expect(200);
    // Listing the primary's account shows only what is shared.
    const listed = await as(member).get('/v2/environments').set('X-Account-Id', primary.id).expect(200);
    expect(listed.body.data.items.map((e: { name: string }) => e.name)).toEqual(['api']);
    await as(primary)
      .put(`/v2/collaboration/members/${ids.member}`, {
        shared: [
          { category: 'ENVIRONMENTS', roleIds: [ids.viewer] },
          { groupId: ids.prod, roleIds: [ids.operator] },
          { resourceId: ids.api, roleIds: [ids.deployer] },
        ],
      })
      .expect(200);
    await as(member).get(`/v2/environments/${ids.mine}`).expect(200);
  });

  it('takes everything away from a member who leaves, including what it created', async () => {
    const left = await as(member).post(`/v2/collaborations/${ids.member}/leave`).expect(200);
    expect(left.body.data).toMatchObject({ status: 'LEFT', shared: [] });
    for (const env of ['api', 'web', 'db', 'mine'])
      await as(member).get(`/v2/environments/${ids[env]}`).expect(404);
    await act(member, 'mine', 'stop').expect(404);
    expectError(await as(member).post('/v2/environments', { name: 'again', ownerId: primary.id }), 403);
    // The primary still has it all.
    await act(primary, 'mine', 'stop').expect(200);
  });

  it('re-invites, and a removed member loses access on the next request with the record kept', async () => {
    const again = await as(primary).post(`/v2/collaboration/members/${ids.member}/reinvite`).expect(200);
    expect(again.body.data.status).toBe('PENDING');
    await as(member).get(`/v2/environments/${ids.api}`).expect(404);
    await as(member).post(`/v2/collaborations/${ids.member}/accept`).expect(200);
    await as(member).get(`/v2/environments/${ids.mine}`).expect(200);

    const removed = await as(primary).delete(`/v2/collaboration/members/${ids.member}`).expect(200);
    expect(removed.body.data.status).toBe('REMOVED');
    for (const env of ['api', 'web', 'db', 'mine'])
      await as(member).get(`/v2/environments/${ids[env]}`).expect(404);
    const kept = await as(primary).get(`/v2/collaboration/members/${ids.member}`).expect(200);
    expect(kept.body.data).toMatchObject({ status: 'REMOVED', email: `${member.username}@example.com` });
    const mine = await as(member).get('/v2/collaborations').expect(200);
    expect(mine.body.data.items).toEqual([
      expect.objectContaining({ id: ids.member, status: 'REMOVED', shared: [] }),
    ]);
    await as(member).post(`/v2/collaborations/${ids.member}/accept`).expect(409);
    // With no active member holding it any more, the role can go.
    await as(primary).delete(`/v2/collaboration/roles/${ids.deployer}`).expect(204);
  });

  it('binds an invitation for an unregistered email to the user who signs up with it, verifies it and accepts', async () => {
    const username = uniqueName('late');
    const invited = await as(primary)
      .post('/v2/collaboration/members', {
        email: `${username}@example.com`,
        shared: [{ resourceId: ids.db, roleIds: [ids.viewer] }],
      })
      .expect(201);
    expect(invited.body.data.userId).toBeNull();
    const late = await signUp(t, username);
    await as(late).get(`/v2/environments/${ids.db}`).expect(404);
    await as(other).post(`/v2/collaborations/${invited.body.data.id}/accept`).expect(404);
    // Signing up with the address is not enough: until verified, it is only a claim.
    await as(late).post(`/v2/collaborations/${invited.body.data.id}/accept`).expect(403);
    await verifyEmail(t, late);
    await as(late).post(`/v2/collaborations/${invited.body.data.id}/accept`).expect(200);
    await as(late).get(`/v2/environments/${ids.db}`).expect(200);
    await as(late).get(`/v2/environments/${ids.api}`).expect(404);
  });
});
