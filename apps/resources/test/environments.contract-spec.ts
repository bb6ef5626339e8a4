import {
  EnvironmentGroupsRpc,
  EnvironmentsRpc,
  EventEnvelope,
  Events,
  ResourceFacts,
  RpcRequest,
} from '@atrium/contracts';
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

/** Environments and environment groups as the resources service keeps them. */
describe('resources environments contract (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const events: EventEnvelope<ResourceFacts>[] = [];
  const page = { offset: 0, limit: 100, desc: false };
  const owner = newId();
  const member = newId();

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) => ResourcesModule.forRoot(testServiceConfig(url)));
    await h.bus.subscribe(
      uniqueName('environments-probe'),
      [Events.resourceCreated.name, Events.resourceUpdated.name],
      async (e) => {
        events.push(e as EventEnvelope<ResourceFacts>);
      },
    );
  });
  afterAll(() => h.close());

  it('nests groups under the same owner only, without cycles, and deletes only empty ones', async () => {
    const root = await h.rpc.call(EnvironmentGroupsRpc.create, {
      ownerId: owner,
      createdBy: owner,
      name: 'root',
    });
    const child = await h.rpc.call(EnvironmentGroupsRpc.create, {
      ownerId: owner,
      createdBy: member,
      name: 'child',
      parentId: root.id,
    });
    expect(child).toMatchObject({ ownerId: owner, createdBy: member, parentId: root.id });
    // The parent chain reaches the permissions service as the catalogue's groupId.
    await eventually(async () =>
      expect(events).toContainEqual(
        expect.objectContaining({
          name: 'resource.created',
          payload: expect.objectContaining({ id: child.id, type: 'ENVIRONMENT_GROUP', groupId: root.id }),
        }),
      ),
    );

    const foreign = await h.rpc.call(EnvironmentGroupsRpc.create, {
      ownerId: newId(),
      createdBy: member,
      name: 'theirs',
    });
    const err = await expectAppError(
      h.rpc.call(EnvironmentGroupsRpc.create, {
        ownerId: owner,
        createdBy: owner,
        name: 'x',
        parentId: foreign.id,
      }),
      'invalid-input',
    );
    expect(err.message).toContain('body.parentId');
    await expectAppError(
      h.rpc.call(EnvironmentGroupsRpc.create, { ownerId: owner, createdBy: owner, name: 'root' }),
      'conflict',
    );
    const cycle = await expectAppError(
      h.rpc.call(EnvironmentGroupsRpc.update, { id: root.id, changes: { parentId: child.id } }),
      'invalid-input',
    );
    expect(cycle.message).toContain('subgroups');
    await expectAppError(
      h.rpc.call(EnvironmentGroupsRpc.update, { id: root.id, changes: { parentId: root.id } }),
      'invalid-input',
    );
    await expectAppError(h.rpc.call(EnvironmentGroupsRpc.delete, { id: root.id }), 'conflict');

    const moved = await h.rpc.call(EnvironmentGroupsRpc.update, {
      id: child.id,
      changes: { parentId: null },
    });
    expect(moved.parentId).toBeNull();
    const listed = await h.rpc.call(EnvironmentGroupsRpc.list, { ownerIds: [owner], page });
    expect(listed.items.map((g) => g.name)).toEqual(['root', 'child']);
    expect(await h.rpc.call(EnvironmentGroupsRpc.delete, { id: root.id })).toEqual({ ok: true });
    await expectAppError(h.rpc.call(EnvironmentGroupsRpc.get, { id: root.id }), 'record-not-found');
  });

  it('creates environments in the owner groups only and changes their state with each action', async () => {
    const group = await h.rpc.call(EnvironmentGroupsRpc.create, {
      ownerId: owner,
      createdBy: owner,
      name: 'prod',
    });
    const env = await h.rpc.call(EnvironmentsRpc.create, {
      ownerId: owner,
      createdBy: member,
      name: 'web',
      groupId: group.id,
      config: { replicas: 1 },
    });
    expect(env).toMatchObject({
      ownerId: owner,
      createdBy: member,
      groupId: group.id,
      status: 'CREATED',
      region: 'default',
      config: { replicas: 1 },
      deployments: [],
    });
    const stranger = await h.rpc.call(EnvironmentGroupsRpc.create, {
      ownerId: newId(),
      createdBy: member,
      name: 'prod',
    });
    const err = await expectAppError(
      h.rpc.call(EnvironmentsRpc.create, {
        ownerId: owner,
        createdBy: owner,
        name: 'api',
        groupId: stranger.id,
      }),
      'invalid-input',
    );
    expect(err.message).toContain('body.groupId');

    const act = (action: RpcRequest<typeof EnvironmentsRpc.runEnvironmentAction>['action']) =>
      h.rpc.call(EnvironmentsRpc.runEnvironmentAction, { id: env.id, actorId: member, action });
    await expectAppError(act({ action: 'stop' }), 'conflict');
    await expectAppError(act({ action: 'ssh' }), 'conflict');
    expect((await act({ action: 'start' })).environment.status).toBe('RUNNING');
    await expectAppError(act({ action: 'start' }), 'conflict');
    await act({ action: 'restart' });
    const deployed = await act({ action: 'deploy', artifact: 'web-1.2.3.tar.gz' });
    expect(deployed.environment.deployments).toEqual([
      expect.objectContaining({ artifact: 'web-1.2.3.tar.gz', deployedBy: member }),
    ]);
    expect((await act({ action: 'configure', config: { replicas: 3 } })).environment.config).toEqual({
      replicas: 3,
    });
    const ssh = await act({ action: 'ssh' });
    expect(ssh.session).toMatchObject({ port: 22, host: 'ssh.default.atrium.internal' });
    expect((await act({ action: 'migrate', region: 'eu-west' })).environment.region).toBe('eu-west');
    await expectAppError(act({ action: 'migrate', region: 'eu-west' }), 'conflict');
    expect((await act({ action: 'stop' })).environment.status).toBe('STOPPED');

    const log = await h.rpc.call(EnvironmentsRpc.getEnvironmentLog, { id: env.id, page });
    expect(log.items.map((l) => l.message.split(' ')[0])).toEqual([
      'Environment',
      'Started',
      'Restarted',
      'Deployed',
      'Configuration',
      'SSH',
      'Migrated',
      'Stopped',
    ]);

    const clone = await h.rpc.call(EnvironmentsRpc.cloneEnvironment, { id: env.id, actorId: member });
    expect(clone).toMatchObject({
      name: 'web-copy',
      ownerId: owner,
      createdBy: member,
      groupId: group.id,
      status: 'CREATED',
      region: 'eu-west',
      config: { replicas: 3 },
    });
    await expectAppError(
      h.rpc.call(EnvironmentsRpc.cloneEnvironment, { id: env.id, actorId: member }),
      'conflict',
    );

    const moved = await h.rpc.call(EnvironmentsRpc.update, {
      id: env.id,
      changes: { groupId: null, name: 'web2' },
    });
    expect(moved).toMatchObject({ groupId: null, name: 'web2' });
    await eventually(async () =>
      expect(events).toContainEqual(
        expect.objectContaining({
          name: 'resource.updated',
          payload: expect.objectContaining({ id: env.id, groupId: null, name: 'web2' }),
        }),
      ),
    );
    const listed = await h.rpc.call(EnvironmentsRpc.list, { ownerIds: [owner], page });
    expect(listed.items.map((e) => e.name)).toEqual(['web2', 'web-copy']);
    const byIds = await h.rpc.call(EnvironmentsRpc.list, { ids: [clone.id, env.id], page });
    expect(byIds.items.map((e) => e.id)).toEqual([clone.id, env.id]);

    expect(await h.rpc.call(EnvironmentsRpc.delete, { id: env.id })).toEqual({ ok: true });
    await expectAppError(h.rpc.call(EnvironmentsRpc.get, { id: env.id }), 'record-not-found');
    // A group is not an environment, nor the reverse.
    await expectAppError(h.rpc.call(EnvironmentsRpc.get, { id: group.id }), 'record-not-found');
    await expectAppError(h.rpc.call(EnvironmentGroupsRpc.get, { id: clone.id }), 'record-not-found');
  });

  it('verifies that shared items are the owner environments and groups, naming the first that is not', async () => {
    const env = await h.rpc.call(EnvironmentsRpc.create, {
      ownerId: owner,
      createdBy: owner,
      name: 'mine',
    });
    const group = await h.rpc.call(EnvironmentGroupsRpc.create, {
      ownerId: owner,
      createdBy: owner,
      name: 'mine',
    });
    const other = await h.rpc.call(EnvironmentsRpc.create, {
      ownerId: newId(),
      createdBy: owner,
      name: 'theirs',
    });
    expect(
      await h.rpc.call(EnvironmentsRpc.verifyOwnedItems, {
        ownerId: owner,
        items: [
          { id: env.id, type: 'ENVIRONMENT', field: 'body.shared.0.resourceId' },
          { id: group.id, type: 'ENVIRONMENT_GROUP', field: 'body.shared.1.groupId' },
        ],
      }),
    ).toEqual({ ok: true });
    for (const [item, field] of [
      [{ id: other.id, type: 'ENVIRONMENT' as const }, 'body.shared.2.resourceId'],
      [{ id: env.id, type: 'ENVIRONMENT_GROUP' as const }, 'body.shared.3.groupId'],
    ] as const) {
      const err = await expectAppError(
        h.rpc.call(EnvironmentsRpc.verifyOwnedItems, { ownerId: owner, items: [{ ...item, field }] }),
        'invalid-input',
      );
      expect(err.message).toContain(field);
    }
  });
});
