import { newId } from '@atrium/auth';
import { uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import {
  restrictResourceAccess,
  SignedUpUser,
  signUp,
  startListeningTestStack,
  TestStack,
} from './test-stack';

/**
 * A run's storages and log through apify-client's `run(id)` and `lastRun()` sub-clients (issue
 * 13, part 3): `/v2/actor-runs/:runId/{dataset,key-value-store,request-queue,log}[/…]` and the same
 * under `/v2/acts|actors/:actorId/runs/last` and `/v2/actor-tasks/:taskId/runs/last`, each
 * authorized as the storage it resolves to. And a run's default storages follow the run's general
 * access, so restricting the run restricts what it produced.
 */
describe('apify-client: a run’s storages and log, by run id and as the last run', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let dave: SignedUpUser;
  let baseUrl: string;
  let actorId: string;
  let taskId: string;
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });
  const setRun = (runId: string, body: Record<string, unknown>) =>
    t.http().put(`/v2/actor-runs/${runId}`).set(alice.auth).send(body).expect(200);

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob, dave] = await Promise.all(['alice', 'bob', 'dave'].map((n) => signUp(t, uniqueName(n))));
    const owner = client(alice.accessToken);
    actorId = (await owner.actors().create({ name: uniqueName('act') })).id;
    taskId = (
      await owner.tasks().create({ actId: actorId, name: uniqueName('task'), input: { from: 'task' } })
    ).id;
  });
  afterAll(() => t.close());

  it('reads and writes the run’s default dataset, store and queue, and its log, through run(id)', async () => {
    const owner = client(alice.accessToken);
    const started = await owner.actor(actorId).start({ q: 1 });
    const run = owner.run(started.id);

    expect((await run.dataset().get())?.id).toBe(started.defaultDatasetId);
    await run.dataset().pushItems([{ a: 1 }, { a: 2 }]);
    await run.dataset().pushItems({ a: 3 });
    expect((await run.dataset().listItems({ desc: true, limit: 2 })).items).toEqual([{ a: 3 }, { a: 2 }]);
    expect((await run.dataset().getStatistics())?.fieldStatistics?.a).toMatchObject({ min: 1, max: 3 });
    // The same dataset by its own id.
    expect((await owner.dataset(started.defaultDatasetId).listItems()).total).toBe(3);
    const csv = await run.dataset().downloadItems('csv' as never);
    expect(csv.toString()).toBe('\uFEFFa\n1\n2\n3\n'); // with Apify's default BOM

    const store = run.keyValueStore();
    expect((await store.get())?.id).toBe(started.defaultKeyValueStoreId);
    expect((await store.getRecord('INPUT'))?.value).toEqual({ q: 1 });
    await store.setRecord({ key: 'OUTPUT', value: { ok: true } });
    // A large JSON value (apify-client gzips it) and raw bytes keep their content.
    const big = { text: 'x'.repeat(200_000) };
    await store.setRecord({ key: 'BIG', value: big });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    await store.setRecord({ key: 'shot', value: png as never, contentType: 'image/png' });
    expect((await store.getRecord('OUTPUT'))?.value).toEqual({ ok: true });
    expect((await store.getRecord('BIG'))?.value).toEqual(big);
    const shot = await store.getRecord('shot', { buffer: true });
    expect(shot?.contentType).toBe('image/png');
    expect(Buffer.compare(shot!.value as Buffer, png)).toBe(0);
    expect(await store.recordExists('OUTPUT')).toBe(true);
    expect((await store.listKeys()).items.map((k) => k.key).sort()).toEqual([
      'BIG',
      'INPUT',
      'OUTPUT',
      'shot',
    ]);
    await store.deleteRecord('BIG');
    expect(await store.recordExists('BIG')).toBe(false);
    expect((await owner.keyValueStore(started.defaultKeyValueStoreId).getRecord('OUTPUT'))?.value).toEqual({
      ok: true,
    });

    const queue = run.requestQueue();
    expect((await queue.get())?.id).toBe(started.defaultRequestQueueId);
    const added = await queue.addRequest({ url: 'https://example.com/a', uniqueKey: 'a' });
    await queue.batchAddRequests([{ url: 'https://example.com/b', uniqueKey: 'b' }]);
    expect((await queue.listHead()).items.map((r) => r.uniqueKey)).toEqual(['a', 'b']);
    const locked = await queue.listAndLockHead({ lockSecs: 60, limit: 1 });
    expect(locked.items.map((r) => r.uniqueKey)).toEqual(['a']);
    // (A lock taken without a clientKey has no holder to release it: the sub-client sends none.)
    expect((await queue.getRequest(added.requestId))?.url).toBe('https://example.com/a');
    expect((await queue.listRequests()).items).toHaveLength(2);

    // A pre-signed link signed through the run's sub-client opens the items for anyone holding it,
    // by the run's path too. (apify-client 2.25 builds a sub-client's public URL without the run's
    // path — `…/v2/dataset/items?signature=` — so the signature is taken from it.)
    await setRun(started.id, { generalAccess: 'RESTRICTED' }); // else anyone with the id reads it
    expect((await fetch(`${baseUrl}/v2/actor-runs/${started.id}/dataset/items`)).status).toBe(404);
    const signature = new URL(await run.dataset().createItemsPublicUrl()).searchParams.get('signature');
    for (const path of [`actor-runs/${started.id}/dataset`, `datasets/${started.defaultDatasetId}`]) {
      const anonymous = await fetch(`${baseUrl}/v2/${path}/items?signature=${signature}`);
      expect(anonymous.status).toBe(200);
      expect(await anonymous.json()).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    }
    const tampered = await fetch(
      `${baseUrl}/v2/actor-runs/${started.id}/dataset/items?signature=x${signature}`,
    );
    const unknownRun = await fetch(
      `${baseUrl}/v2/actor-runs/${newId()}/dataset/items?signature=${signature}`,
    );
    expect([tampered.status, unknownRun.status]).toEqual([403, 403]);
    expect(await unknownRun.text()).toBe(await tampered.text());

    await setRun(started.id, { status: 'RUNNING' });
    expect(await run.log().get()).toContain('RUNNING');
  });

  it('serves the same under lastRun() of an Actor and of a task (by status), including abort and update', async () => {
    const owner = client(alice.accessToken);
    const fromTask = await owner.task(taskId).start();
    await owner
      .run(fromTask.id)
      .dataset()
      .pushItems([{ by: 'task' }]);
    await setRun(fromTask.id, { status: 'RUNNING' });
    await setRun(fromTask.id, { status: 'SUCCEEDED' });
    const newer = await owner.actor(actorId).start({ q: 2 });

    expect((await owner.actor(actorId).lastRun().get())?.id).toBe(newer.id);
    expect((await owner.actor(actorId).lastRun().keyValueStore().getRecord('INPUT'))?.value).toEqual({
      q: 2,
    });
    const succeeded = owner.actor(actorId).lastRun({ status: 'SUCCEEDED' });
    expect((await succeeded.dataset().listItems()).items).toEqual([{ by: 'task' }]);
    const ofTask = owner.task(taskId).lastRun({ status: 'SUCCEEDED' });
    expect((await ofTask.keyValueStore().getRecord('INPUT'))?.value).toEqual({ from: 'task' });
    await ofTask.keyValueStore().setRecord({ key: 'OUTPUT', value: 'done', contentType: 'text/plain' });
    expect((await owner.keyValueStore(fromTask.defaultKeyValueStoreId).getRecord('OUTPUT'))?.value).toBe(
      'done',
    );
    await ofTask.requestQueue().addRequest({ url: 'https://example.com/t', uniqueKey: 't' });
    expect((await owner.requestQueue(fromTask.defaultRequestQueueId).listHead()).items).toHaveLength(1);
    expect(await ofTask.log().get()).toContain('SUCCEEDED');
    // No run of that status: undefined, as for an unknown run.
    expect(await owner.task(taskId).lastRun({ status: 'FAILED' }).dataset().get()).toBeUndefined();
    expect(await owner.actor(actorId).lastRun({ status: 'TIMED-OUT' }).log().get()).toBeUndefined();

    // The run itself: update and abort through lastRun().
    const last = owner.actor(actorId).lastRun();
    expect((await last.update({ statusMessage: 'half way' } as never)).statusMessage).toBe('half way');
    expect((await last.abort()).status).toBe('ABORTED');
    expect((await owner.run(newer.id).get())?.status).toBe('ABORTED');
    expect((await owner.actor(actorId).lastRun({ status: 'ABORTED' }).get())?.id).toBe(newer.id);

    // A bad status names the field.
    const bad = await t.http().get(`/v2/acts/${actorId}/runs/last/dataset/items?status=DONE`).set(alice.auth);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('status');
  });

  it('answers a caller who may not read the storage as for an unknown run, and a READ grantee may read but not write', async () => {
    const owner = client(alice.accessToken);
    const started = await owner.actor(actorId).start({ secret: 1 });
    await owner
      .run(started.id)
      .dataset()
      .pushItems([{ n: 1 }]);
    await owner.run(started.id).requestQueue().addRequest({ url: 'https://example.com/', uniqueKey: 'x' });
    // Restricting the run restricts its storages, whatever the account's setting (ANYONE_WITH_ID_CAN_READ).
    await setRun(started.id, { generalAccess: 'RESTRICTED' });

    const checks = (c: ApifyClient, runId: string) => {
      const run = c.run(runId);
      return {
        getDataset: run.dataset().get(),
        listItems: run.dataset().listItems(),
        pushItems: run.dataset().pushItems([{ pwned: true }]),
        getStore: run.keyValueStore().get(),
        getRecord: run.keyValueStore().getRecord('INPUT'),
        setRecord: run.keyValueStore().setRecord({ key: 'pwned', value: 1 }),
        deleteRecord: run.keyValueStore().deleteRecord('INPUT'),
        listHead: run.requestQueue().listHead(),
        addRequest: run.requestQueue().addRequest({ url: 'https://evil.example/', uniqueKey: 'evil' }),
        log: run.log().get(),
      };
    };
    const settle = async (calls: Record<string, Promise<unknown>>) =>
      Object.fromEntries(
        await Promise.all(
          Object.entries(calls).map(async ([k, p]) => [
            k,
            await p.then(
              (v) => (v === undefined ? 'undefined' : 'ok'),
              (err: { statusCode?: number }) => err.statusCode,
            ),
          ]),
        ),
      );

    // Bob: nothing, exactly as for a run id that does not exist.
    const expectedNone = {
      getDataset: 'undefined',
      listItems: 404,
      pushItems: 404,
      getStore: 'undefined',
      getRecord: 'undefined',
      setRecord: 404,
      deleteRecord: 404,
      listHead: 404,
      addRequest: 404,
      log: 'undefined',
    };
    expect(await settle(checks(client(bob.accessToken), started.id))).toEqual(expectedNone);
    expect(await settle(checks(client(bob.accessToken), newId()))).toEqual(expectedNone);
    expect(await settle(checks(client(), started.id))).toEqual(expectedNone);
    for (const path of ['dataset/items', 'key-value-store/records/INPUT', 'request-queue/head', 'log']) {
      const forbidden = await t.http().get(`/v2/actor-runs/${started.id}/${path}`).set(bob.auth);
      const unknown = await t.http().get(`/v2/actor-runs/${newId()}/${path}`).set(bob.auth);
      expect([forbidden.status, forbidden.text]).toEqual([unknown.status, unknown.text]);
      expect(forbidden.status).toBe(404);
      expect(forbidden.headers.location).toBeUndefined();
      expect(forbidden.text).not.toContain(started.defaultDatasetId);
    }
    // Bob's lastRun() of alice's Actor is his own (none), and he cannot read the Actor anyway.
    expect(await client(bob.accessToken).actor(actorId).lastRun().dataset().get()).toBeUndefined();

    // Dave, with READ on the run: reads all of it, writes nothing (403: he may read it).
    await t
      .http()
      .post(`/v2/actor-runs/${started.id}/access/grants`)
      .set(alice.auth)
      .send({ user: dave.username, permissions: ['READ'] })
      .expect(201);
    expect(await settle(checks(client(dave.accessToken), started.id))).toEqual({
      getDataset: 'ok',
      listItems: 'ok',
      pushItems: 403,
      getStore: 'ok',
      getRecord: 'ok',
      setRecord: 403,
      deleteRecord: 403,
      listHead: 'ok',
      addRequest: 403,
      log: 'ok',
    });
    expect((await client(dave.accessToken).run(started.id).dataset().listItems()).items).toEqual([{ n: 1 }]);
    // Nothing was written by the refused calls.
    expect((await owner.run(started.id).dataset().listItems()).items).toEqual([{ n: 1 }]);
    expect((await owner.run(started.id).keyValueStore().getRecord('INPUT'))?.value).toEqual({ secret: 1 });
    expect((await owner.run(started.id).requestQueue().listHead()).items).toHaveLength(1);
  });

  it("a run's default storages follow the run's general access, and the run the account's", async () => {
    const owner = client(alice.accessToken);
    const started = await owner.actor(actorId).start();
    const dataset = `/v2/datasets/${started.defaultDatasetId}`;
    const asBob = () => t.http().get(dataset).set(bob.auth);
    // Alice's account: ANYONE_WITH_ID_CAN_READ (the deployment default); the run follows it.
    expect((await asBob()).status).toBe(200);
    await setRun(started.id, { generalAccess: 'RESTRICTED' });
    expect((await asBob()).status).toBe(404);
    expect((await t.http().get(`/v2/actor-runs/${started.id}/dataset`).set(bob.auth)).status).toBe(404);
    const explained = await t
      .http()
      .get(`/v2/access/explain?resourceId=${started.defaultDatasetId}&permission=READ&userId=${bob.id}`)
      .set(alice.auth)
      .expect(200);
    const general = explained.body.data.checked.find((c: { rule: string }) => c.rule === 'general-access');
    expect(general.detail).toContain(`run ${started.id}`);
    expect(general.detail).toContain('RESTRICTED');

    // The account restricted, the run opened: the run's storages open with it.
    await restrictResourceAccess(t, alice);
    await setRun(started.id, { generalAccess: 'FOLLOW_USER_SETTING' });
    expect((await asBob()).status).toBe(404);
    await setRun(started.id, { generalAccess: 'ANYONE_WITH_ID_CAN_READ' });
    expect((await asBob()).status).toBe(200);
    expect((await client(bob.accessToken).run(started.id).dataset().listItems()).items).toEqual([]);
    // A storage's own setting still wins over the run's.
    await t.http().put(dataset).set(alice.auth).send({ generalAccess: 'RESTRICTED' }).expect(200);
    const own = await t
      .http()
      .get(`/v2/access/explain?resourceId=${started.defaultDatasetId}&permission=READ&userId=${bob.id}`)
      .set(alice.auth)
      .expect(200);
    expect(own.body.data.checked.find((c: { rule: string }) => c.rule === 'general-access').detail).toContain(
      'its own setting RESTRICTED',
    );
  });

  it('builds take a settable generalAccess, as runs: MANAGE_ACCESS to change it, followed at once', async () => {
    const http = () => t.http();
    const actor = await http()
      .post('/v2/acts')
      .set(alice.auth)
      .send({
        name: uniqueName('built'),
        versions: [{ versionNumber: '0.1', sourceType: 'SOURCE_FILES', buildTag: 'latest', sourceFiles: [] }],
      })
      .expect(201);
    const build = (
      await http().post(`/v2/acts/${actor.body.data.id}/builds?version=0.1`).set(alice.auth).expect(201)
    ).body.data;
    expect(build.generalAccess).toBe('FOLLOW_USER_SETTING');
    const path = `/v2/actor-builds/${build.id}`;
    // Alice's account is restricted (previous test): the build follows it.
    expect((await http().get(path).set(bob.auth)).status).toBe(404);
    const opened = await http()
      .put(path)
      .set(alice.auth)
      .send({ generalAccess: 'ANYONE_WITH_ID_CAN_READ' })
      .expect(200);
    expect(opened.body.data.generalAccess).toBe('ANYONE_WITH_ID_CAN_READ');
    expect((await http().get(path).set(bob.auth)).body.data.generalAccess).toBe('ANYONE_WITH_ID_CAN_READ');
    expect((await http().get(path)).status).toBe(200);
    // A reader may not change it (403), nor a writer without MANAGE_ACCESS.
    expect((await http().put(path).set(bob.auth).send({ generalAccess: 'RESTRICTED' })).status).toBe(403);
    await http()
      .post(`${path}/access/grants`)
      .set(alice.auth)
      .send({ user: dave.username, permissions: ['READ', 'WRITE'] })
      .expect(201);
    const refused = await http().put(path).set(dave.auth).send({ generalAccess: 'RESTRICTED' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('MANAGE_ACCESS');
    expect((await http().put(path).set(dave.auth).send({ generalAccess: 'SHARED' })).status).toBe(400);
    await http().put(path).set(alice.auth).send({ generalAccess: 'RESTRICTED' }).expect(200);
    expect((await http().get(path).set(bob.auth)).status).toBe(404);
    expect(await client(bob.accessToken).build(build.id).get()).toBeUndefined();
  });
});
