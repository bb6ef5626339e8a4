import { SignedUpUser, signUpEach, startTestStack, TestStack, verifyEmail } from './test-stack';

/**
 * Moves under delegated authority (security issue 12, hole 3): a collaboration member may move
 * an environment or a group only when it may take it out of where it is (DELETE on it there)
 * and create where it goes (CREATE), and never so that it ends up holding more on the moved
 * resource — or, for a group, on anything under it — than before. The primary moves freely.
 */
describe('moves in a collaboration give the mover no more than it had', () => {
  let t: TestStack;
  let primary: SignedUpUser;
  let member: SignedUpUser;
  let other: SignedUpUser;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestStack();
    [primary, member, other] = await signUpEach(t, 'primary', 'member', 'other');
  });
  afterAll(() => t.close());

  const as = (user: SignedUpUser) => ({
    get: (path: string) => t.http().get(path).set(user.auth),
    post: (path: string, body: object = {}) => t.http().post(path).set(user.auth).send(body),
    put: (path: string, body: object) => t.http().put(path).set(user.auth).send(body),
    delete: (path: string) => t.http().delete(path).set(user.auth),
  });
  const expectError = (
    res: { status: number; body: { error?: { type: string; message: string } } },
    status: number,
    text?: string,
  ) => {
    expect({ status: res.status, error: res.body.error }).toMatchObject({
      status,
      ...(text ? { error: { message: expect.stringContaining(text) } } : {}),
    });
  };
  const envOf = async (name: string) =>
    (await as(primary).get(`/v2/environments/${ids[name]}`).expect(200)).body.data;
  const groupOf = async (name: string) =>
    (await as(primary).get(`/v2/environment-groups/${ids[name]}`).expect(200)).body.data;

  it('sets up a primary whose groups share different roles with an active member', async () => {
    const role = async (name: string, policies: string[]) =>
      (await as(primary).post('/v2/collaboration/roles', { name, policies }).expect(201)).body.data
        .id as string;
    const configurer = await role('Configurer', ['system-view', 'system-configure']);
    const sandboxer = await role('Sandboxer', ['system-view', 'system-delete', 'system-create']);
    const developer = await role('Developer', [
      'system-view',
      'system-configure',
      'system-delete',
      'system-create',
    ]);
    const operator = await role('Operator', [
      'system-view',
      'system-configure',
      'system-delete',
      'system-create',
      'system-ssh',
    ]);
    const group = async (name: string, parentId?: string) =>
      (await as(primary).post('/v2/environment-groups', { name, parentId }).expect(201)).body.data
        .id as string;
    ids.prod = await group('prod');
    ids.team = await group('prod-team', ids.prod); // no share of its own: inherits prod's
    ids.sandbox = await group('sandbox');
    ids.devA = await group('dev-a');
    ids.devASub = await group('dev-a-sub', ids.devA);
    ids.devB = await group('dev-b');
    ids.ops = await group('ops');
    const env = async (name: string, groupId: string) =>
      (await as(primary).post('/v2/environments', { name, groupId }).expect(201)).body.data.id as string;
    ids.app = await env('app', ids.prod);
    ids.svc = await env('svc', ids.team);
    ids.tool = await env('tool', ids.devA);
    ids.box = await env('box', ids.ops);

    const invited = await as(primary)
      .post('/v2/collaboration/members', {
        email: `${member.username}@example.com`,
        shared: [
          { groupId: ids.prod, roleIds: [configurer] },
          { groupId: ids.sandbox, roleIds: [sandboxer] },
          { groupId: ids.devA, roleIds: [developer] },
          { groupId: ids.devB, roleIds: [developer] },
          { groupId: ids.ops, roleIds: [operator] },
        ],
      })
      .expect(201);
    await verifyEmail(t, member); // only a verified owner of the address answers it
    await as(member).post(`/v2/collaborations/${invited.body.data.id}/accept`).expect(200);
    await as(member).get(`/v2/environments/${ids.app}`).expect(200);
  });

  it('refuses to move an environment out of a group where the member may not delete it (the reported hole)', async () => {
    await as(member).delete(`/v2/environments/${ids.app}`).expect(403);
    expectError(
      await as(member).put(`/v2/environments/${ids.app}`, { groupId: ids.sandbox }),
      403,
      'body.groupId',
    );
    // A rename in the same request is refused with it: nothing is half-applied.
    expectError(
      await as(member).put(`/v2/environments/${ids.app}`, { name: 'app-renamed', groupId: ids.sandbox }),
      403,
      'DELETE',
    );
    expect(await envOf('app')).toMatchObject({ name: 'app', groupId: ids.prod });
    await as(member).delete(`/v2/environments/${ids.app}`).expect(403);
    // Renaming alone is CONFIGURE, which the member holds.
    await as(member).put(`/v2/environments/${ids.app}`, { name: 'app-2' }).expect(200);
    expect(await envOf('app')).toMatchObject({ name: 'app-2', groupId: ids.prod });
  });

  it('refuses to re-parent a group so that the member gains rights on it and on what it holds', async () => {
    await as(member).delete(`/v2/environments/${ids.svc}`).expect(403);
    expectError(
      await as(member).put(`/v2/environment-groups/${ids.team}`, { parentId: ids.sandbox }),
      403,
      'body.parentId',
    );
    expect(await groupOf('team')).toMatchObject({ parentId: ids.prod });
    await as(member).delete(`/v2/environments/${ids.svc}`).expect(403);
    await as(member).delete(`/v2/environment-groups/${ids.team}`).expect(403);
  });

  it('refuses a move that would give rights the member does not hold now, even where it may delete and create', async () => {
    // dev-a (Developer) → ops (Operator): SSH would come with it.
    expectError(await as(member).put(`/v2/environments/${ids.tool}`, { groupId: ids.ops }), 403, 'SSH');
    expect(await envOf('tool')).toMatchObject({ groupId: ids.devA });
    await as(member).post(`/v2/environments/${ids.tool}/actions/ssh`).expect(403);
    // The same for a group and everything under it.
    expectError(
      await as(member).put(`/v2/environment-groups/${ids.devASub}`, { parentId: ids.ops }),
      403,
      'SSH',
    );
    expect(await groupOf('devASub')).toMatchObject({ parentId: ids.devA });
  });

  it('lets the member move what it may delete to where it may create, when it gains nothing', async () => {
    await as(member).put(`/v2/environments/${ids.tool}`, { groupId: ids.devB }).expect(200);
    expect(await envOf('tool')).toMatchObject({ groupId: ids.devB });
    await as(member).put(`/v2/environments/${ids.tool}`, { groupId: ids.devA }).expect(200);
    // Giving up rights is no escalation: ops (Operator) → dev-b (Developer) loses SSH.
    await as(member).put(`/v2/environments/${ids.box}`, { groupId: ids.devB }).expect(200);
    expect(await envOf('box')).toMatchObject({ groupId: ids.devB });
    await as(member).put(`/v2/environment-groups/${ids.devASub}`, { parentId: ids.devB }).expect(200);
    expect(await groupOf('devASub')).toMatchObject({ parentId: ids.devB });
    // Not where the member may not create (prod: Configurer).
    expectError(await as(member).put(`/v2/environments/${ids.tool}`, { groupId: ids.prod }), 403);
    expect(await envOf('tool')).toMatchObject({ groupId: ids.devA });
  });

  it('answers bad targets with 400 naming the field, and changes nothing', async () => {
    const theirs = (await as(other).post('/v2/environment-groups', { name: 'theirs' }).expect(201)).body.data
      .id as string;
    for (const who of [member, primary]) {
      expectError(
        await as(who).put(`/v2/environments/${ids.tool}`, { groupId: theirs }),
        400,
        'body.groupId',
      );
      expectError(
        await as(who).put(`/v2/environments/${ids.tool}`, { groupId: 'not an id' }),
        400,
        'body.groupId',
      );
      expectError(
        await as(who).put(`/v2/environments/${ids.tool}`, { groupId: ids.app }),
        400,
        'body.groupId',
      );
    }
    expectError(
      await as(member).put(`/v2/environment-groups/${ids.devA}`, { parentId: ids.devA }),
      400,
      'body.parentId',
    );
    expect(await envOf('tool')).toMatchObject({ name: 'tool', groupId: ids.devA });
    expect(await groupOf('devA')).toMatchObject({ parentId: null });
  });

  it('answers a group the member cannot see as one that does not exist (no existence oracle)', async () => {
    const hidden = (await as(primary).post('/v2/environment-groups', { name: 'hidden' }).expect(201)).body
      .data.id as string;
    await as(member).get(`/v2/environment-groups/${hidden}`).expect(404);
    const unknown = 'AAAAAAAAAAAAAAAAA';
    for (const [path, field] of [
      [`/v2/environments/${ids.tool}`, 'groupId'],
      [`/v2/environment-groups/${ids.devASub}`, 'parentId'],
    ]) {
      const intoHidden = await as(member).put(path, { [field]: hidden });
      const intoUnknown = await as(member).put(path, { [field]: unknown });
      expectError(intoHidden, 400, `body.${field}`);
      expect(intoHidden.body.error.message.replace(hidden, unknown)).toBe(intoUnknown.body.error.message);
    }
    expect(await envOf('tool')).toMatchObject({ groupId: ids.devA });
  });

  it('lets the primary move anything anywhere', async () => {
    await as(primary).put(`/v2/environments/${ids.app}`, { groupId: ids.sandbox }).expect(200);
    await as(primary).put(`/v2/environment-groups/${ids.team}`, { parentId: ids.sandbox }).expect(200);
    expect(await envOf('app')).toMatchObject({ groupId: ids.sandbox });
    expect(await groupOf('team')).toMatchObject({ parentId: ids.sandbox });
    // Now the sandbox's share applies to them: the primary gave it.
    await as(member).delete(`/v2/environments/${ids.svc}`).expect(204);
  });
});
