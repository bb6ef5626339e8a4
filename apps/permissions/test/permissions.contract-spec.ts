import {
  AccountFacts,
  Events,
  EventDefinition,
  EventPayload,
  PermissionsRpc,
  ResourceFacts,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { deadLetterQueue, eventQueue } from '@atrium/messaging';
import {
  ContractHarness,
  eventually,
  expectAppError,
  expectEveryRouteValidated,
  startContractHarness,
  TEST_AMQP_URL,
  testServiceConfig,
} from '@atrium/testing';
import * as amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PermissionsModule } from '../src/permissions.module';

describe('permissions message contract (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const alice: AccountFacts = {
    id: newId(),
    username: 'alice-contract',
    generalResourceAccess: 'RESTRICTED',
    shareRunsWithPublicActorCreators: false,
    version: 1,
  };
  const bob = newId();
  const dataset: ResourceFacts = {
    id: newId(),
    type: 'DATASET',
    ownerId: alice.id,
    name: 'facts',
    generalAccess: 'FOLLOW_USER_SETTING',
    isPublic: false,
    actorId: null,
    taskId: null,
    runId: null,
    groupId: null,
    version: 1,
  };
  const publish = <E extends EventDefinition>(event: E, payload: EventPayload<E>, id = randomUUID()) =>
    h.bus.publish({ id, name: event.name, occurredAt: new Date().toISOString(), payload }).then(() => id);
  const check = (
    userId: string | null,
    permission: 'READ' | 'WRITE' | 'MANAGE_ACCESS',
    resourceRef = dataset.id,
  ) =>
    h.rpc.call(PermissionsRpc.check, {
      principal: { userId },
      resourceType: 'DATASET',
      resourceRef,
      permission,
    });

  beforeAll(async () => {
    // Its calls to other services (none run here) give up well before the harness's own 3 s.
    h = await startContractHarness('permissions', (url) =>
      PermissionsModule.forRoot(testServiceConfig(url, { RPC_TIMEOUT_MS: '1000' })),
    );
    await publish(Events.accountCreated, alice);
    await publish(Events.resourceCreated, dataset);
    await eventually(async () => expect((await check(alice.id, 'READ')).allowed).toBe(true));
  });
  afterAll(() => h.close());

  it('validates the payload of every pattern it defines', () => expectEveryRouteValidated(h, 'permissions'));

  it('decides from projections fed by events: owner, general access by id and by name', async () => {
    expect(await check(alice.id, 'MANAGE_ACCESS')).toMatchObject({
      allowed: true,
      canRead: true,
      rule: 'owner',
      resourceId: dataset.id,
      permissions: ['MANAGE_ACCESS', 'READ', 'WRITE'],
    });
    expect(await check(bob, 'READ')).toMatchObject({ allowed: false, canRead: false, resourceId: null });
    expect(await check(alice.id, 'READ', `${alice.username}~facts`)).toMatchObject({
      allowed: true,
      resourceId: dataset.id,
    });
    expect(await check(alice.id, 'READ', '~facts')).toMatchObject({ allowed: true });

    await publish(Events.accountUpdated, {
      ...alice,
      generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ',
      version: 2,
    });
    await eventually(async () =>
      expect(await check(null, 'READ')).toMatchObject({ allowed: true, rule: 'general-access' }),
    );
    expect(await check(null, 'READ', `${alice.username}~facts`)).toMatchObject({ allowed: false });
    expect(await check(bob, 'WRITE')).toMatchObject({ allowed: false, canRead: true });
  });

  it('never lets an older event overwrite a newer state', async () => {
    await publish(Events.resourceUpdated, {
      ...dataset,
      generalAccess: 'RESTRICTED',
      version: 5,
      changedBy: alice.id,
    });
    // Without `changedBy`, as a producer of an earlier release sends it: still accepted.
    await publish(Events.resourceUpdated, {
      ...dataset,
      generalAccess: 'ANYONE_WITH_NAME_CAN_READ',
      version: 4,
    });
    await eventually(async () => expect(await check(null, 'READ')).toMatchObject({ allowed: false }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await check(null, 'READ')).toMatchObject({ allowed: false });
    // The change is audited once, as the event's `changedBy`'s.
    const { items } = await h.rpc.call(PermissionsRpc.listAuditLog, {
      caller: { userId: alice.id },
      resourceId: dataset.id,
      limit: 100,
    });
    const restricted = items.filter(
      (e) =>
        e.action === 'general-access.changed' &&
        (e.after as { generalAccess: string }).generalAccess === 'RESTRICTED',
    );
    expect(restricted).toEqual([expect.objectContaining({ actorId: alice.id })]);
  });

  it('creates, changes, lists and revokes grants, with permissions.changed in the outbox', async () => {
    const grant = await h.rpc.call(PermissionsRpc.createGrant, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
      subjectId: bob,
      permissions: ['READ'],
      grantedBy: alice.id,
    });
    expect(await check(bob, 'READ')).toMatchObject({ allowed: true, rule: 'grant' });
    expect(await check(bob, 'WRITE')).toMatchObject({ allowed: false, canRead: true });
    await expectAppError(
      h.rpc.call(PermissionsRpc.createGrant, {
        resourceType: 'DATASET',
        resourceId: dataset.id,
        subjectId: bob,
        permissions: ['READ'],
        grantedBy: alice.id,
      }),
      'conflict',
    );
    await expectAppError(
      h.rpc.call(PermissionsRpc.createGrant, {
        resourceType: 'DATASET',
        resourceId: dataset.id,
        subjectId: alice.id,
        permissions: ['READ'],
        grantedBy: alice.id,
      }),
      'invalid-input',
    );
    await h.rpc.call(PermissionsRpc.updateGrant, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
      grantId: grant.id,
      changes: { permissions: ['WRITE'] },
      updatedBy: alice.id,
    });
    expect(await check(bob, 'WRITE')).toMatchObject({ allowed: true, permissions: ['READ', 'WRITE'] });

    const listing = await h.rpc.call(PermissionsRpc.listAccess, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
    });
    expect(listing).toMatchObject({
      owner: { userId: alice.id },
      generalAccess: 'RESTRICTED',
      effectiveGeneralAccess: 'RESTRICTED',
    });
    expect(listing.grants.map((g) => g.userId)).toEqual([bob]);
    expect(
      await h.rpc.call(PermissionsRpc.listSharedWith, {
        subjectId: bob,
        resourceType: 'DATASET',
        offset: 0,
        limit: 10,
        desc: false,
      }),
    ).toEqual({
      total: 1,
      resourceIds: [dataset.id],
      nextCursor: null,
      validUntil: null,
    });

    // Bob could WRITE, so he was shown the signing key: the revoke rotates it. With no resources
    // service to apply the rotation now, the caller is told so; the revoke itself holds, and the
    // rotation is in the outbox for the resources service to apply when it can.
    const pending = await expectAppError(
      h.rpc.call(PermissionsRpc.revokeGrant, {
        resourceType: 'DATASET',
        resourceId: dataset.id,
        grantId: grant.id,
        revokedBy: alice.id,
      }),
      'service-unavailable',
    );
    expect(pending.message).toContain('signing key is not rotated yet');
    expect(await check(bob, 'READ')).toMatchObject({ allowed: false, canRead: false });
    const rotations = await h.app
      .get(DataSource)
      .query(`SELECT payload FROM permissions.outbox_message WHERE name = 'signing-keys.rotation-requested'`);
    expect(rotations.map((r: { payload: unknown }) => r.payload)).toEqual([
      {
        rotationId: expect.any(String),
        ownerId: alice.id,
        resourceIds: [dataset.id],
        types: ['DATASET'],
        reason: 'grant-revoked',
      },
    ]);
    await expectAppError(
      h.rpc.call(PermissionsRpc.revokeGrant, {
        resourceType: 'DATASET',
        resourceId: dataset.id,
        grantId: grant.id,
        revokedBy: alice.id,
      }),
      'record-not-found',
    );
    const outbox = await h.app
      .get(DataSource)
      .query(
        `SELECT payload->>'reason' AS reason FROM permissions.outbox_message WHERE name = 'permissions.changed'`,
      );
    expect(outbox.map((r: { reason: string }) => r.reason)).toEqual(
      expect.arrayContaining(['grant-created', 'grant-updated', 'grant-revoked']),
    );
  });

  it('refuses a grant from someone who holds MANAGE_ACCESS no more (a revocation that raced the call)', async () => {
    const carol = newId();
    for (const grantedBy of [bob, carol]) {
      const refused = await expectAppError(
        h.rpc.call(PermissionsRpc.createGrant, {
          resourceType: 'DATASET',
          resourceId: dataset.id,
          subjectId: newId(),
          permissions: ['READ'],
          grantedBy,
        }),
        'insufficient-permissions',
      );
      expect(refused.message).toContain('no longer hold MANAGE_ACCESS');
    }
    await expectAppError(
      h.rpc.call(PermissionsRpc.manageAccessUntil, {
        resourceType: 'DATASET',
        resourceId: dataset.id,
        userId: bob,
      }),
      'insufficient-permissions',
    );
    expect(
      await h.rpc.call(PermissionsRpc.manageAccessUntil, {
        resourceType: 'DATASET',
        resourceId: dataset.id,
        userId: alice.id,
      }),
    ).toEqual({ until: null });
  });

  it('answers checkMany in order, each check exactly as check answers it', async () => {
    const carol = newId();
    const grant = await h.rpc.call(PermissionsRpc.createGrant, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
      subjectId: carol,
      permissions: ['READ'],
      grantedBy: alice.id,
    });
    const checks = [
      { userId: carol, permission: 'READ' as const, resourceRef: dataset.id },
      { userId: alice.id, permission: 'MANAGE_ACCESS' as const, resourceRef: dataset.id },
      { userId: carol, permission: 'WRITE' as const, resourceRef: dataset.id },
      { userId: null, permission: 'READ' as const, resourceRef: dataset.id },
      { userId: alice.id, permission: 'READ' as const, resourceRef: `${alice.username}~facts` },
      { userId: bob, permission: 'READ' as const, resourceRef: dataset.id },
    ];
    const many = await h.rpc.call(PermissionsRpc.checkMany, {
      checks: checks.map((c) => ({
        principal: { userId: c.userId },
        resourceType: 'DATASET' as const,
        resourceRef: c.resourceRef,
        permission: c.permission,
      })),
    });
    const alone = await Promise.all(checks.map((c) => check(c.userId, c.permission, c.resourceRef)));
    expect(many).toEqual(alone);
    expect(many.map((r) => r.allowed)).toEqual([true, true, false, false, true, false]);
    expect(many[0]).toMatchObject({ rule: 'grant', resourceId: dataset.id });
    await expectAppError(h.rpc.call(PermissionsRpc.checkMany, { checks: [] }), 'invalid-input');
    // By id, a check may leave its type out (access questions): it checks whatever the id names.
    const untyped = await h.rpc.call(PermissionsRpc.checkMany, {
      checks: [
        { principal: { userId: carol }, resourceRef: dataset.id, permission: 'READ' },
        { principal: { userId: bob }, resourceRef: dataset.id, permission: 'READ' },
      ],
      probe: true,
    });
    expect(untyped.map((r) => [r.allowed, r.resourceType])).toEqual([
      [true, 'DATASET'],
      [false, null],
    ]);
    await expectAppError(
      h.rpc.call(PermissionsRpc.checkMany, {
        checks: [
          { principal: { userId: alice.id }, resourceRef: `${alice.username}~facts`, permission: 'READ' },
        ],
      }),
      'invalid-input',
    );
    await h.rpc.call(PermissionsRpc.revokeGrant, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
      grantId: grant.id,
      revokedBy: alice.id,
    });
  });

  it('moves its change version with every change a decision or a shared list reads, and only then', async () => {
    const version = async () => (await h.rpc.call(PermissionsRpc.changeVersion, {})).version;
    const erin = newId();
    const before = await version();
    // Reads change nothing.
    await check(erin, 'READ');
    const shared = () =>
      h.rpc.call(PermissionsRpc.listSharedWith, {
        subjectId: erin,
        resourceType: 'DATASET',
        offset: 0,
        limit: 10,
        desc: false,
      });
    await shared();
    expect(await version()).toBe(before);
    // A grant does, in its own transaction: it is read with it.
    const grant = await h.rpc.call(PermissionsRpc.createGrant, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
      subjectId: erin,
      permissions: ['READ'],
      grantedBy: alice.id,
    });
    const granted = await version();
    expect(granted).not.toBe(before);
    expect(await shared()).toMatchObject({ resourceIds: [dataset.id], validUntil: null });
    // A grant of a later start or end says when time alone changes the list.
    const startsAt = new Date(Date.now() + 60_000);
    await h.rpc.call(PermissionsRpc.updateGrant, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
      grantId: grant.id,
      changes: { notBefore: startsAt.toISOString() },
      updatedBy: alice.id,
    });
    const pending = await version();
    expect(pending).not.toBe(granted);
    expect(await shared()).toMatchObject({ resourceIds: [], validUntil: startsAt.toISOString() });
    // Concurrent changes all commit (no deadlock between their bumps), and each moves it.
    const subjects = Array.from({ length: 12 }, () => newId());
    await Promise.all(
      subjects.map((subjectId) =>
        h.rpc.call(PermissionsRpc.createGrant, {
          resourceType: 'DATASET',
          resourceId: dataset.id,
          subjectId,
          permissions: ['READ'],
          grantedBy: alice.id,
        }),
      ),
    );
    const [epoch, count] = (await version()).split(':');
    expect(epoch).toBe(pending.split(':')[0]);
    expect(Number(count)).toBeGreaterThanOrEqual(Number(pending.split(':')[1]) + subjects.length);
  });

  it('ignores an expired grant, to the second', async () => {
    const carol = newId();
    await h.rpc.call(PermissionsRpc.createGrant, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
      subjectId: carol,
      permissions: ['READ'],
      expiresAt: new Date(Date.now() + 1000).toISOString(),
      grantedBy: alice.id,
    });
    expect((await check(carol, 'READ')).allowed).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await check(carol, 'READ')).allowed).toBe(false);
    expect(
      (
        await h.rpc.call(PermissionsRpc.listSharedWith, {
          subjectId: carol,
          resourceType: 'DATASET',
          offset: 0,
          limit: 10,
          desc: false,
        })
      ).total,
    ).toBe(0);
  });

  it('applies an event delivered twice once', async () => {
    const dave = newId();
    const other: ResourceFacts = { ...dataset, id: newId(), name: 'twice', version: 1 };
    const id = await publish(Events.resourceCreated, other);
    await publish(Events.resourceCreated, other, id);
    await eventually(async () => {
      const rows = await h.app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM permissions.processed_message WHERE message_id = $1', [id]);
      expect(rows[0].n).toBe(1);
    });
    await h.rpc.call(PermissionsRpc.createGrant, {
      resourceType: 'DATASET',
      resourceId: other.id,
      subjectId: dave,
      permissions: ['READ'],
      grantedBy: alice.id,
    });
    const deletion = await publish(Events.resourceDeleted, {
      id: other.id,
      type: 'DATASET',
      ownerId: alice.id,
      version: 2,
    });
    await publish(
      Events.resourceDeleted,
      { id: other.id, type: 'DATASET', ownerId: alice.id, version: 2 },
      deletion,
    );
    await eventually(async () =>
      expect(await check(alice.id, 'READ', other.id)).toMatchObject({ allowed: false, resourceId: null }),
    );
    // A stale update after the deletion does not bring the resource back.
    await publish(Events.resourceUpdated, { ...other, version: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await check(alice.id, 'READ', other.id)).toMatchObject({ allowed: false });
    expect(
      await h.rpc.call(PermissionsRpc.listSharedWith, {
        subjectId: dave,
        resourceType: 'DATASET',
        offset: 0,
        limit: 10,
        desc: false,
      }),
    ).toEqual({
      total: 0,
      resourceIds: [],
      nextCursor: null,
      validUntil: null,
    });
  });

  it('dead-letters a poison event and keeps consuming', async () => {
    const connection = await amqplib.connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createChannel();
      const dlq = deadLetterQueue(eventQueue('permissions'));
      const before = (await channel.checkQueue(dlq)).messageCount;
      await h.bus.publish({
        id: randomUUID(),
        name: Events.accountUpdated.name,
        occurredAt: new Date().toISOString(),
        payload: { id: 42 },
      });
      await eventually(async () => expect((await channel.checkQueue(dlq)).messageCount).toBe(before + 1));
      const erin: AccountFacts = {
        id: newId(),
        username: 'erin-contract',
        generalResourceAccess: 'RESTRICTED',
        shareRunsWithPublicActorCreators: false,
        version: 1,
      };
      await publish(Events.accountCreated, erin);
      const mine: ResourceFacts = { ...dataset, id: newId(), ownerId: erin.id, version: 1 };
      await publish(Events.resourceCreated, mine);
      await eventually(async () => expect((await check(erin.id, 'READ', mine.id)).allowed).toBe(true));
    } finally {
      await connection.close();
    }
  });

  it('fails fast with a clear error when a read-through target is down', async () => {
    await expectAppError(
      h.rpc.call(PermissionsRpc.refreshProjection, { kind: 'resource', id: newId() }),
      'service-unavailable',
    );
  });
});
