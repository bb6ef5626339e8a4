import {
  CollaborationRpc,
  EventEnvelope,
  Events,
  IdentityRpc,
  MembershipFacts,
  SYSTEM_POLICIES,
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
import { IdentityModule } from '../src/identity.module';
import { verifyAddress } from './verify-address';

/** Account collaboration's message contract: policies, roles, members, and the membership facts they publish. */
describe('identity collaboration contract (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const events: EventEnvelope<MembershipFacts>[] = [];
  const signUp = async (prefix: string) => {
    const username = uniqueName(prefix);
    const { user } = await h.rpc.call(IdentityRpc.signup, {
      email: `${username}@x.io`,
      username,
      password: 'password123',
    });
    await verify(user.email);
    return user;
  };
  const verify = (email: string) => verifyAddress(h, email);
  /** The membership event of a user in an account with the given version (waits for it). */
  const factsAt = (accountId: string, userId: string, version: number) =>
    eventually(async () => {
      const found = events.find(
        (e) =>
          e.payload.accountId === accountId && e.payload.userId === userId && e.payload.version === version,
      );
      expect(found).toBeDefined();
      return (found as EventEnvelope<MembershipFacts>).payload;
    });

  beforeAll(async () => {
    h = await startContractHarness('identity', (url) => IdentityModule.forRoot(testServiceConfig(url)));
    await h.bus.subscribe(uniqueName('collaboration-probe'), [Events.membershipChanged.name], async (e) => {
      events.push(e as EventEnvelope<MembershipFacts>);
    });
  });
  afterAll(() => h.close());

  it('lists the fixed system policies with stable ids, and refuses to change them', async () => {
    const primary = await signUp('p');
    const policies = await h.rpc.call(CollaborationRpc.listPolicies, { primaryId: primary.id });
    expect(policies).toHaveLength(SYSTEM_POLICIES.length);
    expect(policies).toContainEqual(
      expect.objectContaining({ id: 'system-view', name: 'View', system: true, permissions: ['READ'] }),
    );
    expect(policies.map((p) => p.permissions[0])).toEqual(
      expect.arrayContaining([
        'LOGS',
        'START_STOP',
        'RESTART',
        'DEPLOY',
        'SSH',
        'CLONE',
        'MIGRATE',
        'CREATE',
      ]),
    );
    await expectAppError(
      h.rpc.call(CollaborationRpc.updatePolicy, {
        primaryId: primary.id,
        policyId: 'system-view',
        changes: { permissions: ['READ', 'DELETE'] },
      }),
      'insufficient-permissions',
    );
    await expectAppError(
      h.rpc.call(CollaborationRpc.deletePolicy, { primaryId: primary.id, policyId: 'system-deploy' }),
      'insufficient-permissions',
    );
  });

  it('keeps custom policies and roles per primary, with names unique and references checked', async () => {
    const primary = await signUp('p');
    const other = await signUp('o');
    const policy = await h.rpc.call(CollaborationRpc.createPolicy, {
      primaryId: primary.id,
      policy: { name: 'Operate', permissions: ['START_STOP', 'RESTART'] },
    });
    expect(policy).toMatchObject({ system: false, permissions: ['START_STOP', 'RESTART'] });
    await expectAppError(
      h.rpc.call(CollaborationRpc.createPolicy, {
        primaryId: primary.id,
        policy: { name: 'operate', permissions: ['READ'] },
      }),
      'conflict',
    );
    await expectAppError(
      h.rpc.call(CollaborationRpc.createPolicy, {
        primaryId: primary.id,
        policy: { name: 'View', permissions: ['READ'] },
      }),
      'conflict',
    );
    await expectAppError(
      h.rpc.call(CollaborationRpc.createPolicy, {
        primaryId: primary.id,
        policy: { name: 'Bad', permissions: ['WRITE' as never] },
      }),
      'invalid-input',
    );

    const role = await h.rpc.call(CollaborationRpc.createRole, {
      primaryId: primary.id,
      role: { name: 'Operator', policies: ['system-view', policy.id] },
    });
    expect(role).toMatchObject({
      policies: ['system-view', policy.id],
      permissions: ['READ', 'START_STOP', 'RESTART'],
      receiveNotifications: false,
    });
    // Another primary can neither use nor see the policy.
    const err = await expectAppError(
      h.rpc.call(CollaborationRpc.createRole, {
        primaryId: other.id,
        role: { name: 'Stolen', policies: ['system-view', policy.id] },
      }),
      'invalid-input',
    );
    expect(err.message).toContain('body.policies.1');
    expect(await h.rpc.call(CollaborationRpc.listRoles, { primaryId: other.id })).toEqual([]);
    await expectAppError(
      h.rpc.call(CollaborationRpc.updateRole, {
        primaryId: other.id,
        roleId: role.id,
        changes: { name: 'Mine' },
      }),
      'record-not-found',
    );
    await expectAppError(
      h.rpc.call(CollaborationRpc.deletePolicy, { primaryId: primary.id, policyId: policy.id }),
      'conflict',
    );
  });

  it('runs a member through invitation, acceptance, edits, suspension, leaving and re-invitation', async () => {
    const primary = await signUp('p');
    const member = await signUp('m');
    const stranger = await signUp('s');
    const viewer = await h.rpc.call(CollaborationRpc.createRole, {
      primaryId: primary.id,
      role: { name: 'Viewer', policies: ['system-view'] },
    });
    const deployPolicy = await h.rpc.call(CollaborationRpc.createPolicy, {
      primaryId: primary.id,
      policy: { name: 'Ship', permissions: ['DEPLOY'] },
    });
    const deployer = await h.rpc.call(CollaborationRpc.createRole, {
      primaryId: primary.id,
      role: { name: 'Deployer', policies: [deployPolicy.id] },
    });
    const envId = newId();
    const groupId = newId();

    const badRole = await expectAppError(
      h.rpc.call(CollaborationRpc.inviteMember, {
        primaryId: primary.id,
        invitedBy: primary.id,
        invite: { email: member.email, shared: [{ category: 'ENVIRONMENTS', roleIds: [newId()] }] },
      }),
      'invalid-input',
    );
    expect(badRole.message).toContain('body.shared.0.roleIds.0');
    await expectAppError(
      h.rpc.call(CollaborationRpc.inviteMember, {
        primaryId: primary.id,
        invitedBy: primary.id,
        invite: { email: primary.email, shared: [] },
      }),
      'invalid-input',
    );
    const twoTargets = await expectAppError(
      h.rpc.call(CollaborationRpc.inviteMember, {
        primaryId: primary.id,
        invitedBy: primary.id,
        invite: {
          email: member.email,
          shared: [{ resourceId: envId, groupId, roleIds: [viewer.id] } as never],
        },
      }),
      'invalid-input',
    );
    expect(twoTargets.message).toContain('exactly one of resourceId, groupId or category');

    const invited = await h.rpc.call(CollaborationRpc.inviteMember, {
      primaryId: primary.id,
      invitedBy: primary.id,
      invite: {
        email: member.email.toUpperCase(),
        displayName: 'Mia',
        shared: [
          { category: 'ENVIRONMENTS', roleIds: [viewer.id] },
          { groupId, roleIds: [viewer.id, deployer.id] },
          { resourceId: envId, roleIds: [deployer.id] },
        ],
      },
    });
    const m = invited.result;
    expect(m).toMatchObject({
      status: 'PENDING',
      // Bound only when accepted, so that the answer tells nothing about who owns the address.
      userId: null,
      email: member.email,
      displayName: 'Mia',
    });
    expect(m.shared[1]).toEqual({
      groupId,
      roleIds: [viewer.id, deployer.id],
      permissions: ['READ', 'DEPLOY'],
    });
    // Nobody is bound (nor told) until a verified owner of the address accepts.
    expect(invited.affectedUserIds).toEqual([]);
    await expectAppError(
      h.rpc.call(CollaborationRpc.inviteMember, {
        primaryId: primary.id,
        invitedBy: primary.id,
        invite: { email: member.email, shared: [] },
      }),
      'conflict',
    );

    // The member sees the invitation; nobody else can answer it.
    const mine = await h.rpc.call(CollaborationRpc.listCollaborations, { userId: member.id });
    expect(mine).toEqual([
      expect.objectContaining({
        id: m.id,
        primaryId: primary.id,
        status: 'PENDING',
        primaryUsername: primary.username,
      }),
    ]);
    expect(await h.rpc.call(CollaborationRpc.listCollaborations, { userId: stranger.id })).toEqual([]);
    await expectAppError(
      h.rpc.call(CollaborationRpc.respondToCollaboration, {
        userId: stranger.id,
        collaborationId: m.id,
        response: 'accept',
      }),
      'record-not-found',
    );
    await expectAppError(
      h.rpc.call(CollaborationRpc.respondToCollaboration, {
        userId: member.id,
        collaborationId: m.id,
        response: 'leave',
      }),
      'conflict',
    );

    const accepted = await h.rpc.call(CollaborationRpc.respondToCollaboration, {
      userId: member.id,
      collaborationId: m.id,
      response: 'accept',
    });
    expect(accepted.result.status).toBe('ACTIVE');
    const facts = await factsAt(primary.id, member.id, 2);
    expect(facts).toMatchObject({ active: true, roleName: 'Viewer, Deployer' });
    expect(facts.bindings).toEqual([
      { kind: 'category', target: 'ENVIRONMENTS', permissions: ['READ'] },
      { kind: 'resource', target: groupId, permissions: ['READ', 'DEPLOY'] },
      { kind: 'resource', target: envId, permissions: ['DEPLOY'] },
    ]);
    // The event names who made the change (the member, accepting); the read-through does not.
    const { changedBy, ...asRead } = facts as MembershipFacts & { changedBy?: string };
    expect(changedBy).toBe(member.id);
    expect(
      await h.rpc.call(IdentityRpc.getMembershipFacts, { accountId: primary.id, userId: member.id }),
    ).toEqual([asRead]);

    // A policy's or a role's new operations reach every member holding them.
    const policyEdit = await h.rpc.call(CollaborationRpc.updatePolicy, {
      primaryId: primary.id,
      policyId: deployPolicy.id,
      changes: { permissions: ['DEPLOY', 'SSH'] },
    });
    expect(policyEdit.affectedUserIds).toEqual([member.id]);
    expect((await factsAt(primary.id, member.id, 3)).bindings[2]).toEqual({
      kind: 'resource',
      target: envId,
      permissions: ['DEPLOY', 'SSH'],
    });
    const roleEdit = await h.rpc.call(CollaborationRpc.updateRole, {
      primaryId: primary.id,
      roleId: viewer.id,
      changes: { policies: ['system-view', 'system-logs'] },
    });
    expect(roleEdit.result.permissions).toEqual(['READ', 'LOGS']);
    expect(roleEdit.affectedUserIds).toEqual([member.id]);
    expect((await factsAt(primary.id, member.id, 4)).bindings[0].permissions).toEqual(['READ', 'LOGS']);
    await expectAppError(
      h.rpc.call(CollaborationRpc.deleteRole, { primaryId: primary.id, roleId: viewer.id }),
      'conflict',
    );

    const edited = await h.rpc.call(CollaborationRpc.updateMember, {
      primaryId: primary.id,
      memberId: m.id,
      changes: { shared: [{ resourceId: envId, roleIds: [viewer.id] }] },
    });
    expect(edited.result.shared).toEqual([
      { resourceId: envId, roleIds: [viewer.id], permissions: ['READ', 'LOGS'] },
    ]);
    expect((await factsAt(primary.id, member.id, 5)).bindings).toHaveLength(1);

    const status = (action: 'remove' | 'suspend' | 'activate' | 'reinvite') =>
      h.rpc.call(CollaborationRpc.changeMemberStatus, { primaryId: primary.id, memberId: m.id, action });
    expect((await status('suspend')).result.status).toBe('SUSPENDED');
    expect((await factsAt(primary.id, member.id, 6)).active).toBe(false);
    await expectAppError(status('suspend'), 'conflict');
    await expectAppError(status('reinvite'), 'conflict');
    expect((await status('activate')).result.status).toBe('ACTIVE');
    expect((await factsAt(primary.id, member.id, 7)).active).toBe(true);

    const left = await h.rpc.call(CollaborationRpc.respondToCollaboration, {
      userId: member.id,
      collaborationId: m.id,
      response: 'leave',
    });
    expect(left.result).toMatchObject({ status: 'LEFT', shared: [] });
    expect((await factsAt(primary.id, member.id, 8)).active).toBe(false);
    await expectAppError(status('activate'), 'conflict');
    expect((await status('reinvite')).result.status).toBe('PENDING');
    const rejected = await h.rpc.call(CollaborationRpc.respondToCollaboration, {
      userId: member.id,
      collaborationId: m.id,
      response: 'reject',
    });
    expect(rejected.result.status).toBe('DECLINED');
    expect((await status('remove')).result.status).toBe('REMOVED');
    await expectAppError(status('remove'), 'conflict');
    const kept = await h.rpc.call(CollaborationRpc.getMember, { primaryId: primary.id, memberId: m.id });
    expect(kept).toMatchObject({
      status: 'REMOVED',
      shared: [expect.objectContaining({ resourceId: envId })],
    });

    // Versions only grow: every change above was announced with a higher one (from the acceptance
    // on: version 1, the invitation, bound nobody yet).
    await eventually(async () => {
      const versions = events
        .filter((e) => e.payload.accountId === primary.id && e.payload.userId === member.id)
        .map((e) => e.payload.version);
      expect(versions.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    });

    // With no pending, active or suspended member holding it, a role can go; ended shares lose it.
    await h.rpc.call(CollaborationRpc.deleteRole, { primaryId: primary.id, roleId: viewer.id });
    expect(
      (await h.rpc.call(CollaborationRpc.getMember, { primaryId: primary.id, memberId: m.id })).shared,
    ).toEqual([]);
  });

  it('keeps an invitation for an unknown email until a user with that email accepts it', async () => {
    const primary = await signUp('p');
    const role = await h.rpc.call(CollaborationRpc.createRole, {
      primaryId: primary.id,
      role: { name: 'Creator', policies: ['system-view', 'system-create'], receiveNotifications: true },
    });
    const email = `${uniqueName('later')}@x.io`;
    const invited = await h.rpc.call(CollaborationRpc.inviteMember, {
      primaryId: primary.id,
      invitedBy: primary.id,
      invite: { email, shared: [{ category: 'ENVIRONMENTS', roleIds: [role.id] }] },
    });
    expect(invited.result).toMatchObject({ userId: null, status: 'PENDING' });
    expect(invited.affectedUserIds).toEqual([]);

    const username = email.split('@')[0];
    const { user } = await h.rpc.call(IdentityRpc.signup, { email, username, password: 'password123' });
    const someoneElse = await signUp('e');
    await expectAppError(
      h.rpc.call(CollaborationRpc.respondToCollaboration, {
        userId: someoneElse.id,
        collaborationId: invited.result.id,
        response: 'accept',
      }),
      'record-not-found',
    );
    // Until the address is verified, the invitation is neither listed nor answerable.
    expect(await h.rpc.call(CollaborationRpc.listCollaborations, { userId: user.id })).toEqual([]);
    await expectAppError(
      h.rpc.call(CollaborationRpc.respondToCollaboration, {
        userId: user.id,
        collaborationId: invited.result.id,
        response: 'accept',
      }),
      'insufficient-permissions',
    );
    await verify(email);
    expect(
      (await h.rpc.call(CollaborationRpc.listCollaborations, { userId: user.id })).map((c) => c.id),
    ).toEqual([invited.result.id]);
    const accepted = await h.rpc.call(CollaborationRpc.respondToCollaboration, {
      userId: user.id,
      collaborationId: invited.result.id,
      response: 'accept',
    });
    expect(accepted.affectedUserIds).toEqual([user.id]);
    expect(
      (await h.rpc.call(CollaborationRpc.getMember, { primaryId: primary.id, memberId: invited.result.id }))
        .userId,
    ).toBe(user.id);
    expect(await factsAt(primary.id, user.id, 2)).toMatchObject({
      active: true,
      bindings: [{ kind: 'category', target: 'ENVIRONMENTS', permissions: ['READ', 'CREATE'] }],
    });
  });
});
