import {
  DatasetsRpc,
  EventEnvelope,
  Events,
  KeyValueStoresRpc,
  ResourcesRpc,
  RpcPayload,
} from '@atrium/contracts';
import { randomUUID } from 'node:crypto';
import { newId } from '@atrium/auth';
import {
  ContractHarness,
  eventually,
  expectAppError,
  expectEveryRouteValidated,
  recordEvents,
  startContractHarness,
  testServiceConfig,
} from '@atrium/testing';
import { ResourcesModule } from '../src/resources.module';

describe('resources message contract (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const received: EventEnvelope[] = [];
  const owner = newId();
  const page = { offset: 0, limit: 100, desc: false };

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) => ResourcesModule.forRoot(testServiceConfig(url)));
    await recordEvents(
      h,
      'resources',
      [Events.resourceCreated.name, Events.resourceUpdated.name, Events.resourceDeleted.name],
      received,
    );
  });
  afterAll(() => h.close());

  it('validates the payload of every pattern it defines', () => expectEveryRouteValidated(h, 'resources'));

  it('answers health', async () => {
    expect(await h.rpc.call(ResourcesRpc.health, {})).toEqual({ service: 'resources', ok: true });
  });

  it('creates datasets (get-or-create by name) and publishes resource.created', async () => {
    const first = await h.rpc.call(DatasetsRpc.create, {
      ownerId: owner,
      name: 'alpha',
      createdBy: owner,
    });
    expect(first.created).toBe(true);
    expect(first.dataset).toMatchObject({
      name: 'alpha',
      userId: owner,
      itemCount: 0,
      generalAccess: 'FOLLOW_USER_SETTING',
    });
    const again = await h.rpc.call(DatasetsRpc.create, {
      ownerId: owner,
      name: 'alpha',
      createdBy: owner,
    });
    expect(again).toMatchObject({ created: false, dataset: { id: first.dataset.id } });
    await eventually(async () =>
      expect(received).toContainEqual(
        expect.objectContaining({
          name: 'resource.created',
          payload: {
            id: first.dataset.id,
            type: 'DATASET',
            ownerId: owner,
            name: 'alpha',
            generalAccess: 'FOLLOW_USER_SETTING',
            isPublic: false,
            actorId: null,
            taskId: null,
            runId: null,
            groupId: null,
            version: 1,
          },
        }),
      ),
    );
    // Exactly one created event for the name, however often get-or-create is called.
    expect(
      received.filter(
        (e) => e.name === 'resource.created' && (e.payload as { id: string }).id === first.dataset.id,
      ),
    ).toHaveLength(1);
  });

  it('serves catalogue facts by id and by name', async () => {
    const { dataset } = await h.rpc.call(DatasetsRpc.create, {
      ownerId: owner,
      name: 'beta',
      createdBy: owner,
    });
    expect(await h.rpc.call(ResourcesRpc.getResourceFacts, { id: dataset.id })).toMatchObject({
      id: dataset.id,
      version: 1,
    });
    expect(
      await h.rpc.call(ResourcesRpc.findResourceFactsByName, {
        type: 'DATASET',
        ownerId: owner,
        name: 'beta',
      }),
    ).toMatchObject({
      id: dataset.id,
    });
    expect(await h.rpc.call(ResourcesRpc.getResourceFacts, { id: newId() })).toBeNull();
  });

  it('updates with a version bump, refuses duplicate names, deletes with an event', async () => {
    const { dataset } = await h.rpc.call(DatasetsRpc.create, { ownerId: owner, createdBy: owner });
    const updated = await h.rpc.call(DatasetsRpc.update, {
      id: dataset.id,
      changes: { name: 'gamma', generalAccess: 'RESTRICTED' },
    });
    expect(updated).toMatchObject({ name: 'gamma', generalAccess: 'RESTRICTED' });
    expect((await h.rpc.call(ResourcesRpc.getResourceFacts, { id: dataset.id }))?.version).toBe(2);
    await expectAppError(
      h.rpc.call(DatasetsRpc.update, { id: dataset.id, changes: { name: 'alpha' } }),
      'conflict',
    );
    expect((await h.rpc.call(DatasetsRpc.get, { id: dataset.id })).name).toBe('gamma');

    await h.rpc.call(DatasetsRpc.delete, { id: dataset.id });
    await expectAppError(h.rpc.call(DatasetsRpc.get, { id: dataset.id }), 'record-not-found');
    await expectAppError(h.rpc.call(DatasetsRpc.delete, { id: dataset.id }), 'record-not-found');
    await eventually(async () =>
      expect(received).toContainEqual(
        expect.objectContaining({
          name: 'resource.deleted',
          payload: expect.objectContaining({ id: dataset.id, version: 3 }),
        }),
      ),
    );
  });

  it('lists by owner (named unless asked) and by ids in the given order', async () => {
    const other = newId();
    const a = await h.rpc.call(DatasetsRpc.create, { ownerId: other, name: 'one', createdBy: other });
    const b = await h.rpc.call(DatasetsRpc.create, { ownerId: other, createdBy: other });
    const named = await h.rpc.call(DatasetsRpc.list, { ownerId: other, page });
    expect(named.items.map((d) => d.id)).toEqual([a.dataset.id]);
    const all = await h.rpc.call(DatasetsRpc.list, {
      ownerId: other,
      unnamed: true,
      page: { ...page, desc: true },
    });
    expect(all).toMatchObject({ total: 2, count: 2 });
    expect(all.items.map((d) => d.id)).toEqual([b.dataset.id, a.dataset.id]);
    const byIds = await h.rpc.call(DatasetsRpc.list, { ids: [b.dataset.id, a.dataset.id], page });
    expect(byIds.items.map((d) => d.id)).toEqual([b.dataset.id, a.dataset.id]);
    await expectAppError(h.rpc.call(DatasetsRpc.list, { page } as never), 'invalid-input');
  });

  it('pushes items atomically and reads them by position range, transformed, in chunks', async () => {
    const { dataset } = await h.rpc.call(DatasetsRpc.create, { ownerId: owner, createdBy: owner });
    await h.rpc.call(DatasetsRpc.pushItems, { id: dataset.id, items: [{ a: 1, b: 1 }, { a: 2, b: 2 }, {}] });
    expect(await h.rpc.call(DatasetsRpc.pushItems, { id: dataset.id, items: [{ a: 4, b: 4 }] })).toEqual({
      itemCount: 4,
    });
    const read = (req: Partial<RpcPayload<typeof DatasetsRpc.readItems>>) =>
      h.rpc.call(DatasetsRpc.readItems, { id: dataset.id, from: 0, to: 4, transform: {}, ...req } as never);
    // Positions [0, 3) backwards: the newest of them first, the empty item kept.
    expect(await read({ from: 0, to: 3, desc: true, transform: { omit: ['b'] } } as never)).toEqual({
      items: [{}, { a: 2 }, { a: 1 }],
      rest: null,
    });
    expect((await read({ transform: { fields: ['a'], skipEmpty: true } } as never)).items).toEqual([
      { a: 1 },
      { a: 2 },
      { a: 4 },
    ]);
    expect(await read({ shape: 'columns' })).toEqual({ columns: ['a', 'b'], rest: null });
    await expectAppError(read({ transform: { shout: true, fields: 'a' } } as never), 'invalid-input');
    // A range of a dataset with no items there (it was deleted while an export read it): said.
    await expectAppError(read({ id: newId(), from: 0, to: 2 } as never), 'record-not-found');
    await expectAppError(
      h.rpc.call(DatasetsRpc.pushItems, { id: newId(), items: [{ a: 1 }] }),
      'record-not-found',
    );
    await expectAppError(h.rpc.call(DatasetsRpc.pushItems, { id: dataset.id, items: [] }), 'invalid-input');
    expect((await h.rpc.call(DatasetsRpc.get, { id: dataset.id })).itemCount).toBe(4);
  });

  it('applies a declared signing-key rotation once: by its event alone, or by the call, never twice', async () => {
    const org = newId();
    const someoneElse = newId();
    const dataset = async (ownerId: string) =>
      (await h.rpc.call(DatasetsRpc.create, { ownerId, createdBy: ownerId })).dataset.id;
    const [a, b, other] = [await dataset(org), await dataset(org), await dataset(someoneElse)];
    const store = (await h.rpc.call(KeyValueStoresRpc.create, { ownerId: org, createdBy: org })).store.id;
    const keys = async () => ({
      a: (await h.rpc.call(DatasetsRpc.get, { id: a })).urlSigningSecretKey,
      b: (await h.rpc.call(DatasetsRpc.get, { id: b })).urlSigningSecretKey,
      other: (await h.rpc.call(DatasetsRpc.get, { id: other })).urlSigningSecretKey,
      store: (await h.rpc.call(KeyValueStoresRpc.get, { id: store })).urlSigningSecretKey,
    });
    const before = await keys();

    // The changer's call never came: the event rotates every storage of the account, no other's.
    const everything = {
      rotationId: randomUUID(),
      ownerId: org,
      types: ['DATASET', 'KEY_VALUE_STORE', 'REQUEST_QUEUE'] as const,
      reason: 'membership-changed' as const,
    };
    await h.bus.publish({
      id: randomUUID(),
      name: Events.signingKeysRotationRequested.name,
      occurredAt: new Date().toISOString(),
      payload: { ...everything, types: [...everything.types] },
    });
    const rotated = await eventually(async () => {
      const now = await keys();
      expect(now.a).not.toBe(before.a);
      return now;
    });
    expect(rotated.b).not.toBe(before.b);
    expect(rotated.store).not.toBe(before.store);
    expect(rotated.other).toBe(before.other);
    expect(rotated.a).toMatch(/^[A-Za-z0-9]{32}$/);
    // Asked again (the call after its event, or a redelivery): nothing more changes.
    expect(
      await h.rpc.call(ResourcesRpc.rotateSigningKeys, { ...everything, types: [...everything.types] }),
    ).toEqual({ rotated: 0 });
    expect(await keys()).toEqual(rotated);

    // A grant's rotation: that storage only.
    const one = {
      rotationId: randomUUID(),
      ownerId: org,
      resourceIds: [b],
      types: ['DATASET' as const],
      reason: 'grant-revoked' as const,
    };
    expect(await h.rpc.call(ResourcesRpc.rotateSigningKeys, one)).toEqual({ rotated: 1 });
    const after = await keys();
    expect(after).toEqual({ ...rotated, b: expect.not.stringMatching(`^${rotated.b}$`) });
    // The storage must belong to the account named: another owner's is never rotated by mistake.
    expect(
      await h.rpc.call(ResourcesRpc.rotateSigningKeys, {
        ...one,
        rotationId: randomUUID(),
        resourceIds: [other],
      }),
    ).toEqual({ rotated: 0 });
  });
});
