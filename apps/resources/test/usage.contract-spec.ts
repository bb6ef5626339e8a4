import {
  ActorsRpc,
  DatasetsRpc,
  EnvironmentsRpc,
  KeyValueStoresRpc,
  RequestQueuesRpc,
  RunsRpc,
  UsageRpc,
  UsageView,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ContractHarness, expectAppError, startContractHarness, testServiceConfig } from '@atrium/testing';
import { DataSource } from 'typeorm';
import { ResourcesModule } from '../src/resources.module';

/** The deployment's limits this harness runs with (QUOTA_* variables). */
const DEPLOYMENT = { resourcesPerType: 50, storageBytes: 1_000_000, runTimeSecs: 100_000 };

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const base64 = (text: string) => Buffer.from(text).toString('base64');

describe('usage and quotas (resources service, RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  let dataSource: DataSource;
  const page = { offset: 0, limit: 100, desc: false };

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) =>
      ResourcesModule.forRoot(
        testServiceConfig(url, {
          QUOTA_MAX_RESOURCES_PER_TYPE: String(DEPLOYMENT.resourcesPerType),
          QUOTA_MAX_STORAGE_BYTES: String(DEPLOYMENT.storageBytes),
          QUOTA_MAX_RUN_TIME_SECS: String(DEPLOYMENT.runTimeSecs),
        }),
      ),
    );
    dataSource = h.app.get(DataSource);
  });
  afterAll(() => h.close());

  const usage = (accountId: string) => h.rpc.call(UsageRpc.get, { accountId });
  const userFigures = (view: UsageView, userId: string) => view.byUser.find((u) => u.userId === userId);
  const createDataset = (ownerId: string, createdBy = ownerId, name?: string) =>
    h.rpc.call(DatasetsRpc.create, { ownerId, createdBy, name });
  const ledger = (accountId: string) =>
    dataSource.query<
      { metric: string; resourceType: string; delta: number; causedBy: string; resourceId: string }[]
    >(
      `SELECT metric, resource_type AS "resourceType", delta::int AS delta, caused_by AS "causedBy",
              resource_id AS "resourceId"
         FROM resources.usage_ledger WHERE account_id = $1 ORDER BY id`,
      [accountId],
    );

  /** The counters agree with the ledger, metric by metric. */
  async function expectCountersMatchLedger(accountId: string): Promise<void> {
    const view = await usage(accountId);
    const entries = await ledger(accountId);
    const sum = (metric: string, type?: string) =>
      entries
        .filter((e) => e.metric === metric && (type === undefined || e.resourceType === type))
        .reduce((total, e) => total + e.delta, 0);
    for (const [type, count] of Object.entries(view.resources))
      expect(sum('RESOURCE_COUNT', type)).toBe(count);
    expect(sum('STORAGE_BYTES')).toBe(view.storageBytes);
    expect(sum('RUN_TIME_SECS')).toBe(view.runTimeSecs);
  }

  it('reports the deployment limits and zero usage for an account that has used nothing', async () => {
    const accountId = newId();
    const view = await usage(accountId);
    expect(view).toMatchObject({ accountId, storageBytes: 0, runTimeSecs: 0, byUser: [] });
    expect(view.resources.DATASET).toBe(0);
    expect(view.limits.resources).toMatchObject({ DATASET: 50, ENVIRONMENT: 50, ACTOR_RUN: 50 });
    expect(view.limits).toMatchObject({ storageBytes: 1_000_000, runTimeSecs: 100_000 });
  });

  it('counts a resource against its owner for the user who created it, with a ledger entry', async () => {
    const owner = newId();
    const member = newId();
    const own = await createDataset(owner, owner, 'results');
    // A member creating on the owner's account (an org member, a collaboration member): the owner's usage.
    const members = await createDataset(owner, member);
    // Get-or-create of an existing name counts nothing more.
    expect((await createDataset(owner, owner, 'results')).created).toBe(false);

    const view = await usage(owner);
    expect(view.resources.DATASET).toBe(2);
    expect(userFigures(view, owner)?.resources.DATASET).toBe(1);
    expect(userFigures(view, member)?.resources.DATASET).toBe(1);
    expect((await usage(member)).resources.DATASET).toBe(0);
    expect(await ledger(owner)).toEqual([
      {
        metric: 'RESOURCE_COUNT',
        resourceType: 'DATASET',
        delta: 1,
        causedBy: owner,
        resourceId: own.dataset.id,
      },
      {
        metric: 'RESOURCE_COUNT',
        resourceType: 'DATASET',
        delta: 1,
        causedBy: member,
        resourceId: members.dataset.id,
      },
    ]);
  });

  it('counts stored bytes of items, records and requests, and releases them with the content', async () => {
    const owner = newId();
    const { dataset } = await createDataset(owner);
    const items = [{ a: 1 }, { b: 'xy', ü: 'ünïcödé' }];
    await h.rpc.call(DatasetsRpc.pushItems, { id: dataset.id, items });
    const itemBytes = items.reduce((total, item) => total + jsonBytes(item), 0);
    expect((await usage(owner)).storageBytes).toBe(itemBytes);

    const { store } = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: owner, createdBy: owner });
    const put = (value: string) =>
      h.rpc.call(KeyValueStoresRpc.setRecord, {
        id: store.id,
        key: 'k',
        contentType: 'text/plain',
        value: base64(value),
      });
    await put('hello');
    expect((await usage(owner)).storageBytes).toBe(itemBytes + 5);
    await put('abc'); // replacing counts the difference
    expect((await usage(owner)).storageBytes).toBe(itemBytes + 3);
    await h.rpc.call(KeyValueStoresRpc.deleteRecord, { id: store.id, key: 'k' });
    expect((await usage(owner)).storageBytes).toBe(itemBytes);

    const { queue } = await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner });
    const added = await h.rpc.call(RequestQueuesRpc.addRequest, {
      id: queue.id,
      request: { uniqueKey: 'https://example.com/a', url: 'https://example.com/a', userData: { depth: 1 } },
    });
    const withRequest = (await usage(owner)).storageBytes;
    expect(withRequest).toBeGreaterThan(itemBytes + 40);
    await h.rpc.call(RequestQueuesRpc.deleteRequest, { id: queue.id, requestId: added.requestId });
    expect((await usage(owner)).storageBytes).toBe(itemBytes);

    // Deleting a storage releases everything stored in it, and its count.
    await put('kept until the store goes');
    await h.rpc.call(RequestQueuesRpc.addRequest, {
      id: queue.id,
      request: { uniqueKey: 'b', url: 'https://example.com/b' },
    });
    await h.rpc.call(KeyValueStoresRpc.delete, { id: store.id });
    await h.rpc.call(RequestQueuesRpc.delete, { id: queue.id });
    await h.rpc.call(DatasetsRpc.delete, { id: dataset.id });
    const after = await usage(owner);
    expect(after.storageBytes).toBe(0);
    expect(after.resources).toMatchObject({ DATASET: 0, KEY_VALUE_STORE: 0, REQUEST_QUEUE: 0 });
    expect(after.byUser).toEqual([]);
    await expectCountersMatchLedger(owner);
  });

  it('records who wrote content as the cause of the bytes it adds or frees, the owner when unknown', async () => {
    const owner = newId();
    const writer = newId();
    const { dataset } = await createDataset(owner);
    await h.rpc.call(DatasetsRpc.pushItems, { id: dataset.id, items: [{ by: 'writer' }], causedBy: writer });
    await h.rpc.call(DatasetsRpc.pushItems, { id: dataset.id, items: [{ by: 'anonymous' }] });
    const { store } = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: owner, createdBy: owner });
    const record = { id: store.id, key: 'k', contentType: 'text/plain', value: base64('abc') };
    await h.rpc.call(KeyValueStoresRpc.setRecord, { ...record, causedBy: writer });
    await h.rpc.call(KeyValueStoresRpc.deleteRecord, { id: store.id, key: 'k', causedBy: writer });
    const { queue } = await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner });
    const added = await h.rpc.call(RequestQueuesRpc.addRequest, {
      id: queue.id,
      request: { uniqueKey: 'a', url: 'https://example.com/a' },
      causedBy: writer,
    });
    await h.rpc.call(RequestQueuesRpc.updateRequest, {
      id: queue.id,
      requestId: added.requestId,
      request: { url: 'https://example.com/a', userData: { more: 'bytes' } },
      causedBy: writer,
    });
    await h.rpc.call(RequestQueuesRpc.deleteRequest, {
      id: queue.id,
      requestId: added.requestId,
      causedBy: writer,
    });

    const bytes = (await ledger(owner)).filter((e) => e.metric === 'STORAGE_BYTES');
    expect(bytes.map((e) => [e.resourceId, Math.sign(e.delta), e.causedBy])).toEqual([
      [dataset.id, 1, writer],
      [dataset.id, 1, owner],
      [store.id, 1, writer],
      [store.id, -1, writer],
      [queue.id, 1, writer],
      [queue.id, 1, writer],
      [queue.id, -1, writer],
    ]);
    // A cause must be an id, like every other.
    await expect(
      h.rpc.call(DatasetsRpc.pushItems, { id: dataset.id, items: [{}], causedBy: 'nobody' }),
    ).rejects.toMatchObject({ type: 'invalid-input' });
    await expectCountersMatchLedger(owner);
  });

  it("counts a collaboration member's environment against the primary's quota, for that member", async () => {
    const primary = newId();
    const member = newId();
    await h.rpc.call(UsageRpc.setLimits, { accountId: primary, limits: { resources: { ENVIRONMENT: 2 } } });
    await h.rpc.call(EnvironmentsRpc.create, {
      ownerId: primary,
      createdBy: primary,
      name: 'primary-env',
    });
    const members = await h.rpc.call(EnvironmentsRpc.create, {
      ownerId: primary,
      createdBy: member,
      name: 'member-env',
    });
    let view = await usage(primary);
    expect(view.resources.ENVIRONMENT).toBe(2);
    expect(userFigures(view, member)?.resources.ENVIRONMENT).toBe(1);
    expect(userFigures(view, primary)?.resources.ENVIRONMENT).toBe(1);
    expect((await usage(member)).resources.ENVIRONMENT).toBe(0);

    // The primary's limit binds the member too; the member's own account is not what counts.
    const err = await expectAppError(
      h.rpc.call(EnvironmentsRpc.create, {
        ownerId: primary,
        createdBy: member,
        name: 'one-more',
      }),
      'quota-exceeded',
    );
    expect(err.message).toContain('limit of 2 environments');
    await h.rpc.call(EnvironmentsRpc.create, { ownerId: member, createdBy: member, name: 'own' });

    // Deleting the member's environment frees the primary's place, whoever deletes it.
    await h.rpc.call(EnvironmentsRpc.delete, { id: members.id });
    view = await usage(primary);
    expect(view.resources.ENVIRONMENT).toBe(1);
    expect(userFigures(view, member)).toBeUndefined();
    await expectCountersMatchLedger(primary);
  });

  it('refuses a write beyond the storage limit with quota-exceeded and stores nothing of it', async () => {
    const owner = newId();
    const { dataset } = await createDataset(owner);
    const first = [{ n: 1 }, { n: 2 }];
    const limit = jsonBytes(first[0]) * 2 + 5;
    await h.rpc.call(UsageRpc.setLimits, { accountId: owner, limits: { storageBytes: limit } });
    await h.rpc.call(DatasetsRpc.pushItems, { id: dataset.id, items: first });
    const before = await ledger(owner);

    // The push as a whole is refused, even the items that would have fitted.
    const err = await expectAppError(
      h.rpc.call(DatasetsRpc.pushItems, { id: dataset.id, items: [{ n: 3 }, { n: 4 }] }),
      'quota-exceeded',
    );
    expect(err.message).toContain(`${limit} bytes`);
    expect((await h.rpc.call(DatasetsRpc.get, { id: dataset.id })).itemCount).toBe(2);
    const items = await h.rpc.call(DatasetsRpc.readItems, {
      id: dataset.id,
      from: 0,
      to: 10,
      transform: {},
    });
    expect(items.items).toEqual(first);

    const { store } = await h.rpc.call(KeyValueStoresRpc.create, { ownerId: owner, createdBy: owner });
    await expectAppError(
      h.rpc.call(KeyValueStoresRpc.setRecord, {
        id: store.id,
        key: 'big',
        contentType: 'text/plain',
        value: base64('x'.repeat(10)),
      }),
      'quota-exceeded',
    );
    await expectAppError(
      h.rpc.call(KeyValueStoresRpc.getRecord, { id: store.id, key: 'big' }),
      'record-not-found',
    );
    const { queue } = await h.rpc.call(RequestQueuesRpc.create, { ownerId: owner, createdBy: owner });
    await expectAppError(
      h.rpc.call(RequestQueuesRpc.addRequest, {
        id: queue.id,
        request: { uniqueKey: 'u', url: 'https://example.com/' },
      }),
      'quota-exceeded',
    );
    expect((await h.rpc.call(RequestQueuesRpc.get, { id: queue.id })).totalRequestCount).toBe(0);

    const view = await usage(owner);
    expect(view.storageBytes).toBe(jsonBytes(first[0]) * 2);
    // Only the two storages' creation was recorded since: no bytes of any refused write.
    expect((await ledger(owner)).slice(before.length).map((e) => e.metric)).toEqual([
      'RESOURCE_COUNT',
      'RESOURCE_COUNT',
    ]);

    // Over the limit (lowered below what is stored), freeing space still works.
    await h.rpc.call(UsageRpc.setLimits, { accountId: owner, limits: { storageBytes: 0 } });
    await h.rpc.call(DatasetsRpc.delete, { id: dataset.id });
    expect((await usage(owner)).storageBytes).toBe(0);
    await expectCountersMatchLedger(owner);
  });

  it('never lets concurrent creates exceed the limit: limit 3, 10 at once, exactly 3 succeed', async () => {
    const owner = newId();
    const member = newId();
    await h.rpc.call(UsageRpc.setLimits, { accountId: owner, limits: { resources: { DATASET: 3 } } });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => createDataset(owner, i % 2 ? member : owner)),
    );
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(created).toHaveLength(3);
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.reason).toMatchObject({ type: 'quota-exceeded' });
      expect(String(r.reason.message)).toContain('limit of 3 datasets');
    }
    const listed = await h.rpc.call(DatasetsRpc.list, { ownerId: owner, unnamed: true, page });
    expect(listed.total).toBe(3);
    const view = await usage(owner);
    expect(view.resources.DATASET).toBe(3);
    expect(view.limits.resources.DATASET).toBe(3);
    expect(view.byUser.reduce((n, u) => n + u.resources.DATASET, 0)).toBe(3);
    // Other types keep the deployment's limit.
    expect(view.limits.resources.KEY_VALUE_STORE).toBe(DEPLOYMENT.resourcesPerType);
    await h.rpc.call(KeyValueStoresRpc.create, { ownerId: owner, createdBy: owner });

    // Deleting one frees a place.
    await h.rpc.call(DatasetsRpc.delete, { id: listed.items[0].id });
    await createDataset(owner);
    await expectAppError(createDataset(owner), 'quota-exceeded');
    await expectCountersMatchLedger(owner);
  });

  it('never lets concurrent pushes exceed the storage limit', async () => {
    const owner = newId();
    const item = { x: '0123456789' };
    const size = jsonBytes(item);
    await h.rpc.call(UsageRpc.setLimits, { accountId: owner, limits: { storageBytes: size * 5 + size - 1 } });
    const datasets = await Promise.all([createDataset(owner), createDataset(owner)]);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        h.rpc.call(DatasetsRpc.pushItems, { id: datasets[i % 2].dataset.id, items: [item] }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const stored = await Promise.all(datasets.map((d) => h.rpc.call(DatasetsRpc.get, { id: d.dataset.id })));
    expect(stored.reduce((n, d) => n + d.itemCount, 0)).toBe(5);
    expect((await usage(owner)).storageBytes).toBe(size * 5);
    await expectCountersMatchLedger(owner);
  });

  it('counts a finished run for the user who started it and refuses a start once run time is used up', async () => {
    const owner = newId();
    const starter = newId();
    const actor = await h.rpc.call(ActorsRpc.createActor, {
      ownerId: owner,
      createdBy: owner,
      actor: { name: 'timed' },
    });
    const start = () =>
      h.rpc.call(RunsRpc.start, {
        actorId: actor.id,
        taskId: null,
        userId: starter,
        input: null,
        options: {},
      });
    const run = await start();
    await h.rpc.call(RunsRpc.update, { id: run.id, changes: { status: 'RUNNING' } });
    expect((await usage(starter)).runTimeSecs).toBe(0);
    await new Promise((done) => setTimeout(done, 20));
    await h.rpc.call(RunsRpc.update, { id: run.id, changes: { status: 'SUCCEEDED' } });
    const finished = await h.rpc.call(RunsRpc.get, { id: run.id });
    const secs = Math.ceil((Date.parse(finished.finishedAt!) - Date.parse(finished.startedAt)) / 1000);
    expect(secs).toBeGreaterThanOrEqual(1);
    let view = await usage(starter);
    expect(view.runTimeSecs).toBe(secs);
    expect(userFigures(view, starter)).toMatchObject({ runTimeSecs: secs });
    // A run starts with its default storages: all counted for the starter's account.
    expect(view.resources).toMatchObject({ ACTOR_RUN: 1, DATASET: 1, KEY_VALUE_STORE: 1, REQUEST_QUEUE: 1 });
    // Aborting an already finished run counts nothing twice.
    await expectAppError(h.rpc.call(RunsRpc.abort, { id: run.id }), 'conflict');
    expect((await usage(starter)).runTimeSecs).toBe(secs);

    // Another run in progress is aborted: it counts too.
    const second = await start();
    await h.rpc.call(RunsRpc.abort, { id: second.id });
    view = await usage(starter);
    expect(view.runTimeSecs).toBeGreaterThanOrEqual(secs + 1);

    // With the run time used up, a start is refused and creates nothing (no run, no storages).
    await h.rpc.call(UsageRpc.setLimits, { accountId: starter, limits: { runTimeSecs: view.runTimeSecs } });
    const err = await expectAppError(start(), 'quota-exceeded');
    expect(err.message).toContain('run time');
    const refused = await usage(starter);
    expect(refused.resources).toEqual(view.resources);
    expect((await h.rpc.call(RunsRpc.list, { userId: starter, page })).total).toBe(2);
    await expectCountersMatchLedger(starter);
  });

  it('lets an account set lower limits for itself; above the deployment or malformed is invalid-input', async () => {
    const owner = newId();
    const set = (limits: object) => h.rpc.call(UsageRpc.setLimits, { accountId: owner, limits } as never);
    const view = await set({ resources: { DATASET: 2, ENVIRONMENT: 0 }, storageBytes: 1000 });
    expect(view.limits.resources).toMatchObject({ DATASET: 2, ENVIRONMENT: 0, ACTOR: 50 });
    expect(view.limits.storageBytes).toBe(1000);
    expect(view.limits.runTimeSecs).toBe(DEPLOYMENT.runTimeSecs);
    // Absent fields are kept; null gives the deployment's limit back.
    const changed = await set({ runTimeSecs: 60, resources: { ENVIRONMENT: null } });
    expect(changed.limits).toMatchObject({ storageBytes: 1000, runTimeSecs: 60 });
    expect(changed.limits.resources).toMatchObject({ DATASET: 2, ENVIRONMENT: 50 });
    expect((await set({ storageBytes: null })).limits.storageBytes).toBe(DEPLOYMENT.storageBytes);

    const refused: [object, string][] = [
      [{ resources: { DATASET: 51 } }, 'resources.DATASET'],
      [{ storageBytes: DEPLOYMENT.storageBytes + 1 }, 'storageBytes'],
      [{ runTimeSecs: DEPLOYMENT.runTimeSecs + 1 }, 'runTimeSecs'],
      [{ storageBytes: -1 }, 'storageBytes'],
      [{ runTimeSecs: 1.5 }, 'runTimeSecs'],
      [{ resources: { WIDGET: 1, DATASET: -1 } }, 'resources.DATASET'],
      [{ quota: 1, runTimeSecs: -1 }, 'runTimeSecs'],
    ];
    for (const [limits, field] of refused) {
      const err = await expectAppError(set(limits), 'invalid-input');
      expect(err.message).toContain(field);
    }
    // A refused change leaves the limits as they were.
    const after = await usage(owner);
    expect(after.limits).toMatchObject({ storageBytes: DEPLOYMENT.storageBytes, runTimeSecs: 60 });
    expect(after.limits.resources.DATASET).toBe(2);
  });
});
