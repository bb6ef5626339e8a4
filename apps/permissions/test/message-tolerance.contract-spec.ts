import { AccountFacts, EventDefinition, Events, PermissionsRpc, ResourceFacts } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import {
  ContractHarness,
  eventually,
  expectAppError,
  startContractHarness,
  testServiceConfig,
  withUnknownFields,
} from '@atrium/testing';
import { randomUUID } from 'node:crypto';
import { PermissionsModule } from '../src/permissions.module';

/**
 * Rolling upgrades (README): messages of a later release — with fields this one does not know, at
 * the top and nested, and a newer schema version — reach the real handlers over RabbitMQ and take
 * effect, the unknown fields ignored (they change nothing, even when named like a privilege).
 * Every route and event is covered without a broker by libs/testing/src/message-tolerance.spec.ts.
 */
describe('permissions reads messages of a later release (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const alice: AccountFacts = {
    id: newId(),
    username: 'alice-tolerant',
    generalResourceAccess: 'RESTRICTED',
    shareRunsWithPublicActorCreators: false,
    version: 1,
  };
  const bob = newId();
  const dataset: ResourceFacts = {
    id: newId(),
    type: 'DATASET',
    ownerId: alice.id,
    name: 'tolerant',
    generalAccess: 'FOLLOW_USER_SETTING',
    isPublic: false,
    actorId: null,
    taskId: null,
    runId: null,
    groupId: null,
    version: 1,
  };
  const publish = (event: EventDefinition, payload: unknown, schemaVersion: string) =>
    h.bus.publish({
      id: randomUUID(),
      name: event.name,
      occurredAt: new Date().toISOString(),
      payload: withUnknownFields(event.payload, payload),
      schemaVersion,
    });
  const check = (userId: string, permission: 'READ' | 'WRITE' | 'MANAGE_ACCESS', extra = {}) =>
    h.rpc.call(PermissionsRpc.check, {
      principal: { userId, ...extra },
      resourceType: 'DATASET',
      resourceRef: dataset.id,
      permission,
      ...extra,
    } as never);

  beforeAll(async () => {
    h = await startContractHarness('permissions', (url) =>
      PermissionsModule.forRoot(testServiceConfig(url, { RPC_TIMEOUT_MS: '1000' })),
    );
  });
  afterAll(() => h.close());

  it('applies events with unknown fields, of the next major and of one outside the window', async () => {
    // The next major: expected during an upgrade.
    await publish(Events.accountCreated, alice, '2.0');
    // Far outside the rule (a release skipped): still applied when its payload validates.
    await publish(Events.resourceCreated, dataset, '9.1');
    await eventually(async () =>
      expect(await check(alice.id, 'MANAGE_ACCESS')).toMatchObject({ allowed: true, rule: 'owner' }),
    );
    // The projection took the known fields only: a resource update of the same shape still applies.
    await publish(
      Events.resourceUpdated,
      { ...dataset, generalAccess: 'ANYONE_WITH_ID_CAN_READ', version: 2 },
      '2.0',
    );
    await eventually(async () =>
      expect(await check(bob, 'READ')).toMatchObject({ allowed: true, rule: 'general-access' }),
    );
    await publish(Events.resourceUpdated, { ...dataset, generalAccess: 'RESTRICTED', version: 3 }, '2.0');
    await eventually(async () => expect(await check(bob, 'READ')).toMatchObject({ allowed: false }));
  });

  it('answers RPCs with unknown fields, top level and nested, as without them', async () => {
    // Fields named like privileges, at the top and in the principal: ignored, never acted on.
    const privileged = { isAdmin: true, rule: 'owner', allowed: true };
    expect(await check(bob, 'READ', privileged)).toMatchObject({ allowed: false, canRead: false });
    expect(await check(alice.id, 'WRITE', privileged)).toMatchObject({ allowed: true, rule: 'owner' });

    const grant = await h.rpc.call(PermissionsRpc.createGrant, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
      subjectId: bob,
      permissions: ['READ'],
      grantedBy: alice.id,
      // A later release's field: not understood here, so it grants nothing.
      extraPermissions: ['MANAGE_ACCESS', 'WRITE'],
    } as never);
    expect(grant.permissions).toEqual(['READ']);
    expect(await check(bob, 'READ')).toMatchObject({ allowed: true, rule: 'grant' });
    expect(await check(bob, 'WRITE')).toMatchObject({ allowed: false, canRead: true });

    const answers = await h.rpc.call(PermissionsRpc.checkMany, {
      checks: [
        {
          principal: { userId: bob, laterField: 1 },
          resourceRef: dataset.id,
          permission: 'READ',
          laterField: 1,
        },
        { principal: { userId: bob }, resourceRef: dataset.id, permission: 'MANAGE_ACCESS', laterField: 2 },
      ],
      laterField: { nested: true },
    } as never);
    expect(answers.map((a) => a.allowed)).toEqual([true, false]);
  });

  it('stays strict on the fields it knows, unknown ones beside them', async () => {
    const err = await expectAppError(
      h.rpc.call(PermissionsRpc.createGrant, {
        resourceType: 'DATASET',
        resourceId: dataset.id,
        subjectId: bob,
        permissions: ['NOT_A_PERMISSION'],
        grantedBy: alice.id,
        laterField: true,
      } as never),
      'invalid-input',
    );
    expect(err.message).toContain('payload.permissions');
  });
});
