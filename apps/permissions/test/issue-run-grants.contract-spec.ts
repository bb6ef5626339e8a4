import {
  AccountFacts,
  EventDefinition,
  EventPayload,
  Events,
  PermissionsRpc,
  ResourceFacts,
  ResourceType,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ContractHarness, eventually, startContractHarness, testServiceConfig } from '@atrium/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PermissionsModule } from '../src/permissions.module';

/** `issues.run-attached` → a hidden READ grant on the run for the Actor's owner, once. */
describe('permissions: runs attached to issues (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const account = (username: string): AccountFacts => ({
    id: newId(),
    username,
    generalResourceAccess: 'RESTRICTED',
    shareRunsWithPublicActorCreators: false,
    version: 1,
  });
  const [alice, bob, carol] = [
    account('alice-issue-grants'),
    account('bob-issue-grants'),
    account('carol-issue-grants'),
  ];
  const resource = (
    type: ResourceType,
    ownerId: string,
    extra: Partial<ResourceFacts> = {},
  ): ResourceFacts => ({
    id: newId(),
    type,
    ownerId,
    name: null,
    generalAccess: 'FOLLOW_USER_SETTING',
    isPublic: false,
    actorId: null,
    taskId: null,
    runId: null,
    groupId: null,
    version: 1,
    ...extra,
  });
  const actor = resource('ACTOR', alice.id, { isPublic: true, name: 'scraper' });
  const otherActor = resource('ACTOR', bob.id, { isPublic: true, name: 'other' });
  const run = resource('ACTOR_RUN', bob.id, { actorId: actor.id });
  const dataset = resource('DATASET', bob.id, { runId: run.id });
  const otherRun = resource('ACTOR_RUN', bob.id, { actorId: actor.id });
  const runElsewhere = resource('ACTOR_RUN', bob.id, { actorId: otherActor.id });
  const alicesOwnRun = resource('ACTOR_RUN', alice.id, { actorId: actor.id });
  const readByCarol = resource('ACTOR_RUN', bob.id, { actorId: actor.id });
  const managedByCarol = resource('ACTOR_RUN', bob.id, { actorId: actor.id });
  const appliedAtOnce = resource('ACTOR_RUN', bob.id, { actorId: actor.id });
  const managedByCarolForAnHour = resource('ACTOR_RUN', bob.id, { actorId: actor.id });
  const managedByCarolOnceOnly = resource('ACTOR_RUN', bob.id, { actorId: actor.id });

  const publish = <E extends EventDefinition>(event: E, payload: EventPayload<E>, id = randomUUID()) =>
    h.bus.publish({ id, name: event.name, occurredAt: new Date().toISOString(), payload }).then(() => id);
  const attach = (runId: string, issueId = newId(), id = randomUUID(), reporterId = bob.id) =>
    publish(
      Events.issuesRunAttached,
      { issueId, actorId: actor.id, actorOwnerId: alice.id, runId, reporterId },
      id,
    );
  const check = (userId: string, type: ResourceType, ref: string, permission: 'READ' | 'WRITE' = 'READ') =>
    h.rpc.call(PermissionsRpc.check, {
      principal: { userId },
      resourceType: type,
      resourceRef: ref,
      permission,
    });
  /** Events are handled concurrently (bounded prefetch): waits until every one has been applied. */
  const applied = (events: string[]) =>
    eventually(async () => {
      const processed = await h.app
        .get(DataSource)
        .query(`SELECT count(*)::int AS n FROM permissions.processed_message WHERE message_id = ANY($1)`, [
          events,
        ]);
      expect(processed[0].n).toBe(events.length);
    });
  const grantsOn = (resourceId: string) =>
    h.app
      .get(DataSource)
      .query(
        `SELECT subject_id, permissions, hidden, source_type, source_id, granted_by FROM permissions."grant" WHERE resource_id = $1`,
        [resourceId],
      );

  beforeAll(async () => {
    h = await startContractHarness('permissions', (url) => PermissionsModule.forRoot(testServiceConfig(url)));
    for (const a of [alice, bob, carol]) await publish(Events.accountCreated, a);
    for (const r of [
      actor,
      otherActor,
      run,
      dataset,
      otherRun,
      runElsewhere,
      alicesOwnRun,
      readByCarol,
      managedByCarol,
      appliedAtOnce,
      managedByCarolForAnHour,
      managedByCarolOnceOnly,
    ])
      await publish(Events.resourceCreated, r);
    await eventually(async () => expect((await check(bob.id, 'DATASET', dataset.id)).allowed).toBe(true));
    // Every account projected too: a check by someone else reads its owner's account, and a miss
    // would read through to identity, which this harness does not run.
    await eventually(async () => {
      const [{ n }] = await h.app
        .get(DataSource)
        .query(`SELECT count(*)::int AS n FROM permissions.account_projection WHERE id = ANY($1)`, [
          [alice.id, bob.id, carol.id],
        ]);
      expect(n).toBe(3);
    });
  });
  afterAll(() => h.close());

  it("grants the Actor's owner READ on the run once, however often the event comes, and derives its storages", async () => {
    expect((await check(alice.id, 'ACTOR_RUN', run.id)).canRead).toBe(false);
    const issueId = newId();
    const eventId = await attach(run.id, issueId);
    await attach(run.id, issueId, eventId); // a redelivery: same event id
    await attach(run.id, newId()); // another issue with the same run
    await eventually(async () =>
      expect(await check(alice.id, 'ACTOR_RUN', run.id)).toMatchObject({ allowed: true, rule: 'grant' }),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await grantsOn(run.id)).toEqual([
      {
        subject_id: alice.id,
        permissions: ['READ'],
        hidden: true,
        source_type: 'ACTOR_ISSUE',
        source_id: issueId,
        granted_by: bob.id,
      },
    ]);
    expect(await check(alice.id, 'ACTOR_RUN', run.id, 'WRITE')).toMatchObject({
      allowed: false,
      canRead: true,
    });
    expect(await check(alice.id, 'DATASET', dataset.id)).toMatchObject({
      allowed: true,
      rule: 'run-storage',
    });
    expect((await check(alice.id, 'DATASET', dataset.id, 'WRITE')).allowed).toBe(false);
    // Only that run: Bob's other run of the same Actor stays his.
    expect((await check(alice.id, 'ACTOR_RUN', otherRun.id)).canRead).toBe(false);

    const listing = await h.rpc.call(PermissionsRpc.listAccess, {
      resourceType: 'ACTOR_RUN',
      resourceId: run.id,
    });
    expect(listing.grants).toEqual([expect.objectContaining({ userId: alice.id, permissions: ['READ'] })]);
    const datasetListing = await h.rpc.call(PermissionsRpc.listAccess, {
      resourceType: 'DATASET',
      resourceId: dataset.id,
    });
    expect(datasetListing.grants).toEqual([]);
    const audited = await h.app
      .get(DataSource)
      .query(
        `SELECT action, actor_id, subject_id, account_id FROM permissions.audit_entry WHERE resource_id = $1 AND action LIKE 'grant.%'`,
        [run.id],
      );
    expect(audited).toEqual([
      { action: 'grant.created', actor_id: bob.id, subject_id: alice.id, account_id: bob.id },
    ]);
    const changed = await h.app
      .get(DataSource)
      .query(`SELECT payload FROM permissions.outbox_message WHERE name = 'permissions.changed'`);
    expect(changed.map((m: { payload: unknown }) => m.payload)).toContainEqual({
      resourceId: run.id,
      subjectId: alice.id,
      reason: 'grant-created',
    });
  });

  it('applyEvents applies a run-attached event before it answers, and its queued copy changes nothing more', async () => {
    const issueId = newId();
    const event = {
      id: randomUUID(),
      name: Events.issuesRunAttached.name,
      occurredAt: new Date().toISOString(),
      payload: {
        issueId,
        actorId: actor.id,
        actorOwnerId: alice.id,
        runId: appliedAtOnce.id,
        reporterId: bob.id,
      },
    };
    expect((await check(alice.id, 'ACTOR_RUN', appliedAtOnce.id)).canRead).toBe(false);
    await h.rpc.call(PermissionsRpc.applyEvents, { events: [event] });
    // In force as the call answers: no waiting for the queue.
    expect(await check(alice.id, 'ACTOR_RUN', appliedAtOnce.id)).toMatchObject({
      allowed: true,
      rule: 'grant',
    });
    await h.bus.publish(event); // the outbox's copy, later
    await eventually(async () => {
      const processed = await h.app
        .get(DataSource)
        .query(`SELECT count(*)::int AS n FROM permissions.processed_message WHERE message_id = $1`, [
          event.id,
        ]);
      expect(processed[0].n).toBe(1);
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await grantsOn(appliedAtOnce.id)).toHaveLength(1);
    const audited = await h.app
      .get(DataSource)
      .query(
        `SELECT count(*)::int AS n FROM permissions.audit_entry WHERE resource_id = $1 AND action = 'grant.created'`,
        [appliedAtOnce.id],
      );
    expect(audited[0].n).toBe(1);
    // An event it has no handler for is refused, naming the field.
    await expect(
      h.rpc.call(PermissionsRpc.applyEvents, {
        events: [{ ...event, id: randomUUID(), name: 'no.such-event' }],
      }),
    ).rejects.toMatchObject({ type: 'invalid-input', message: expect.stringContaining('events') });
  });

  it("leaves a grant the owner already holds as it is, and shares no run of another Actor or the owner's own", async () => {
    await h.rpc.call(PermissionsRpc.createGrant, {
      resourceType: 'ACTOR_RUN',
      resourceId: otherRun.id,
      subjectId: alice.id,
      permissions: ['WRITE'],
      grantedBy: bob.id,
    });
    const events = [await attach(otherRun.id), await attach(runElsewhere.id), await attach(alicesOwnRun.id)];
    await applied(events);
    expect(await grantsOn(otherRun.id)).toEqual([
      expect.objectContaining({
        subject_id: alice.id,
        permissions: ['WRITE'],
        hidden: false,
        source_type: null,
      }),
    ]);
    expect(await grantsOn(runElsewhere.id)).toEqual([]);
    expect(await grantsOn(alicesOwnRun.id)).toEqual([]);
    expect((await check(alice.id, 'ACTOR_RUN', runElsewhere.id)).canRead).toBe(false);
  });

  it('shares a run only for a reporter who owns it or holds MANAGE_ACCESS on it', async () => {
    for (const [target, permissions] of [
      [readByCarol, ['READ']],
      [managedByCarol, ['READ', 'MANAGE_ACCESS']],
    ] as const)
      await h.rpc.call(PermissionsRpc.createGrant, {
        resourceType: 'ACTOR_RUN',
        resourceId: target.id,
        subjectId: carol.id,
        permissions: [...permissions],
        grantedBy: bob.id,
      });
    const events = [
      await attach(readByCarol.id, newId(), randomUUID(), carol.id),
      await attach(managedByCarol.id, newId(), randomUUID(), carol.id),
    ];
    await applied(events);
    expect((await grantsOn(readByCarol.id)).map((g: { subject_id: string }) => g.subject_id)).toEqual([
      carol.id,
    ]);
    expect((await check(alice.id, 'ACTOR_RUN', readByCarol.id)).canRead).toBe(false);
    expect(await check(alice.id, 'ACTOR_RUN', managedByCarol.id)).toMatchObject({
      allowed: true,
      rule: 'grant',
    });
  });

  it("shares a run until the reporter's own MANAGE_ACCESS ends, and not at all once it holds it no more", async () => {
    const ends = new Date(Date.now() + 3_600_000);
    const grants = [];
    for (const target of [managedByCarolForAnHour, managedByCarolOnceOnly])
      grants.push(
        await h.rpc.call(PermissionsRpc.createGrant, {
          resourceType: 'ACTOR_RUN',
          resourceId: target.id,
          subjectId: carol.id,
          permissions: ['READ', 'MANAGE_ACCESS'],
          expiresAt: ends.toISOString(),
          grantedBy: bob.id,
        }),
      );
    // Revoked before the attachment is applied: the share it claimed is not given.
    await h.rpc
      .call(PermissionsRpc.revokeGrant, {
        resourceType: 'ACTOR_RUN',
        resourceId: managedByCarolOnceOnly.id,
        grantId: grants[1].id,
        revokedBy: bob.id,
      })
      .catch(() => undefined); // its signing key rotation has no resources service here
    const events = [
      await attach(managedByCarolForAnHour.id, newId(), randomUUID(), carol.id),
      await attach(managedByCarolOnceOnly.id, newId(), randomUUID(), carol.id),
    ];
    await applied(events);
    const [hidden] = await h.app
      .get(DataSource)
      .query(`SELECT expires_at FROM permissions."grant" WHERE resource_id = $1 AND subject_id = $2`, [
        managedByCarolForAnHour.id,
        alice.id,
      ]);
    expect(hidden.expires_at).toEqual(ends);
    expect(await grantsOn(managedByCarolOnceOnly.id)).toEqual([]);
  });
});
