import { ActorsRpc, RunsRpc, WebhooksRpc } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import {
  ContractHarness,
  eventually,
  expectAppError,
  startContractHarness,
  testServiceConfig,
  uniqueName,
} from '@atrium/testing';
import { ResourcesModule } from '../src/resources.module';

/**
 * Webhooks over the resources service's queue: the RPCs, and a run's events turned into one
 * dispatch per watching webhook. The permissions service is not running here, so the dispatcher
 * cannot learn whether a creator may still write to its target: it must call nobody (fail closed).
 */
describe('resources message contract: webhooks (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const owner = newId();
  const page = { offset: 0, limit: 100, desc: false };
  let actorId: string;
  const hook = (extra: Record<string, unknown> = {}) => ({
    eventTypes: ['ACTOR.RUN.CREATED' as const],
    condition: { actorId },
    requestUrl: 'http://127.0.0.1:9/never',
    ...extra,
  });

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) => ResourcesModule.forRoot(testServiceConfig(url)));
    actorId = (
      await h.rpc.call(ActorsRpc.createActor, {
        ownerId: owner,
        createdBy: owner,
        actor: { name: uniqueName('act') },
      })
    ).id;
  });
  afterAll(() => h.close());

  it('creates with Apify defaults, answers an idempotency key with the first webhook, gets, lists, updates, deletes', async () => {
    const created = await h.rpc.call(WebhooksRpc.create, {
      ownerId: owner,
      createdBy: owner,
      webhook: hook(),
    });
    expect(created).toMatchObject({
      created: true,
      userId: owner,
      createdBy: owner,
      condition: { actorId },
      isAdHoc: false,
      doNotRetry: false,
      shouldInterpolateStrings: false,
      headersTemplate: null,
      stats: { totalDispatches: 0 },
      lastDispatch: null,
    });
    const keyed = await h.rpc.call(WebhooksRpc.create, {
      ownerId: owner,
      createdBy: owner,
      webhook: hook({ idempotencyKey: 'k1' }),
    });
    const again = await h.rpc.call(WebhooksRpc.create, {
      ownerId: owner,
      createdBy: owner,
      webhook: hook({ idempotencyKey: 'k1', description: 'ignored' }),
    });
    expect(again).toMatchObject({ id: keyed.id, created: false, description: null });
    // The same key in another account is another webhook.
    const elsewhere = newId();
    const theirs = await h.rpc.call(WebhooksRpc.create, {
      ownerId: elsewhere,
      createdBy: elsewhere,
      webhook: hook({ idempotencyKey: 'k1' }),
    });
    expect(theirs.id).not.toBe(keyed.id);

    expect((await h.rpc.call(WebhooksRpc.get, { id: created.id })).id).toBe(created.id);
    const listed = await h.rpc.call(WebhooksRpc.list, { ownerId: owner, page });
    expect(listed.items.map((w) => w.id)).toEqual([created.id, keyed.id]);
    expect(
      (await h.rpc.call(WebhooksRpc.list, { ownerId: owner, condition: { actorTaskId: newId() }, page }))
        .total,
    ).toBe(0);

    const updated = await h.rpc.call(WebhooksRpc.update, {
      id: created.id,
      changes: { condition: { actorRunId: newId() }, headersTemplate: '{"X-A": "{{eventType}}"}' },
    });
    expect(updated.condition).toEqual({ actorRunId: expect.any(String) });
    expect(updated.headersTemplate).toBe('{"X-A": "{{eventType}}"}');
    await h.rpc.call(WebhooksRpc.delete, { id: created.id });
    await expectAppError(h.rpc.call(WebhooksRpc.get, { id: created.id }), 'record-not-found');
    await h.rpc.call(WebhooksRpc.delete, { id: keyed.id });
  });

  it('refuses templates that do not render to JSON, naming the field, and a condition naming two targets', async () => {
    const bad = await expectAppError(
      h.rpc.call(WebhooksRpc.create, {
        ownerId: owner,
        createdBy: owner,
        webhook: hook({ payloadTemplate: '{"a": {{unknown}}}' }),
      }),
      'invalid-input',
    );
    expect(bad.message).toContain('body.payloadTemplate');
    const headers = await expectAppError(
      h.rpc.call(WebhooksRpc.create, {
        ownerId: owner,
        createdBy: owner,
        webhook: hook({ headersTemplate: '{"Host": "evil"}' }),
      }),
      'invalid-input',
    );
    expect(headers.message).toContain('body.headersTemplate');
    await expectAppError(
      h.rpc.call(WebhooksRpc.create, {
        ownerId: owner,
        createdBy: owner,
        webhook: hook({ condition: { actorId, actorRunId: newId() } }),
      }),
      'invalid-input',
    );
    expect((await h.rpc.call(WebhooksRpc.list, { ownerId: owner, page })).total).toBe(0);
  });

  it("records one dispatch per run event for each watching webhook, and calls nobody while its creator's access cannot be decided", async () => {
    const watching = await h.rpc.call(WebhooksRpc.create, {
      ownerId: owner,
      createdBy: owner,
      webhook: hook(),
    });
    const other = await h.rpc.call(WebhooksRpc.create, {
      ownerId: owner,
      createdBy: owner,
      webhook: hook({ eventTypes: ['ACTOR.RUN.SUCCEEDED'] }),
    });
    const run = await h.rpc.call(RunsRpc.start, {
      actorId,
      taskId: null,
      userId: owner,
      input: null,
      options: {},
    });
    const dispatches = await eventually(async () => {
      const found = await h.rpc.call(WebhooksRpc.listDispatches, {
        webhookIds: [watching.id, other.id],
        page,
      });
      if (!found.total) throw new Error('no dispatch yet');
      return found;
    }, 10_000);
    expect(dispatches.items).toHaveLength(1);
    const [dispatch] = dispatches.items;
    expect(dispatch).toMatchObject({
      webhookId: watching.id,
      userId: owner,
      eventType: 'ACTOR.RUN.CREATED',
      eventData: { actorId, actorTaskId: null, actorRunId: run.id },
      webhook: { requestUrl: 'http://127.0.0.1:9/never', isAdHoc: false, condition: { actorId } },
    });
    // No permissions service to ask: the dispatch waits, with no call made.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await h.rpc.call(WebhooksRpc.getDispatch, { id: dispatch!.id })).toMatchObject({
      status: 'ACTIVE',
      calls: [],
    });

    const test = await h.rpc.call(WebhooksRpc.test, { id: other.id });
    expect(test).toMatchObject({ webhookId: other.id, eventType: 'TEST', status: 'ACTIVE', calls: [] });
    expect((await h.rpc.call(WebhooksRpc.get, { id: other.id })).stats).toEqual({ totalDispatches: 1 });
    // A deleted webhook takes its dispatches along.
    await h.rpc.call(WebhooksRpc.delete, { id: other.id });
    await expectAppError(h.rpc.call(WebhooksRpc.getDispatch, { id: test.id }), 'record-not-found');
  });
});
