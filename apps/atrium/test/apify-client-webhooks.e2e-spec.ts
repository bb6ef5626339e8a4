import { eventually, uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { signUp, SignedUpUser, startListeningTestStack, TestStack } from './test-stack';

/** What the receiver got: one POST. */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/**
 * Webhooks as apify-client drives them (issue 13, part 4), fired at a real HTTP server on
 * 127.0.0.1: `/ok` answers 200 with a long body, `/flaky` 500 on its first call of a dispatch
 * and 200 after, `/fail` always 500.
 */
describe('apify-client webhooks against Atrium', () => {
  let t: TestStack;
  let baseUrl: string;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let carol: SignedUpUser;
  let dave: SignedUpUser;
  let actorId: string;
  let taskId: string;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  const flakySeen = new Set<string>();
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });
  const receivedFor = (runId: string) =>
    received.filter((r) => (r.body.eventData as { actorRunId?: string } | null)?.actorRunId === runId);
  const settled = (dispatchId: string, token: string) =>
    eventually(async () => {
      const dispatch = await client(token).webhookDispatch(dispatchId).get();
      if (!dispatch || dispatch.status === 'ACTIVE') throw new Error(`dispatch ${dispatchId} still active`);
      return dispatch;
    }, 20_000);
  const finish = async (user: SignedUpUser, runId: string, status: string) => {
    await t.http().put(`/v2/actor-runs/${runId}`).set(user.auth).send({ status: 'RUNNING' }).expect(200);
    await t.http().put(`/v2/actor-runs/${runId}`).set(user.auth).send({ status }).expect(200);
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        received.push({ path: req.url ?? '', headers: req.headers, body });
        const dispatchId = String(req.headers['x-apify-webhook-dispatch-id']);
        if (req.url === '/fail' || (req.url === '/flaky' && !flakySeen.has(dispatchId))) {
          flakySeen.add(dispatchId);
          res.writeHead(500).end('try again');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(5000));
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;

    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob, carol, dave] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave'].map((n) => signUp(t, uniqueName(n))),
    );
    const owner = client(alice.accessToken);
    actorId = (await owner.actors().create({ name: uniqueName('act') })).id;
    taskId = (await owner.tasks().create({ actId: actorId, name: uniqueName('task') })).id;
    await t
      .http()
      .post(`/v2/acts/${actorId}/access/grants`)
      .set(alice.auth)
      .send({ user: carol.username, permissions: ['READ'] })
      .expect(201);
    // TEST_DISTRIBUTED starts two processes of every service first.
  }, 180_000);
  afterAll(async () => {
    await t.close();
    await new Promise((done) => receiver.close(done));
  });

  it('creates, lists, reads, updates and deletes webhooks (idempotencyKey answers the first)', async () => {
    const owner = client(alice.accessToken);
    const created = await owner.webhooks().create({
      eventTypes: ['ACTOR.RUN.SUCCEEDED'],
      condition: { actorId },
      requestUrl: `${receiverUrl}/ok`,
      description: 'first',
      headersTemplate: '{"X-Secret": "s3cret"}',
    });
    expect(created).toMatchObject({
      userId: alice.id,
      eventTypes: ['ACTOR.RUN.SUCCEEDED'],
      condition: { actorId },
      isAdHoc: false,
      doNotRetry: false,
      ignoreSslErrors: false,
      headersTemplate: '{"X-Secret": "s3cret"}',
      stats: { totalDispatches: 0 },
      lastDispatch: null,
    });
    expect(created.payloadTemplate).toContain('{{resource}}');
    expect(created.createdAt).toBeInstanceOf(Date);

    const onTask = await owner.webhooks().create({
      eventTypes: ['ACTOR.RUN.FAILED'],
      condition: { actorTaskId: taskId },
      requestUrl: `${receiverUrl}/ok`,
      idempotencyKey: 'task-hook',
    });
    const again = await owner.webhooks().create({
      eventTypes: ['ACTOR.RUN.FAILED'],
      condition: { actorTaskId: taskId },
      requestUrl: `${receiverUrl}/ok`,
      idempotencyKey: 'task-hook',
    });
    expect(again.id).toBe(onTask.id);

    const listed = await owner.webhooks().list();
    expect(listed.items.map((w) => w.id)).toEqual(expect.arrayContaining([created.id, onTask.id]));
    expect((await owner.actor(actorId).webhooks().list()).items.map((w) => w.id)).toContain(created.id);
    expect((await owner.actor(actorId).webhooks().list()).items.map((w) => w.id)).not.toContain(onTask.id);
    expect((await owner.task(taskId).webhooks().list()).items.map((w) => w.id)).toEqual([onTask.id]);
    expect(await owner.webhook(created.id).get()).toMatchObject({ id: created.id, description: 'first' });

    const updated = await owner
      .webhook(created.id)
      .update({ description: 'second', eventTypes: ['ACTOR.RUN.SUCCEEDED', 'ACTOR.RUN.ABORTED'] });
    expect(updated).toMatchObject({
      description: 'second',
      eventTypes: ['ACTOR.RUN.SUCCEEDED', 'ACTOR.RUN.ABORTED'],
    });

    await owner.webhook(onTask.id).delete();
    expect(await owner.webhook(onTask.id).get()).toBeUndefined();
    await owner.webhook(created.id).delete();
  });

  it('fires on run status changes: the payload template interpolated, its headers, one POST per event, the dispatch recorded', async () => {
    const owner = client(alice.accessToken);
    const webhook = await owner.webhooks().create({
      eventTypes: ['ACTOR.RUN.CREATED', 'ACTOR.RUN.SUCCEEDED'],
      condition: { actorId },
      requestUrl: `${receiverUrl}/ok`,
      payloadTemplate:
        '{"run": {{resource.id}}, "status": {{resource.status}}, "type": {{eventType}}, "eventData": {{eventData}}, "user": {{userId}}, "text": "run {{resource.id}} is {{resource.status}}"}',
      shouldInterpolateStrings: true,
      headersTemplate: '{"X-Secret": "s3cret", "X-Event": "{{eventType}}"}',
    });
    const run = await owner.actor(actorId).start();
    await finish(alice, run.id, 'SUCCEEDED');
    await eventually(async () => {
      if (receivedFor(run.id).length < 2) throw new Error('waiting for both events');
    });
    // Long enough for a second replica's duplicate to arrive, were there one.
    await new Promise((r) => setTimeout(r, 1500));
    const posts = receivedFor(run.id);
    expect(posts.map((p) => p.body.type).sort()).toEqual(['ACTOR.RUN.CREATED', 'ACTOR.RUN.SUCCEEDED']);
    const succeeded = posts.find((p) => p.body.type === 'ACTOR.RUN.SUCCEEDED')!;
    expect(succeeded.body).toEqual({
      run: run.id,
      status: 'SUCCEEDED',
      type: 'ACTOR.RUN.SUCCEEDED',
      eventData: { actorId, actorTaskId: null, actorRunId: run.id },
      user: alice.id,
      text: `run ${run.id} is SUCCEEDED`,
    });
    expect(succeeded.headers['x-secret']).toBe('s3cret');
    expect(succeeded.headers['x-event']).toBe('ACTOR.RUN.SUCCEEDED');
    expect(succeeded.headers['content-type']).toMatch(/^application\/json/);
    expect(succeeded.headers['x-apify-webhook']).toBe(webhook.id);

    const dispatches = await owner.webhook(webhook.id).dispatches().list();
    expect(dispatches.total).toBe(2);
    for (const dispatch of dispatches.items) {
      expect(dispatch).toMatchObject({ webhookId: webhook.id, userId: alice.id, status: 'SUCCEEDED' });
      expect(dispatch.calls).toHaveLength(1);
      expect(dispatch.calls[0]).toMatchObject({ responseStatus: 200, errorMessage: null });
      expect(dispatch.calls[0]!.responseBody).toHaveLength(1000);
    }
    const dispatchId = String(succeeded.headers['x-apify-webhook-dispatch-id']);
    expect(await owner.webhookDispatch(dispatchId).get()).toMatchObject({
      id: dispatchId,
      eventType: 'ACTOR.RUN.SUCCEEDED',
      eventData: { actorId, actorRunId: run.id },
      webhook: { requestUrl: `${receiverUrl}/ok`, isAdHoc: false },
    });
    expect((await owner.webhookDispatches().list()).items.map((d) => d.id)).toContain(dispatchId);
    expect(await owner.webhook(webhook.id).get()).toMatchObject({
      stats: { totalDispatches: 2 },
      lastDispatch: { status: 'SUCCEEDED' },
    });

    // Many events at once (two resources replicas in TEST_DISTRIBUTED): exactly one POST each.
    // Started one after another (each start is quick; their deliveries overlap).
    const runs: { id: string }[] = [];
    for (let i = 0; i < 8; i++) runs.push(await owner.actor(actorId).start());
    await eventually(async () => {
      if (runs.some((r) => receivedFor(r.id).length < 1)) throw new Error('waiting for every run');
    }, 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(runs.map((r) => receivedFor(r.id).length)).toEqual(runs.map(() => 1));
    await owner.webhook(webhook.id).delete();
  });

  // Found by the outside attack pass: the owner of a public Actor learnt of other users' runs (and
  // their storages' ids) from its webhook's dispatches.
  it("tells a public Actor's owner of its own runs only, never of other users' runs", async () => {
    const owner = client(alice.accessToken);
    const publicActor = await owner.actors().create({ name: uniqueName('public'), isPublic: true });
    const webhook = await owner.webhooks().create({
      eventTypes: ['ACTOR.RUN.CREATED'],
      condition: { actorId: publicActor.id },
      requestUrl: `${receiverUrl}/ok`,
    });
    const othersRun = await client(dave.accessToken).actor(publicActor.id).start();
    const ownRun = await owner.actor(publicActor.id).start();
    await eventually(async () => {
      if (!receivedFor(ownRun.id).length) throw new Error("waiting for the owner's run");
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(receivedFor(othersRun.id)).toEqual([]);
    const dispatches = await owner.webhook(webhook.id).dispatches().list();
    expect(dispatches.items.map((d) => (d.eventData as { actorRunId?: string }).actorRunId)).toEqual([
      ownRun.id,
    ]);
  });

  it('fires on build events of the Actor', async () => {
    const owner = client(alice.accessToken);
    const webhook = await owner.webhooks().create({
      eventTypes: ['ACTOR.BUILD.CREATED', 'ACTOR.BUILD.ABORTED'],
      condition: { actorId },
      requestUrl: `${receiverUrl}/ok`,
    });
    const build = await owner.actor(actorId).build('0.0');
    await owner.build(build.id).abort();
    const posts = () => received.filter((r) => r.headers['x-apify-webhook'] === webhook.id);
    await eventually(async () => {
      if (posts().length < 2) throw new Error('waiting for both build events');
    }, 15_000);
    expect(posts().map((p) => p.body.eventType)).toEqual(
      expect.arrayContaining(['ACTOR.BUILD.CREATED', 'ACTOR.BUILD.ABORTED']),
    );
    const aborted = posts().find((p) => p.body.eventType === 'ACTOR.BUILD.ABORTED')!;
    expect(aborted.body).toMatchObject({
      userId: alice.id,
      eventData: { actorId, actorBuildId: build.id },
      resource: { id: build.id, status: 'ABORTED' },
    });
    await owner.webhook(webhook.id).delete();
  });

  it('retries a 500 answer with backoff, makes one call with doNotRetry, and never calls a link-local address', async () => {
    const owner = client(alice.accessToken);
    const make = (path: string, extra: Record<string, unknown> = {}) =>
      owner.webhooks().create({
        eventTypes: ['ACTOR.RUN.ABORTED'],
        condition: { actorId },
        requestUrl: `${receiverUrl}${path}`,
        ...extra,
      });
    const flaky = await make('/flaky');
    const tested = await owner.webhook(flaky.id).test();
    expect(tested).toMatchObject({ webhookId: flaky.id, eventType: 'TEST' });
    const retried = await settled(tested!.id, alice.accessToken);
    expect(retried.status).toBe('SUCCEEDED');
    expect(retried.calls.map((c) => c.responseStatus)).toEqual([500, 200]);
    expect(retried.calls[0]).toMatchObject({
      errorMessage: expect.stringContaining('500'),
      responseBody: 'try again',
    });

    const once = await make('/fail', { doNotRetry: true });
    const failed = await settled((await owner.webhook(once.id).test())!.id, alice.accessToken);
    expect(failed.status).toBe('FAILED');
    expect(failed.calls).toHaveLength(1);
    expect(received.filter((r) => r.headers['x-apify-webhook-dispatch-id'] === failed.id)).toHaveLength(1);

    const metadata = await owner.webhooks().create({
      eventTypes: ['ACTOR.RUN.ABORTED'],
      condition: { actorId },
      requestUrl: 'http://169.254.169.254/latest/meta-data',
    });
    const blocked = await settled((await owner.webhook(metadata.id).test())!.id, alice.accessToken);
    expect(blocked.status).toBe('FAILED');
    expect(blocked.calls).toHaveLength(1);
    expect(blocked.calls[0]!.errorMessage).toMatch(/link-local/);
    expect(blocked.calls[0]!.responseStatus).toBeNull();
    for (const w of [flaky, once, metadata]) await owner.webhook(w.id).delete();
  });

  it('shows a webhook only to its owner, creating needs WRITE on the target, and headers only to writers', async () => {
    const owner = client(alice.accessToken);
    const webhook = await owner.webhooks().create({
      eventTypes: ['ACTOR.RUN.SUCCEEDED'],
      condition: { actorId },
      requestUrl: `${receiverUrl}/ok`,
      headersTemplate: '{"Authorization": "Bearer hidden"}',
    });
    const dispatch = (await owner.webhook(webhook.id).test())!;
    // A stranger: every route is the 404 of an unknown id.
    const stranger = client(bob.accessToken);
    expect(await stranger.webhook(webhook.id).get()).toBeUndefined();
    expect(await stranger.webhookDispatch(dispatch.id).get()).toBeUndefined();
    expect((await stranger.webhooks().list()).items).toHaveLength(0);
    expect((await stranger.webhookDispatches().list()).items).toHaveLength(0);
    for (const [method, path] of [
      ['put', `/v2/webhooks/${webhook.id}`],
      ['delete', `/v2/webhooks/${webhook.id}`],
      ['post', `/v2/webhooks/${webhook.id}/test`],
      ['get', `/v2/webhooks/${webhook.id}/dispatches`],
      ['get', `/v2/acts/${actorId}/webhooks`],
    ] as const) {
      const res = await t.http()[method](path).set(bob.auth).send({ description: 'mine' });
      expect([path, res.status, res.body.error?.type]).toEqual([path, 404, 'record-not-found']);
    }
    // A reader of the Actor: may list (nothing of alice's), may not create one on it.
    expect((await client(carol.accessToken).actor(actorId).webhooks().list()).items).toHaveLength(0);
    const refused = await t
      .http()
      .post('/v2/webhooks')
      .set(carol.auth)
      .send({ eventTypes: ['ACTOR.RUN.SUCCEEDED'], condition: { actorId }, requestUrl: `${receiverUrl}/ok` })
      .expect(403);
    expect(refused.body.error).toMatchObject({ type: 'insufficient-permissions' });
    expect(refused.body.error.message).toContain('body.condition.actorId');
    await owner.webhook(webhook.id).delete();
  });

  it("stops firing once its creator's grant is revoked (the skipped dispatch says why)", async () => {
    // Dave may write and run alice's Actor: his webhook on it tells him of his own runs of it.
    const grant = await t
      .http()
      .post(`/v2/acts/${actorId}/access/grants`)
      .set(alice.auth)
      .send({ user: dave.username, permissions: ['READ', 'WRITE', 'RUN'] })
      .expect(201);
    const writer = client(dave.accessToken);
    const webhook = await writer.webhooks().create({
      eventTypes: ['ACTOR.RUN.CREATED', 'ACTOR.RUN.SUCCEEDED'],
      condition: { actorId },
      requestUrl: `${receiverUrl}/ok`,
      headersTemplate: '{"X-Secret": "dave"}',
    });
    expect(webhook.userId).toBe(dave.id);
    expect(webhook.headersTemplate).toBe('{"X-Secret": "dave"}');
    const run = await writer.actor(actorId).start();
    await eventually(async () => {
      if (!receivedFor(run.id).some((r) => r.headers['x-apify-webhook'] === webhook.id))
        throw new Error("waiting for dave's webhook");
    });

    await t
      .http()
      .delete(`/v2/acts/${actorId}/access/grants/${grant.body.data.id}`)
      .set(alice.auth)
      .expect(204);
    // His run finishes after he lost the Actor: that event is recorded, not sent.
    await finish(dave, run.id, 'SUCCEEDED');
    const skipped = await eventually(async () => {
      const items = (await writer.webhook(webhook.id).dispatches().list()).items;
      const found = items.find((d) => d.eventType === 'ACTOR.RUN.SUCCEEDED' && d.status !== 'ACTIVE');
      if (!found) throw new Error('waiting for the dispatch');
      return found;
    }, 20_000);
    expect(skipped.status).toBe('FAILED');
    expect(skipped.calls).toHaveLength(1);
    expect(skipped.calls[0]).toMatchObject({ responseStatus: null });
    expect(skipped.calls[0]!.errorMessage).toMatch(/creator may no longer write/);
    expect(
      receivedFor(run.id).map((r) => r.body.eventType ?? r.headers['x-apify-webhook-event']),
    ).not.toContain('ACTOR.RUN.SUCCEEDED');
    expect(receivedFor(run.id).filter((r) => r.headers['x-apify-webhook'] === webhook.id)).toHaveLength(1);
    // Its owner still sees it (not its headers: those are for writers) and may delete it; not edit it.
    const shown = await writer.webhook(webhook.id).get();
    expect(shown?.id).toBe(webhook.id);
    expect(shown).not.toHaveProperty('headersTemplate');
    await t.http().put(`/v2/webhooks/${webhook.id}`).set(dave.auth).send({ description: 'x' }).expect(403);
    await writer.webhook(webhook.id).delete();
  });

  it("lets a run token add an ad-hoc webhook to its own run only (as the SDK's Actor.addWebhook)", async () => {
    const run = await t.http().post(`/v2/acts/${actorId}/runs`).set(alice.auth).expect(201);
    const asRun = { authorization: `Bearer ${run.body.data.runToken}` };
    const created = await t
      .http()
      .post('/v2/webhooks')
      .set(asRun)
      .send({
        isAdHoc: true,
        eventTypes: ['ACTOR.RUN.SUCCEEDED'],
        condition: { actorRunId: run.body.data.id },
        requestUrl: `${receiverUrl}/ok`,
        idempotencyKey: `run-${run.body.data.id}`,
      })
      .expect(201);
    expect(created.body.data).toMatchObject({ isAdHoc: true, userId: alice.id });
    // Another webhook's key does not open that webhook to a token that may not see it (a task's).
    const onTask = await client(alice.accessToken)
      .webhooks()
      .create({
        eventTypes: ['ACTOR.RUN.FAILED'],
        condition: { actorTaskId: taskId },
        requestUrl: `${receiverUrl}/ok`,
        headersTemplate: '{"X-Secret": "task"}',
        idempotencyKey: 'task-secret',
      });
    const reused = await t
      .http()
      .post('/v2/webhooks')
      .set(asRun)
      .send({
        eventTypes: ['ACTOR.RUN.SUCCEEDED'],
        condition: { actorRunId: run.body.data.id },
        requestUrl: `${receiverUrl}/ok`,
        idempotencyKey: 'task-secret',
      })
      .expect(409);
    expect(JSON.stringify(reused.body)).not.toContain('X-Secret');
    await t.http().get(`/v2/webhooks/${onTask.id}`).set(asRun).expect(404);
    await client(alice.accessToken).webhook(onTask.id).delete();
    const other = await t.http().post(`/v2/acts/${actorId}/runs`).set(alice.auth).expect(201);
    await t
      .http()
      .post('/v2/webhooks')
      .set(asRun)
      .send({
        eventTypes: ['ACTOR.RUN.SUCCEEDED'],
        condition: { actorRunId: other.body.data.id },
        requestUrl: `${receiverUrl}/ok`,
      })
      .expect(404);
    await finish(alice, run.body.data.id, 'SUCCEEDED');
    await eventually(async () => {
      if (!receivedFor(run.body.data.id).some((r) => r.headers['x-apify-webhook'] === created.body.data.id))
        throw new Error('waiting for the ad-hoc webhook');
    });
  });

  it('refuses bad input with 400 naming the field, and creates nothing', async () => {
    const valid = {
      eventTypes: ['ACTOR.RUN.SUCCEEDED'],
      condition: { actorId },
      requestUrl: `${receiverUrl}/ok`,
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, requestUrl: 'not a url' }, 'body.requestUrl'],
      [{ ...valid, requestUrl: 'ftp://example.com/x' }, 'body.requestUrl'],
      [{ ...valid, eventTypes: ['ACTOR.RUN.EXPLODED'] }, 'body.eventTypes.0'],
      [{ ...valid, eventTypes: [] }, 'body.eventTypes'],
      [{ eventTypes: valid.eventTypes, requestUrl: valid.requestUrl }, 'body.condition'],
      [{ ...valid, condition: { actorId, actorTaskId: taskId } }, 'body.condition'],
      [{ ...valid, condition: { actorId: 'nope' } }, 'body.condition.actorId'],
      [{ ...valid, payloadTemplate: '{"a": {{nothing}}}' }, 'body.payloadTemplate'],
      [{ ...valid, payloadTemplate: '{"a": ' }, 'body.payloadTemplate'],
      [{ ...valid, headersTemplate: '["x"]' }, 'body.headersTemplate'],
      [{ ...valid, extra: 1 }, 'body.extra'],
    ];
    for (const [body, field] of cases) {
      const res = await t.http().post('/v2/webhooks').set(alice.auth).send(body);
      expect([field, res.status, res.body.error?.type]).toEqual([field, 400, 'invalid-input']);
      expect(res.body.error.message).toContain(field);
    }
    const hook = await client(alice.accessToken)
      .webhooks()
      .create(valid as never);
    const bad = await t
      .http()
      .put(`/v2/webhooks/${hook.id}`)
      .set(alice.auth)
      .send({ eventTypes: ['NOPE'] });
    expect([bad.status, bad.body.error.message]).toEqual([400, expect.stringContaining('body.eventTypes.0')]);
    expect((await client(alice.accessToken).webhook(hook.id).get())?.eventTypes).toEqual([
      'ACTOR.RUN.SUCCEEDED',
    ]);
    await client(alice.accessToken).webhook(hook.id).delete();
  });
});
