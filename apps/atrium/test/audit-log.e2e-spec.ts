import { eventually, uniqueName } from '@atrium/testing';
import {
  createDataset,
  createOrganization,
  joinOrganization,
  restrictResourceAccess,
  SignedUpUser,
  signUp,
  signUpEach,
  startTestStack,
  TestStack,
  verifyEmail,
} from './test-stack';

interface Entry {
  id: string;
  action: string;
  actorId: string | null;
  subjectId: string | null;
  resourceId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

describe('audit log', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let datasetId: string;
  const started = new Date().toISOString();

  const log = async (user: SignedUpUser, query = '') =>
    (await t.http().get(`/v2/audit-log${query}`).set(user.auth).expect(200)).body.data as {
      items: Entry[];
      nextCursor: string | null;
      count: number;
    };

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
    datasetId = await createDataset(t, alice, 'audited');
  });
  afterAll(() => t.close());

  it('records grants given, changed and revoked, with who, whom, before and after', async () => {
    const grant = (
      await t
        .http()
        .post(`/v2/datasets/${datasetId}/access/grants`)
        .set(alice.auth)
        .send({ user: bob.username, permissions: ['READ'] })
        .expect(201)
    ).body.data;
    await t
      .http()
      .put(`/v2/datasets/${datasetId}/access/grants/${grant.id}`)
      .set(alice.auth)
      .send({ permissions: ['WRITE'] })
      .expect(200);
    await t.http().delete(`/v2/datasets/${datasetId}/access/grants/${grant.id}`).set(alice.auth).expect(204);
    const { items } = await log(alice, `?resourceId=${datasetId}`);
    const grants = items.filter((e) => e.action.startsWith('grant.')).reverse();
    expect(grants.map((e) => e.action)).toEqual(['grant.created', 'grant.updated', 'grant.revoked']);
    for (const e of grants)
      expect(e).toMatchObject({ actorId: alice.id, subjectId: bob.id, resourceId: datasetId });
    expect(grants[0]).toMatchObject({ before: null, after: { permissions: ['READ'] } });
    expect(grants[1]).toMatchObject({ before: { permissions: ['READ'] }, after: { permissions: ['WRITE'] } });
    expect(grants[2]).toMatchObject({ before: { permissions: ['WRITE'] }, after: null });
  });

  it('records general access and account setting changes', async () => {
    await t
      .http()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ generalAccess: 'RESTRICTED' })
      .expect(200);
    await restrictResourceAccess(t, alice);
    await eventually(async () => {
      const { items } = await log(alice);
      expect(items).toContainEqual(
        expect.objectContaining({
          action: 'general-access.changed',
          resourceId: datasetId,
          after: { generalAccess: 'RESTRICTED', isPublic: false },
        }),
      );
      expect(items).toContainEqual(
        expect.objectContaining({
          action: 'account-settings.changed',
          actorId: alice.id,
          before: expect.objectContaining({ generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ' }),
          after: expect.objectContaining({ generalResourceAccess: 'RESTRICTED' }),
        }),
      );
    });
  });

  it('records API tokens issued and revoked', async () => {
    const token = (await t.http().post('/v2/users/me/tokens').set(bob.auth).send({ name: 'ci' }).expect(201))
      .body.data;
    await t.http().delete(`/v2/users/me/tokens/${token.id}`).set(bob.auth).expect(204);
    await eventually(async () => {
      const actions = (await log(bob)).items.map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['token.created', 'token.revoked']));
    });
    const created = (await log(bob)).items.find((e) => e.action === 'token.created')!;
    expect(created.after).toMatchObject({ tokenId: token.id, name: 'ci' });
    expect(JSON.stringify(created)).not.toContain(token.token);
  });

  it('records memberships and their role changes in the organization log, for those who manage it', async () => {
    const org = await createOrganization(t, alice);
    await joinOrganization(t, alice, org.id, bob, org.roleId('Read only'));
    await t
      .http()
      .put(`/v2/organizations/${org.id}/members/${bob.id}`)
      .set(alice.auth)
      .send({ roleId: org.roleId('Developer') })
      .expect(200);
    await eventually(async () => {
      const entries = (await log(alice, `?accountId=${org.id}`)).items.filter(
        (e) => e.action === 'membership.changed' && e.subjectId === bob.id,
      );
      expect(entries.map((e) => e.after?.role)).toEqual(['Developer', 'Read only']);
      expect(entries[0].before).toMatchObject({ role: 'Read only', active: true });
      expect(entries[1].before).toBeNull();
    });
    // A member without MANAGE_ORGANIZATION may not read it; a stranger does not learn it exists.
    await t.http().get(`/v2/audit-log?accountId=${org.id}`).set(bob.auth).expect(403);
    const stranger = await signUp(t, uniqueName('eve'));
    await t.http().get(`/v2/audit-log?accountId=${org.id}`).set(stranger.auth).expect(404);
  });

  it('records a role edit for each of its members, and collaboration memberships', async () => {
    const org = await createOrganization(t, alice);
    const custom = await t
      .http()
      .post(`/v2/organizations/${org.id}/roles`)
      .set(alice.auth)
      .send({ name: 'Auditor', permissions: { STORAGE: ['READ'] } })
      .expect(201);
    await joinOrganization(t, alice, org.id, bob, custom.body.data.id);
    await t
      .http()
      .put(`/v2/organizations/${org.id}/roles/${custom.body.data.id}`)
      .set(alice.auth)
      .send({ permissions: { STORAGE: ['READ', 'WRITE'] } })
      .expect(200);
    await eventually(async () => {
      const [edited] = (await log(alice, `?accountId=${org.id}`)).items.filter(
        (e) => e.action === 'membership.changed' && e.subjectId === bob.id,
      );
      expect(edited.before).toMatchObject({ role: 'Auditor' });
      expect(edited.after).toMatchObject({ role: 'Auditor' });
      expect(edited.actorId).toBe(alice.id);
      expect(JSON.stringify(edited.before?.bindings)).not.toContain('WRITE');
      expect(JSON.stringify(edited.after?.bindings)).toContain('WRITE');
    });

    // Account collaboration: alice is the primary, bob a member, once he accepts.
    const viewer = await t
      .http()
      .post('/v2/collaboration/roles')
      .set(alice.auth)
      .send({ name: 'Viewer', policies: ['system-view'] })
      .expect(201);
    const member = await t
      .http()
      .post('/v2/collaboration/members')
      .set(alice.auth)
      .send({
        email: `${bob.username}@example.com`,
        shared: [{ category: 'ENVIRONMENTS', roleIds: [viewer.body.data.id] }],
      })
      .expect(201);
    await verifyEmail(t, bob); // only a verified owner of the address answers it
    await t.http().post(`/v2/collaborations/${member.body.data.id}/accept`).set(bob.auth).expect(200);
    await t
      .http()
      .post(`/v2/collaboration/members/${member.body.data.id}/suspend`)
      .set(alice.auth)
      .expect(200);
    await eventually(async () => {
      const changes = (await log(alice, `?accountId=${alice.id}`)).items.filter(
        (e) => e.action === 'membership.changed' && e.subjectId === bob.id,
      );
      // Newest first: accepted, then suspended (an invitation to an address binds nobody until
      // a verified owner of it accepts, so the invitation itself is no membership of bob's).
      expect(changes.map((e) => [e.after?.kind, e.after?.active])).toEqual([
        ['COLLABORATION', false],
        ['COLLABORATION', true],
      ]);
      expect(changes[0].before).toMatchObject({ kind: 'COLLABORATION', active: true });
      expect(changes[1].before).toBeNull();
      expect(changes.map((e) => e.actorId)).toEqual([alice.id, bob.id]);
    });
  });

  it('names who changed general access and memberships', async () => {
    const restricted = (
      await t
        .http()
        .post(`/v2/datasets?name=${uniqueName('ds')}`)
        .set(alice.auth)
        .expect(201)
    ).body.data.id;
    await t
      .http()
      .put(`/v2/datasets/${restricted}`)
      .set(alice.auth)
      .send({ generalAccess: 'RESTRICTED' })
      .expect(200);
    const actorId = (
      await t
        .http()
        .post('/v2/acts')
        .set(alice.auth)
        .send({ name: uniqueName('act') })
        .expect(201)
    ).body.data.id;
    await t.http().put(`/v2/acts/${actorId}`).set(alice.auth).send({ isPublic: true }).expect(200);

    const org = await createOrganization(t, alice);
    await joinOrganization(t, alice, org.id, bob, org.roleId('Read only'));
    await t
      .http()
      .put(`/v2/organizations/${org.id}/members/${bob.id}`)
      .set(alice.auth)
      .send({ roleId: org.roleId('Developer') })
      .expect(200);
    await t.http().delete(`/v2/organizations/${org.id}/members/${bob.id}`).set(alice.auth).expect(204);

    await eventually(async () => {
      const { items } = await log(alice);
      for (const resourceId of [restricted, actorId])
        expect(items).toContainEqual(
          expect.objectContaining({ action: 'general-access.changed', resourceId, actorId: alice.id }),
        );
      const memberships = (await log(alice, `?accountId=${org.id}`)).items.filter(
        (e) => e.action === 'membership.changed' && e.subjectId === bob.id,
      );
      // Newest first: removed, role edited, joined (bob accepted the invitation himself).
      expect(memberships.map((e) => [e.after?.active, e.actorId])).toEqual([
        [false, alice.id],
        [true, alice.id],
        [true, bob.id],
      ]);
      expect(memberships[1].after).toMatchObject({ role: 'Developer' });
    });
    // Once each, though both the event and the gateway's re-read apply the change.
    await new Promise((r) => setTimeout(r, 500));
    const { items } = await log(alice);
    for (const resourceId of [restricted, actorId])
      expect(
        items.filter((e) => e.action === 'general-access.changed' && e.resourceId === resourceId),
      ).toHaveLength(1);
  });

  it('records every denial, off the request path', async () => {
    await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(404);
    await t.http().get(`/v2/datasets/${datasetId}`).expect(404);
    await eventually(async () => {
      const denials = (await log(alice, `?resourceId=${datasetId}`)).items.filter(
        (e) => e.action === 'access.denied',
      );
      expect(denials.map((e) => e.actorId)).toEqual(expect.arrayContaining([bob.id, null]));
      expect(denials[0].after).toMatchObject({ permission: 'READ' });
    });
  });

  it('pages with a cursor and filters by time; only owners and managers may read', async () => {
    const first = await log(alice, '?limit=2');
    expect(first.count).toBe(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await log(alice, `?limit=2&cursor=${first.nextCursor}`);
    expect(
      second.items[0].id < first.items[1].id || Number(second.items[0].id) < Number(first.items[1].id),
    ).toBe(true);
    expect(
      (await log(alice, `?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).count,
    ).toBe(0);
    expect((await log(alice, `?from=${encodeURIComponent(started)}`)).count).toBeGreaterThan(0);

    // Another user's account is no organization bob belongs to: nothing to reveal.
    await t.http().get(`/v2/audit-log?accountId=${alice.id}`).set(bob.auth).expect(404);
    await t.http().get(`/v2/audit-log?resourceId=${datasetId}`).set(bob.auth).expect(404);
    await t.http().get('/v2/audit-log').expect(401);
    await t.http().get('/v2/audit-log?cursor=abc').set(alice.auth).expect(400);
    expect((await log(bob)).items.every((e) => e.action !== 'grant.created')).toBe(true);
  });
});
