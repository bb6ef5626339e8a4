import { uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import {
  restrictResourceAccess,
  SignedUpUser,
  signUp,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from './test-stack';

type Started = {
  id: string;
  runToken: string;
  defaultDatasetId: string;
  defaultKeyValueStoreId: string;
  defaultRequestQueueId: string;
};

/**
 * The rest of RunClient, RunCollectionClient and LogClient through apify-client (issue 13, part 4):
 * delete (with its default storages), resurrect, the status message a run sets with its token,
 * status and time filters, the log streamed while the run goes on, and what Atrium cannot do
 * (reboot, metamorph, charge) refused in Apify's error shape after authorization.
 */
describe('apify-client run lifecycle against Atrium', () => {
  let t: TestStack;
  let baseUrl: string;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let dave: SignedUpUser;
  let actorId: string;
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });
  const owner = () => client(alice.accessToken);
  const start = async (options: { memory?: number } = {}) =>
    (await owner().actor(actorId).start({ n: 1 }, options)) as unknown as Started;
  const setStatus = (runId: string, status: string) =>
    t.http().put(`/v2/actor-runs/${runId}`).set(alice.auth).send({ status }).expect(200);
  const finish = async (runId: string, status = 'SUCCEEDED') => {
    await setStatus(runId, 'RUNNING');
    await setStatus(runId, status);
  };
  const apiError = async (call: Promise<unknown>) => {
    try {
      await call;
    } catch (err) {
      const { statusCode, type, message } = err as { statusCode: number; type: string; message: string };
      return { statusCode, type, message };
    }
    throw new Error('expected the call to fail');
  };
  const grantRead = (runId: string, user: SignedUpUser) =>
    t
      .http()
      .post(`/v2/actor-runs/${runId}/access/grants`)
      .set(alice.auth)
      .send({ user: user.username, permissions: ['READ'] })
      .expect(201);
  const runTimeSecs = async () =>
    (await t.http().get('/v2/users/me/usage').set(alice.auth).expect(200)).body.data.runTimeSecs as number;

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob, dave] = await signUpEach(t, 'alice', 'bob', 'dave');
    actorId = (
      await owner()
        .actors()
        .create({ name: uniqueName('act') })
    ).id;
    // Alice's runs are not readable by link: a stranger is a stranger (404), not a link reader.
    await restrictResourceAccess(t, alice);
  });
  afterAll(() => t.close());

  it('lets a run set its status message with its own token (ApifyClient.setStatusMessage), terminal or not', async () => {
    const run = await start();
    process.env.ACTOR_RUN_ID = run.id;
    try {
      await client(run.runToken).setStatusMessage('Crawling 3 of 10');
      expect(await owner().run(run.id).get()).toMatchObject({ statusMessage: 'Crawling 3 of 10' });
      await client(run.runToken).setStatusMessage('Done', { isStatusMessageTerminal: true, level: 'INFO' });
      expect(await owner().run(run.id).get()).toMatchObject({
        statusMessage: 'Done',
        isStatusMessageTerminal: true,
      });
      // Another user's token cannot, nor can a run token of another run.
      expect(await apiError(client(bob.accessToken).setStatusMessage('mine'))).toMatchObject({
        statusCode: 404,
      });
      const other = await start();
      expect(await apiError(client(other.runToken).setStatusMessage('mine'))).toMatchObject({
        statusCode: 404,
      });
    } finally {
      delete process.env.ACTOR_RUN_ID;
    }
    const bad = await t
      .http()
      .put(`/v2/actor-runs/${run.id}`)
      .set(alice.auth)
      .send({ isStatusMessageTerminal: 'yes' })
      .expect(400);
    expect(bad.body.error.message).toContain('body.isStatusMessageTerminal');
  });

  it('lists runs by one or several statuses and by start time (RunCollectionClient.list), and runs/last by status', async () => {
    const other = await signUp(t, uniqueName('lister'));
    const mine = client(other.accessToken);
    const act = await mine.actors().create({ name: uniqueName('listed') });
    const ready = await mine.actor(act.id).start();
    const succeeded = await mine.actor(act.id).start();
    const middle = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const aborted = await mine.actor(act.id).start();
    await mine.run(succeeded.id).update({ status: 'RUNNING' } as never);
    await mine.run(succeeded.id).update({ status: 'SUCCEEDED' } as never);
    await mine.run(aborted.id).abort();
    const ids = async (options: Parameters<ReturnType<ApifyClient['runs']>['list']>[0]) =>
      (await mine.runs().list(options)).items.map((r) => r.id);

    expect(await ids({ status: 'READY' })).toEqual([ready.id]);
    expect(await ids({ status: ['SUCCEEDED', 'ABORTED'] as never })).toEqual([succeeded.id, aborted.id]);
    expect(await ids({ startedAfter: middle })).toEqual([aborted.id]);
    expect(await ids({ startedBefore: middle, desc: true })).toEqual([succeeded.id, ready.id]);
    // Both bounds are inclusive (Apify's API reference): a run started at the bound is listed.
    const at = new Date((await mine.run(aborted.id).get())!.startedAt);
    expect(await ids({ startedAfter: at })).toEqual([aborted.id]);
    expect(await ids({ startedAfter: at, startedBefore: at })).toEqual([aborted.id]);
    // A bound finer than a millisecond rounds inward: the run started before `at` + 0.1 µs.
    const finer = encodeURIComponent(at.toISOString().replace('Z', '0001Z'));
    const listed = async (query: string) =>
      (await t.http().get(`/v2/actor-runs?${query}`).set(other.auth).expect(200)).body.data.items.map(
        (r: { id: string }) => r.id,
      );
    expect(await listed(`startedAfter=${finer}`)).toEqual([]);
    expect(await listed(`startedBefore=${finer}&desc=1`)).toEqual([aborted.id, succeeded.id, ready.id]);
    expect((await mine.actor(act.id).runs().list({ status: 'ABORTED' })).items.map((r) => r.id)).toEqual([
      aborted.id,
    ]);
    expect((await mine.actor(act.id).lastRun({ status: 'SUCCEEDED' }).get())?.id).toBe(succeeded.id);
    const lastReady = await t
      .http()
      .get(`/v2/acts/${act.id}/runs/last?status=READY`)
      .set(other.auth)
      .expect(200);
    expect(lastReady.body.data.id).toBe(ready.id);

    for (const [query, field] of [
      ['status=DONE', 'query.status'],
      ['status=READY,NOPE', 'query.status'],
      ['startedAfter=soon', 'query.startedAfter'],
    ]) {
      const bad = await t.http().get(`/v2/actor-runs?${query}`).set(other.auth).expect(400);
      expect(bad.body.error.message).toContain(field);
    }
  });

  it('streams the log while the run goes on and ends it when the run finishes (getStreamedLog, LogClient.stream)', async () => {
    const run = await start();
    expect(await client(alice.accessToken).log(run.id).get()).toContain('created (status READY)');
    expect(await owner().run(run.id).log().get()).toContain('created (status READY)');

    const lines: string[] = [];
    // StreamedLog writes each complete line to `toLog.info`.
    const toLog = { info: (line: string) => void lines.push(line) };
    const streamed = (await owner()
      .run(run.id)
      .getStreamedLog({ toLog: toLog as never }))!;
    streamed.start();

    const raw = (await owner().log(run.id).stream())!;
    const chunks: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      raw.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
      raw.on('end', resolve);
      raw.on('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    // Still open while the run is not finished: what was logged so far has arrived.
    expect(chunks.join('')).toContain('created (status READY)');
    expect(chunks.join('')).not.toContain('to SUCCEEDED');

    await finish(run.id);
    await ended;
    expect(chunks.join('')).toContain('Status changed from RUNNING to SUCCEEDED');
    await streamed.stop();
    expect(lines.some((l) => l.includes('Status changed from READY to RUNNING'))).toBe(true);
    expect(lines.some((l) => l.includes('created (status READY)'))).toBe(true);

    // A finished run's stream is its whole log at once; a stranger's is a 404.
    const whole = await t.http().get(`/v2/logs/${run.id}?stream=1&raw=1`).set(alice.auth).expect(200);
    expect(whole.text).toContain('to SUCCEEDED');
    expect(whole.headers['content-type']).toContain('text/plain');
    await t.http().get(`/v2/logs/${run.id}?stream=1`).set(bob.auth).expect(404);
    await t.http().get(`/v2/logs/${run.id}?stream=maybe`).set(alice.auth).expect(400);
  });

  it('resurrects a finished run: RUNNING again with the same storages and token, its time counted once', async () => {
    const run = await start();
    await setStatus(run.id, 'RUNNING');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await setStatus(run.id, 'FAILED');
    const afterFirst = await runTimeSecs();
    await t
      .http()
      .get(`/v2/actor-runs/${run.id}`)
      .set({ authorization: `Bearer ${run.runToken}` })
      .expect(401);

    // Not the owner: a READ grantee gets 403, a stranger 404.
    await grantRead(run.id, dave);
    expect(await apiError(client(dave.accessToken).run(run.id).resurrect())).toMatchObject({
      statusCode: 403,
    });
    expect(await apiError(client(bob.accessToken).run(run.id).resurrect())).toMatchObject({
      statusCode: 404,
    });

    const resurrected = await owner().run(run.id).resurrect({ memory: 1024 });
    expect(resurrected).toMatchObject({
      id: run.id,
      status: 'RUNNING',
      finishedAt: null,
      defaultDatasetId: run.defaultDatasetId,
      defaultKeyValueStoreId: run.defaultKeyValueStoreId,
      options: expect.objectContaining({ memoryMbytes: 1024 }),
    });
    expect(await owner().log(run.id).get()).toContain('Run resurrected');
    // Its token works again while it runs.
    await t
      .http()
      .get(`/v2/actor-runs/${run.id}`)
      .set({ authorization: `Bearer ${run.runToken}` })
      .expect(200);
    expect(await apiError(owner().run(run.id).resurrect())).toMatchObject({
      statusCode: 409,
      type: 'conflict',
    });

    await setStatus(run.id, 'SUCCEEDED');
    // Counted from the resurrection (well under a second), not again from the start (over 2 s).
    expect((await runTimeSecs()) - afterFirst).toBeLessThanOrEqual(1);
    await t.http().post(`/v2/actor-runs/${run.id}/resurrect?memory=5`).set(alice.auth).expect(400);
  });

  // Found by the outside attack pass: a run of an Actor made private since was brought back.
  it('resurrects a run only for whoever may still run its Actor', async () => {
    const publicActor = await owner()
      .actors()
      .create({ name: uniqueName('public'), isPublic: true });
    const bobs = await client(bob.accessToken).actor(publicActor.id).start();
    await t.http().put(`/v2/actor-runs/${bobs.id}`).set(bob.auth).send({ status: 'RUNNING' }).expect(200);
    await t.http().put(`/v2/actor-runs/${bobs.id}`).set(bob.auth).send({ status: 'SUCCEEDED' }).expect(200);
    await owner().actor(publicActor.id).update({ isPublic: false });
    expect(await apiError(client(bob.accessToken).run(bobs.id).resurrect())).toMatchObject({
      statusCode: 404,
      type: 'record-not-found',
    });
    expect((await client(bob.accessToken).run(bobs.id).get())?.status).toBe('SUCCEEDED');
  });

  it('refuses reboot, metamorph and charge in Apify’s error shape, after authorization', async () => {
    const run = await start();
    await setStatus(run.id, 'RUNNING');
    const reboot = await apiError(owner().run(run.id).reboot());
    expect(reboot).toMatchObject({ statusCode: 405, type: 'method-not-allowed' });
    expect(reboot.message).toContain('Atrium executes no containers');
    const metamorph = await apiError(owner().run(run.id).metamorph(actorId, { q: 2 }));
    expect(metamorph).toMatchObject({ statusCode: 405, type: 'method-not-allowed' });
    expect(metamorph.message).toContain('metamorphed');
    const charge = await apiError(owner().run(run.id).charge({ eventName: 'page' }));
    expect(charge).toMatchObject({ statusCode: 400, type: 'invalid-input' });
    expect(charge.message).toContain('pay-per-event');
    // Nothing changed, and others learn nothing (404) or may not (403) before that.
    expect(await owner().run(run.id).get()).toMatchObject({ status: 'RUNNING', actId: actorId });
    expect(await apiError(client(bob.accessToken).run(run.id).reboot())).toMatchObject({ statusCode: 404 });
    expect(await apiError(client(bob.accessToken).run(run.id).charge({ eventName: 'x' }))).toMatchObject({
      statusCode: 404,
    });
    await grantRead(run.id, dave);
    expect(await apiError(client(dave.accessToken).run(run.id).metamorph(actorId, {}))).toMatchObject({
      statusCode: 403,
    });
  });

  it('deletes a finished run with its unnamed default storages, keeps a named one, and releases their usage', async () => {
    const usage = async () =>
      (await t.http().get('/v2/users/me/usage').set(alice.auth).expect(200)).body.data;
    const running = await start();
    await setStatus(running.id, 'RUNNING');
    expect(await apiError(owner().run(running.id).delete())).toMatchObject({
      statusCode: 409,
      type: 'conflict',
    });

    const run = await start();
    await owner()
      .dataset(run.defaultDatasetId)
      .pushItems([{ keep: false }]);
    const keptName = uniqueName('kept');
    await owner().requestQueue(run.defaultRequestQueueId).update({ name: keptName });
    await finish(run.id);
    await grantRead(run.id, dave);
    expect(await apiError(client(dave.accessToken).run(run.id).delete())).toMatchObject({ statusCode: 403 });
    // A stranger gets the 404 of an unknown run (which apify-client's delete() swallows, as Apify's).
    await client(bob.accessToken).run(run.id).delete();
    const hidden = await t.http().delete(`/v2/actor-runs/${run.id}`).set(bob.auth).expect(404);
    expect(hidden.body.error.type).toBe('record-not-found');
    expect(await owner().run(run.id).get()).toMatchObject({ id: run.id });
    const before = await usage();

    await owner().run(run.id).delete();
    expect(await owner().run(run.id).get()).toBeUndefined();
    expect(await owner().dataset(run.defaultDatasetId).get()).toBeUndefined();
    expect(await owner().keyValueStore(run.defaultKeyValueStoreId).get()).toBeUndefined();
    expect(await client(dave.accessToken).run(run.id).get()).toBeUndefined();
    // The queue the user named stays, as named storages do.
    expect((await owner().requestQueue(run.defaultRequestQueueId).get())?.name).toBe(keptName);
    const after = await usage();
    expect(after.resources.ACTOR_RUN).toBe(before.resources.ACTOR_RUN - 1);
    expect(after.resources.DATASET).toBe(before.resources.DATASET - 1);
    expect(after.resources.REQUEST_QUEUE).toBe(before.resources.REQUEST_QUEUE);
    expect(after.storageBytes).toBeLessThan(before.storageBytes);
    // The run's log went with it.
    await t.http().get(`/v2/logs/${run.id}`).set(alice.auth).expect(404);
    // A second delete finds nothing.
    await t.http().delete(`/v2/actor-runs/${run.id}`).set(alice.auth).expect(404);
  });

  it('refuses TaskClient.publish and unpublish with the reason (Atrium has no public tasks), changing nothing', async () => {
    const task = await owner()
      .tasks()
      .create({ actId: actorId, name: uniqueName('task'), input: { a: 1 } });
    // One at a time: a second call made at once would reject before anyone awaits it.
    for (const call of [() => owner().task(task.id).publish(), () => owner().task(task.id).unpublish()]) {
      const refused = await apiError(call());
      expect(refused).toMatchObject({ statusCode: 400, type: 'invalid-input' });
      expect(refused.message).toContain('body.isPublic');
      expect(refused.message).toContain('no public tasks');
    }
    expect(await client(bob.accessToken).task(task.id).get()).toBeUndefined();
    expect(await apiError(client(bob.accessToken).task(task.id).publish())).toMatchObject({
      statusCode: 404,
    });
    expect(await owner().task(task.id).getInput()).toEqual({ a: 1 });
  });

  it("reports as effectiveGeneralAccess of a run's default storage what decides: the run's, which follows the account's", async () => {
    const run = await start();
    const accessOf = async (path: string) =>
      (await t.http().get(`/v2/${path}/access`).set(alice.auth).expect(200)).body.data;
    const setRunAccess = (generalAccess: string) =>
      t.http().put(`/v2/actor-runs/${run.id}`).set(alice.auth).send({ generalAccess }).expect(200);
    const setAccount = (generalResourceAccess: string) =>
      t.http().put('/v2/users/me/settings').set(alice.auth).send({ generalResourceAccess }).expect(200);
    const storages = [
      `datasets/${run.defaultDatasetId}`,
      `key-value-stores/${run.defaultKeyValueStoreId}`,
      `request-queues/${run.defaultRequestQueueId}`,
    ];
    /** What /access reports for each storage, and whether a stranger may read it: they must agree. */
    const expectEffective = async (expected: string) => {
      for (const path of storages) {
        expect(await accessOf(path)).toMatchObject({
          generalAccess: 'FOLLOW_USER_SETTING',
          effectiveGeneralAccess: expected,
        });
        await t
          .http()
          .get(`/v2/${path}`)
          .set(bob.auth)
          .expect(expected === 'RESTRICTED' ? 404 : 200);
      }
    };
    // The account open, the run restricted: its storages are restricted (not the account's setting).
    await setAccount('ANYONE_WITH_ID_CAN_READ');
    await setRunAccess('RESTRICTED');
    await expectEffective('RESTRICTED');
    // The run following the account: the account's, through the run.
    await setRunAccess('FOLLOW_USER_SETTING');
    await expectEffective('ANYONE_WITH_ID_CAN_READ');
    // The account restricted, the run opened: the storages open with the run.
    await setAccount('RESTRICTED');
    await expectEffective('RESTRICTED');
    await setRunAccess('ANYONE_WITH_ID_CAN_READ');
    await expectEffective('ANYONE_WITH_ID_CAN_READ');
    // A storage restricted on its own while its run is open: still readable through the run
    // (rule 5), and /access says so rather than "restricted".
    const [storage] = storages;
    await t.http().put(`/v2/${storage}`).set(alice.auth).send({ generalAccess: 'RESTRICTED' }).expect(200);
    expect(await accessOf(storage)).toMatchObject({
      generalAccess: 'RESTRICTED',
      effectiveGeneralAccess: 'ANYONE_WITH_ID_CAN_READ',
    });
    await t.http().get(`/v2/${storage}`).set(bob.auth).expect(200);
    await setRunAccess('RESTRICTED');
    expect((await accessOf(storage)).effectiveGeneralAccess).toBe('RESTRICTED');
    await t.http().get(`/v2/${storage}`).set(bob.auth).expect(404);
    // A storage of no run follows the account directly, as before.
    const own = await owner().datasets().getOrCreate(uniqueName('own'));
    expect((await accessOf(`datasets/${own.id}`)).effectiveGeneralAccess).toBe('RESTRICTED');
  });
});
