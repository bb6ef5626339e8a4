import { createGatewayApp } from '@atrium/gateway';
import { uniqueName } from '@atrium/testing';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import {
  createDataset,
  createOrganization,
  joinOrganization,
  replicaGatewayConfig,
  restrictResourceAccess,
  SignedUpUser,
  signUp,
  signUpEach,
  startTestStack,
  TestStack,
} from './test-stack';

/** Two gateway replicas, each with its own decision cache, in front of the same services. */
describe('gateway decision cache', () => {
  let t: TestStack;
  let replica: NestFastifyApplication;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let datasetId: string;
  const second = () => request(replica.getHttpServer());

  /** Polls replica 2 until it answers `status`; returns how long that took. */
  async function until(status: number, send: () => request.Test, timeoutMs = 2000): Promise<number> {
    const started = Date.now();
    for (;;) {
      const res = await send();
      if (res.status === status) return Date.now() - started;
      if (Date.now() - started > timeoutMs)
        throw new Error(`still ${res.status} after ${timeoutMs} ms, wanted ${status}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  beforeAll(async () => {
    t = await startTestStack();
    replica = await createGatewayApp(replicaGatewayConfig());
    await replica.getHttpAdapter().getInstance().ready();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
    await restrictResourceAccess(t, alice);
    datasetId = await createDataset(t, alice, 'cached');
  });
  afterAll(async () => {
    await replica.close();
    await t.close();
  });

  const read = (user?: SignedUpUser) => () => {
    const req = second().get(`/v2/datasets/${datasetId}`);
    return user ? req.set(user.auth) : req;
  };

  it('drops a cached allow on every replica when the grant is revoked elsewhere', async () => {
    const grant = await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['READ'] })
      .expect(201);
    await read(bob)().expect(200); // now cached on replica 2
    await read(bob)().expect(200);
    await t
      .http()
      .delete(`/v2/datasets/${datasetId}/access/grants/${grant.body.data.id}`)
      .set(alice.auth)
      .expect(204);
    // Read-your-writes on the replica that made the change, and within 250 ms on the other.
    await t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth).expect(404);
    expect(await until(404, read(bob))).toBeLessThan(250);
  });

  it('drops cached decisions when general access changes, on the resource or on the account', async () => {
    await t
      .http()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ generalAccess: 'ANYONE_WITH_ID_CAN_READ' })
      .expect(200);
    await until(200, read());
    await t
      .http()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ generalAccess: 'FOLLOW_USER_SETTING' })
      .expect(200);
    expect(await until(404, read())).toBeLessThan(250);

    await t
      .http()
      .put('/v2/users/me/settings')
      .set(alice.auth)
      .send({ generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ' })
      .expect(200);
    await until(200, read());
    await restrictResourceAccess(t, alice);
    expect(await until(404, read())).toBeLessThan(250);
  });

  it('never keeps a cached decision past the grant expiresAt, with no event at all', async () => {
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({
        user: bob.username,
        permissions: ['READ'],
        expiresAt: new Date(Date.now() + 1200).toISOString(),
      })
      .expect(201);
    await read(bob)().expect(200);
    await new Promise((r) => setTimeout(r, 1300));
    await read(bob)().expect(404);
  });

  it('honours notBefore: a grant starts to apply at its time, on cached paths too', async () => {
    // Bob's grant from the test before has expired: a new one takes its place.
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({
        user: bob.username,
        permissions: ['READ', 'WRITE'],
        notBefore: new Date(Date.now() + 1000).toISOString(),
      })
      .expect(201);
    await read(bob)().expect(404);
    // The owner sees the scheduled grant (and so can revoke it) before it begins.
    const listed = await t.http().get(`/v2/datasets/${datasetId}/access`).set(alice.auth).expect(200);
    expect(
      listed.body.data.grants.find((g: { userId: string }) => g.userId === bob.id)?.notBefore,
    ).toBeTruthy();
    await new Promise((r) => setTimeout(r, 1100));
    await read(bob)().expect(200);
    await second().post(`/v2/datasets/${datasetId}/items`).set(bob.auth).send({ by: 'bob' }).expect(201);
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({
        user: uniqueName('nobody'),
        permissions: ['READ'],
        notBefore: new Date(Date.now() + 5000).toISOString(),
        expiresAt: new Date(Date.now() + 1000).toISOString(),
      })
      .expect((res) => expect([400, 404]).toContain(res.status));
  });

  it('a 403 cached before a WRITE grant starts gives way when it starts', async () => {
    const carol = await signUp(t, uniqueName('carol'));
    await t
      .http()
      .post(`/v2/datasets/${datasetId}/access/grants`)
      .set(alice.auth)
      .send({ user: carol.username, permissions: ['READ'] })
      .expect(201);
    await second().post(`/v2/datasets/${datasetId}/items`).set(carol.auth).send({ x: 1 }).expect(403);
    const grants = await t.http().get(`/v2/datasets/${datasetId}/access`).set(alice.auth).expect(200);
    const carols = grants.body.data.grants.find((g: { userId: string }) => g.userId === carol.id);
    await t
      .http()
      .put(`/v2/datasets/${datasetId}/access/grants/${carols.id}`)
      .set(alice.auth)
      .send({ permissions: ['WRITE'] })
      .expect(200);
    expect(
      await until(201, () => second().post(`/v2/datasets/${datasetId}/items`).set(carol.auth).send({ x: 2 })),
    ).toBeLessThan(250);
  });

  it('drops a cached API token when it is revoked, at once on the replica that revoked it', async () => {
    // Passport keeps one strategy per name per process, so in this single-process test both
    // gateways verify API tokens through the replica created last (the second); across processes
    // each replica has its own cache and the api-token.revoked event reaches every one.
    const token = (
      await t.http().post('/v2/users/me/tokens').set(bob.auth).send({ name: 'replicated' }).expect(201)
    ).body.data;
    const asToken = () => second().get('/v2/users/me').set('authorization', `Bearer ${token.token}`);
    await asToken().expect(200);
    await asToken().expect(200);
    await second().delete(`/v2/users/me/tokens/${token.id}`).set(bob.auth).expect(204);
    await asToken().expect(401);
    expect(
      await until(401, () => t.http().get('/v2/users/me').set('authorization', `Bearer ${token.token}`)),
    ).toBeLessThan(250);
  });

  it('applies a change of access made through a declared route before its response, on that replica', async () => {
    const id = (await t.http().post('/v2/datasets?name=declared').set(alice.auth).expect(201)).body.data.id;
    const anonymous = () => t.http().get(`/v2/datasets/${id}`);
    const generalAccess = (value: string) =>
      t.http().put(`/v2/datasets/${id}`).set(alice.auth).send({ generalAccess: value }).expect(200);
    const accountAccess = (value: string) =>
      t
        .http()
        .put('/v2/users/me/settings')
        .set(alice.auth)
        .send({ generalResourceAccess: value })
        .expect(200);
    // @ChangesAccess('resource'): the dataset's general access.
    await generalAccess('ANYONE_WITH_ID_CAN_READ');
    await anonymous().expect(200);
    await anonymous().expect(200); // served from the cache
    await generalAccess('FOLLOW_USER_SETTING');
    await anonymous().expect(404);
    // @ChangesAccess('account'): the account's.
    await accountAccess('ANYONE_WITH_ID_CAN_READ');
    await anonymous().expect(200);
    await anonymous().expect(200);
    await accountAccess('RESTRICTED');
    await anonymous().expect(404);
  });

  it('drops cached decisions when the resource is deleted', async () => {
    const id = (await t.http().post('/v2/datasets?name=short-lived').set(alice.auth).expect(201)).body.data
      .id;
    await second().get(`/v2/datasets/${id}`).set(alice.auth).expect(200);
    await t.http().delete(`/v2/datasets/${id}`).set(alice.auth).expect(204);
    expect(await until(404, () => second().get(`/v2/datasets/${id}`).set(alice.auth))).toBeLessThan(250);
  });

  it('drops every cached decision a membership gave when the role changes or the member is removed', async () => {
    const org = await createOrganization(t, alice);
    await t
      .http()
      .put(`/v2/organizations/${org.id}`)
      .set(alice.auth)
      .send({ settings: { generalResourceAccess: 'RESTRICTED' } })
      .expect(200);
    const role = org.roleId;
    await joinOrganization(t, alice, org.id, bob, role('Developer'));
    // Three datasets of the organization, each written by the member through replica 2 (cached).
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await t
        .http()
        .post('/v2/datasets')
        .set(alice.auth)
        .set('x-account-id', org.id)
        .expect(201);
      ids.push(created.body.data.id);
    }
    const write = (id: string) => () =>
      second().post(`/v2/datasets/${id}/items`).set(bob.auth).send({ x: 1 });
    for (const id of ids) {
      await write(id)().expect(201);
      await write(id)().expect(201);
    }
    // One role change on replica 1 reaches every one of those resources on replica 2.
    await t
      .http()
      .put(`/v2/organizations/${org.id}/members/${bob.id}`)
      .set(alice.auth)
      .send({ roleId: role('Read only') })
      .expect(200);
    for (const id of ids) expect(await until(403, write(id))).toBeLessThan(250);
    // Editing the role itself does too: Read only loses STORAGE READ.
    await second().get(`/v2/datasets/${ids[0]}`).set(bob.auth).expect(200);
    await t
      .http()
      .put(`/v2/organizations/${org.id}/roles/${role('Read only')}`)
      .set(alice.auth)
      .send({ permissions: { ACTOR: ['READ'] } })
      .expect(200);
    for (const id of ids)
      expect(await until(404, () => second().get(`/v2/datasets/${id}`).set(bob.auth))).toBeLessThan(250);
    // And removing the member.
    await t
      .http()
      .put(`/v2/organizations/${org.id}/members/${bob.id}`)
      .set(alice.auth)
      .send({ roleId: role('Developer') })
      .expect(200);
    await until(201, write(ids[1]));
    await t.http().delete(`/v2/organizations/${org.id}/members/${bob.id}`).set(alice.auth).expect(204);
    await t.http().get(`/v2/datasets/${ids[1]}`).set(bob.auth).expect(404);
    expect(await until(404, () => second().get(`/v2/datasets/${ids[1]}`).set(bob.auth))).toBeLessThan(250);
  });

  it('answers a burst of cache misses each with its own decision, and a revocation at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push((await t.http().post('/v2/datasets').set(alice.auth).expect(201)).body.data.id);
    const grants: string[] = [];
    for (const id of ids.slice(0, 3))
      grants.push(
        (
          await t
            .http()
            .post(`/v2/datasets/${id}/access/grants`)
            .set(alice.auth)
            .send({ user: bob.username, permissions: ['READ'] })
            .expect(201)
        ).body.data.id,
      );
    // More misses at once than the replica asks about separately: they go in batches.
    const burst = await Promise.all(
      ids.flatMap((id, i) => [
        second()
          .get(`/v2/datasets/${id}`)
          .set(bob.auth)
          .then((r) => [`bob ${i}`, r.status]),
        second()
          .get(`/v2/datasets/${id}`)
          .then((r) => [`anonymous ${i}`, r.status]),
        second()
          .get(`/v2/datasets/${id}`)
          .set(alice.auth)
          .then((r) => [`alice ${i}`, r.status]),
      ]),
    );
    expect(Object.fromEntries(burst)).toEqual(
      Object.fromEntries(
        ids.flatMap((_, i) => [
          [`bob ${i}`, i < 3 ? 200 : 404],
          [`anonymous ${i}`, 404],
          [`alice ${i}`, 200],
        ]),
      ),
    );
    // Revoked through replica 2: no read of the burst after its response is allowed.
    await second().delete(`/v2/datasets/${ids[0]}/access/grants/${grants[0]}`).set(alice.auth).expect(204);
    const after = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        second()
          .get(`/v2/datasets/${ids[i % 3]}`)
          .set(bob.auth),
      ),
    );
    expect(after.map((r) => r.status)).toEqual(
      Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 404 : 200)),
    );
  });

  it('a change about one resource leaves other cached decisions served; those that read it go (a run and its storage)', async () => {
    const create = async (path: string) => (await t.http().post(path).set(alice.auth).expect(201)).body.data;
    // All of a type's permissions: a decision a grant cannot widen, kept in the cache (one holding
    // less is kept only WIDENABLE_TTL_MS, 20 ms: see read-your-writes.e2e-spec.ts).
    const grant = async (path: string) =>
      (
        await t
          .http()
          .post(`${path}/access/grants`)
          .set(alice.auth)
          .send({ user: bob.username, permissions: ['READ', 'WRITE', 'MANAGE_ACCESS'] })
          .expect(201)
      ).body.data.id as string;
    const counter = async (name: string, label: string) => {
      const text = (await second().get('/metrics').expect(200)).text;
      return Number(new RegExp(`^${name}\\{${label}\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    };
    const hits = () => counter('atrium_access_decisions_total', 'source="cache"');
    const resourceChanges = () => counter('atrium_access_decision_invalidations_total', 'scope="resource"');

    const changing = (await create(`/v2/datasets?name=${uniqueName('changing')}`)).id as string;
    const steady = (await create(`/v2/datasets?name=${uniqueName('steady')}`)).id as string;
    const actorId = (
      await t
        .http()
        .post('/v2/acts')
        .set(alice.auth)
        .send({ name: uniqueName('act') })
        .expect(201)
    ).body.data.id as string;
    const run = (await t.http().post(`/v2/acts/${actorId}/runs`).set(alice.auth).expect(201)).body.data;
    await grant(`/v2/datasets/${steady}`);
    const runGrant = await grant(`/v2/actor-runs/${run.id}`);
    const readSteady = () => second().get(`/v2/datasets/${steady}`).set(bob.auth);
    const readRunDataset = () => second().get(`/v2/datasets/${run.defaultDatasetId}`).set(bob.auth);

    // A change of another dataset's grant leaves both served from the cache. (A flush of everything
    // from elsewhere — an earlier test's membership event arriving late — would hide it: then again.)
    const allChanges = () => counter('atrium_access_decision_invalidations_total', 'scope="all"');
    for (let attempt = 1; ; attempt++) {
      const changingGrant = await grant(`/v2/datasets/${changing}`);
      await readSteady().expect(200);
      await readRunDataset().expect(200);
      const [changesBefore, flushesBefore] = [await resourceChanges(), await allChanges()];
      await t
        .http()
        .delete(`/v2/datasets/${changing}/access/grants/${changingGrant}`)
        .set(alice.auth)
        .expect(204);
      for (const started = Date.now(); (await resourceChanges()) === changesBefore;) {
        if (Date.now() - started > 2000) throw new Error('replica 2 never heard of the change');
        await new Promise((r) => setTimeout(r, 10));
      }
      const hitsBefore = await hits();
      await readSteady().expect(200);
      await readRunDataset().expect(200);
      if ((await allChanges()) !== flushesBefore && attempt < 3) continue;
      // The dataset's decision is still served from the cache; the run storage's (READ only, derived
      // from the run) is one a change could widen, kept 20 ms, so it is asked again either way.
      expect((await hits()) - hitsBefore).toBe(1);
      break;
    }

    // Revoking the run's grant drops the decision on its storage, at once, with no event about the storage.
    await t.http().delete(`/v2/actor-runs/${run.id}/access/grants/${runGrant}`).set(alice.auth).expect(204);
    expect(await until(404, readRunDataset)).toBeLessThan(250);
    await readSteady().expect(200);
  });
});
