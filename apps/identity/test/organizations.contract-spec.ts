import {
  EventEnvelope,
  Events,
  IdentityRpc,
  MembershipFacts,
  OrganizationRoleView,
  OrganizationsRpc,
  OrganizationView,
} from '@atrium/contracts';
import {
  ContractHarness,
  eventually,
  expectAppError,
  recordEvents,
  startContractHarness,
  testServiceConfig,
  uniqueName,
} from '@atrium/testing';
import { DataSource } from 'typeorm';
import { IdentityModule } from '../src/identity.module';
import { verifyAddress } from './verify-address';

describe('organizations message contract (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const received: EventEnvelope[] = [];

  beforeAll(async () => {
    h = await startContractHarness('identity', (url) => IdentityModule.forRoot(testServiceConfig(url)));
    await recordEvents(
      h,
      'organizations',
      [Events.accountCreated.name, Events.membershipChanged.name, Events.apiTokenRevoked.name],
      received,
    );
  });
  afterAll(() => h.close());

  const signUp = async (prefix: string) => {
    const username = uniqueName(prefix);
    const { user } = await h.rpc.call(IdentityRpc.signup, {
      email: `${username}@x.io`,
      username,
      password: 'password123',
    });
    await verify(user.email);
    return { id: user.id, username, email: `${username}@x.io` };
  };
  const verify = (email: string) => verifyAddress(h, email);
  const createOrg = async (userId: string): Promise<OrganizationView> =>
    (await h.rpc.call(OrganizationsRpc.create, { userId, organization: { username: uniqueName('org') } }))
      .result;
  const roles = async (organizationId: string, userId: string) => {
    const list = await h.rpc.call(OrganizationsRpc.listRoles, { organizationId, userId });
    const byName = (name: string) => list.find((r) => r.name === name) as OrganizationRoleView;
    return { list, byName };
  };
  const facts = async (accountId: string, userId: string): Promise<MembershipFacts> => {
    const [only, ...rest] = await h.rpc.call(IdentityRpc.getMembershipFacts, { accountId, userId });
    expect(rest).toEqual([]);
    return only;
  };
  /** Invites and accepts: the user joins with the role. */
  const join = async (organizationId: string, inviterId: string, user: { id: string }, roleId: string) => {
    const invitation = await h.rpc.call(OrganizationsRpc.createInvitation, {
      organizationId,
      userId: inviterId,
      invitation: { user: user.id, roleId },
    });
    await h.rpc.call(OrganizationsRpc.acceptInvitation, { userId: user.id, invitationId: invitation.id });
  };
  const none = { ACTOR: [], ACTOR_TASK: [], SCHEDULE: [], STORAGE: [], ORGANIZATION: [] };

  it('creates an organization as an account whose creator is its Owner, announced through the outbox', async () => {
    const owner = await signUp('owner');
    const created = await h.rpc.call(OrganizationsRpc.create, {
      userId: owner.id,
      organization: { username: uniqueName('Acme') },
    });
    const org = created.result;
    expect(created).toMatchObject({ organizationId: org.id, affectedUserIds: [owner.id] });
    expect(org).toMatchObject({
      ownerId: owner.id,
      role: { name: 'Owner' },
      settings: { generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ', shareRunsWithPublicActorCreators: false },
    });
    const [row] = await h.app
      .get(DataSource)
      .query('SELECT kind, email, password_hash FROM identity.user_account WHERE id = $1', [org.id]);
    expect(row).toEqual({ kind: 'ORGANIZATION', email: null, password_hash: null });

    const ownerFacts = await facts(org.id, owner.id);
    expect(ownerFacts).toMatchObject({ kind: 'ORGANIZATION', active: true, roleName: 'Owner', version: 1 });
    expect(ownerFacts.bindings).toEqual([
      {
        kind: 'category',
        target: 'ACTOR',
        permissions: ['READ', 'WRITE', 'RUN', 'BUILD', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'],
      },
      {
        kind: 'category',
        target: 'ACTOR_TASK',
        permissions: ['READ', 'WRITE', 'VIEW_OWNER_RUNS', 'MANAGE_ACCESS'],
      },
      { kind: 'category', target: 'SCHEDULE', permissions: ['READ', 'WRITE', 'MANAGE_ACCESS'] },
      { kind: 'category', target: 'STORAGE', permissions: ['READ', 'WRITE', 'MANAGE_ACCESS'] },
    ]);
    await eventually(async () => {
      expect(received).toContainEqual(
        expect.objectContaining({
          name: 'account.created',
          payload: expect.objectContaining({ id: org.id }),
        }),
      );
      expect(received).toContainEqual(
        // The event names who made the change, for the audit log: here the creator.
        expect.objectContaining({
          name: 'membership.changed',
          payload: { ...ownerFacts, changedBy: owner.id },
        }),
      );
    });

    expect(await h.rpc.call(OrganizationsRpc.list, { userId: owner.id })).toEqual([org]);
    expect(await h.rpc.call(IdentityRpc.getAccountFacts, { username: org.username })).toMatchObject({
      id: org.id,
    });
    const { list } = await roles(org.id, owner.id);
    expect(list.map((r) => [r.name, r.builtIn, r.memberCount])).toEqual([
      ['Owner', 'OWNER', 1],
      ['Administrator', 'ADMINISTRATOR', 0],
      ['Developer', 'DEVELOPER', 0],
      ['Read only', 'READ_ONLY', 0],
    ]);
  });

  it('shares one namespace of usernames with users, and an organization never signs in', async () => {
    const owner = await signUp('ns');
    await expectAppError(
      h.rpc.call(OrganizationsRpc.create, {
        userId: owner.id,
        organization: { username: owner.username.toUpperCase() },
      }),
      'conflict',
    );
    const org = await createOrg(owner.id);
    await expectAppError(
      h.rpc.call(IdentityRpc.signup, {
        email: `${uniqueName('e')}@x.io`,
        username: org.username,
        password: 'password123',
      }),
      'conflict',
    );
    await expectAppError(
      h.rpc.call(IdentityRpc.login, { login: org.username, password: 'password123' }),
      'token-not-valid',
    );
    // An organization cannot own organizations, nor be invited into one.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.create, { userId: org.id, organization: { username: uniqueName('sub') } }),
      'insufficient-permissions',
    );
    const other = await createOrg(owner.id);
    const { byName } = await roles(other.id, owner.id);
    const err = await expectAppError(
      h.rpc.call(OrganizationsRpc.createInvitation, {
        organizationId: other.id,
        userId: owner.id,
        invitation: { user: org.username, roleId: byName('Developer').id },
      }),
      'invalid-input',
    );
    expect(err.message).toContain('body.user');
  });

  it('lets a user own at most 10 organizations (402 quota-exceeded)', async () => {
    const owner = await signUp('quota');
    await Promise.all(Array.from({ length: 10 }, () => createOrg(owner.id)));
    const err = await expectAppError(
      h.rpc.call(OrganizationsRpc.create, {
        userId: owner.id,
        organization: { username: uniqueName('eleventh') },
      }),
      'quota-exceeded',
    );
    expect(err.message).toContain('10');
    expect(await h.rpc.call(OrganizationsRpc.list, { userId: owner.id })).toHaveLength(10);
  });

  it('invites by id, username or email; only the invitee answers; others are told it does not exist', async () => {
    const owner = await signUp('inv');
    const [bob, carol, dave] = [await signUp('bob'), await signUp('carol'), await signUp('dave')];
    const org = await createOrg(owner.id);
    const { byName } = await roles(org.id, owner.id);
    const invite = (user: string, roleId = byName('Developer').id) =>
      h.rpc.call(OrganizationsRpc.createInvitation, {
        organizationId: org.id,
        userId: owner.id,
        invitation: { user, roleId },
      });

    const toBob = await invite(bob.username.toUpperCase());
    expect(toBob).toMatchObject({
      userId: bob.id,
      username: bob.username,
      status: 'PENDING',
      roleName: 'Developer',
    });
    await expectAppError(invite(bob.username), 'conflict'); // one pending invitation per invitee
    // By address: it names nobody (no enumeration) until a verified owner of the address answers.
    const toCarol = await invite(carol.email.toUpperCase(), byName('Read only').id);
    expect(toCarol).toMatchObject({ userId: null, username: null, email: carol.email });
    await expectAppError(invite(carol.email), 'conflict'); // one pending invitation per address
    await expectAppError(invite('nobody-at-all'), 'record-not-found');
    await expectAppError(invite(dave.id, byName('Owner').id), 'invalid-input');

    // Someone else cannot accept, decline or even see Bob's invitation.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.acceptInvitation, { userId: carol.id, invitationId: toBob.id }),
      'record-not-found',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.declineInvitation, { userId: dave.id, invitationId: toBob.id }),
      'record-not-found',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.cancelInvitation, { userId: dave.id, invitationId: toBob.id }),
      'record-not-found',
    );
    expect(await h.rpc.call(OrganizationsRpc.listMyInvitations, { userId: carol.id })).toEqual([
      expect.objectContaining({ id: toCarol.id, organizationUsername: org.username }),
    ]);

    const accepted = await h.rpc.call(OrganizationsRpc.acceptInvitation, {
      userId: bob.id,
      invitationId: toBob.id,
    });
    expect(accepted).toMatchObject({
      organizationId: org.id,
      affectedUserIds: [bob.id],
      result: { status: 'ACCEPTED' },
    });
    await expectAppError(
      h.rpc.call(OrganizationsRpc.acceptInvitation, { userId: bob.id, invitationId: toBob.id }),
      'conflict',
    );
    await expectAppError(invite(bob.id), 'conflict'); // already a member
    expect(await facts(org.id, bob.id)).toMatchObject({ active: true, roleName: 'Developer', version: 1 });

    const declined = await h.rpc.call(OrganizationsRpc.declineInvitation, {
      userId: carol.id,
      invitationId: toCarol.id,
    });
    expect(declined.status).toBe('DECLINED');
    expect(await h.rpc.call(IdentityRpc.getMembershipFacts, { accountId: org.id, userId: carol.id })).toEqual(
      [],
    );

    const toDave = await invite(dave.id);
    const cancelled = await h.rpc.call(OrganizationsRpc.cancelInvitation, {
      userId: owner.id,
      invitationId: toDave.id,
    });
    expect(cancelled.status).toBe('CANCELLED');
    await expectAppError(
      h.rpc.call(OrganizationsRpc.acceptInvitation, { userId: dave.id, invitationId: toDave.id }),
      'conflict',
    );
    // A member without MANAGE_MEMBERS cannot cancel (nor see) the organization's invitations.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.listInvitations, { organizationId: org.id, userId: bob.id }),
      'insufficient-permissions',
    );
    expect(
      (await h.rpc.call(OrganizationsRpc.listInvitations, { organizationId: org.id, userId: owner.id })).map(
        (i) => i.status,
      ),
    ).toEqual(['CANCELLED', 'DECLINED', 'ACCEPTED']);
  });

  it('expires invitations after 7 days: EXPIRED on read, refused on accept, replaced by a new one', async () => {
    const owner = await signUp('exp');
    const eve = await signUp('eve');
    const org = await createOrg(owner.id);
    const { byName } = await roles(org.id, owner.id);
    const invitation = { user: eve.username, roleId: byName('Read only').id };
    const sent = await h.rpc.call(OrganizationsRpc.createInvitation, {
      organizationId: org.id,
      userId: owner.id,
      invitation,
    });
    expect(Date.parse(sent.expiresAt) - Date.parse(sent.createdAt)).toBeCloseTo(7 * 24 * 3600 * 1000, -4);
    await h.app
      .get(DataSource)
      .query(
        `UPDATE identity.organization_invitation SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [sent.id],
      );
    expect((await h.rpc.call(OrganizationsRpc.listMyInvitations, { userId: eve.id }))[0].status).toBe(
      'EXPIRED',
    );
    const err = await expectAppError(
      h.rpc.call(OrganizationsRpc.acceptInvitation, { userId: eve.id, invitationId: sent.id }),
      'conflict',
    );
    expect(err.message).toMatch(/expired/);
    const again = await h.rpc.call(OrganizationsRpc.createInvitation, {
      organizationId: org.id,
      userId: owner.id,
      invitation,
    });
    await h.rpc.call(OrganizationsRpc.acceptInvitation, { userId: eve.id, invitationId: again.id });
    expect(await facts(org.id, eve.id)).toMatchObject({ active: true, roleName: 'Read only' });
  });

  it('refuses every path to privilege escalation', async () => {
    const owner = await signUp('esc');
    const [manager, dev] = [await signUp('mgr'), await signUp('dev')];
    const org = await createOrg(owner.id);
    const { byName } = await roles(org.id, owner.id);
    // A custom role with MANAGE_MEMBERS and storage reads only.
    const membersOnly = await h.rpc.call(OrganizationsRpc.createRole, {
      organizationId: org.id,
      userId: owner.id,
      role: { name: 'People', permissions: { ...none, STORAGE: ['READ'], ORGANIZATION: ['MANAGE_MEMBERS'] } },
    });
    await join(org.id, owner.id, manager, membersOnly.id);
    await join(org.id, owner.id, dev, byName('Developer').id);
    const asManager = { organizationId: org.id, userId: manager.id };

    // Cannot create, or edit into, a role above its own.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.createRole, {
        ...asManager,
        role: { name: 'Writers', permissions: { ...none, STORAGE: ['WRITE'] } },
      }),
      'insufficient-permissions',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.updateRole, {
        ...asManager,
        roleId: membersOnly.id,
        changes: { permissions: { ...none, ORGANIZATION: ['MANAGE_MEMBERS', 'MANAGE_ACCESS_TOKENS'] } },
      }),
      'insufficient-permissions',
    );
    const readers = await h.rpc.call(OrganizationsRpc.createRole, {
      ...asManager,
      role: { name: 'Readers', permissions: { ...none, STORAGE: ['READ'] } },
    });
    // Cannot change its own role, nor give or take a role beyond its own, nor touch the Owner.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.updateMember, {
        ...asManager,
        memberId: manager.id,
        changes: { roleId: readers.id },
      }),
      'insufficient-permissions',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.updateMember, {
        ...asManager,
        memberId: dev.id,
        changes: { roleId: readers.id },
      }),
      'insufficient-permissions', // Bob's Developer role holds more than the manager's
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.createInvitation, {
        ...asManager,
        invitation: { user: (await signUp('x')).id, roleId: byName('Administrator').id },
      }),
      'insufficient-permissions',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.removeMember, { ...asManager, memberId: owner.id }),
      'insufficient-permissions',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.updateMember, {
        ...asManager,
        memberId: owner.id,
        changes: { roleId: readers.id },
      }),
      'insufficient-permissions',
    );
    // The Owner role is fixed and never given.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.updateRole, {
        organizationId: org.id,
        userId: owner.id,
        roleId: byName('Owner').id,
        changes: { name: 'Boss' },
      }),
      'invalid-input',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.updateMember, {
        organizationId: org.id,
        userId: owner.id,
        memberId: dev.id,
        changes: { roleId: byName('Owner').id },
      }),
      'invalid-input',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.removeMember, {
        organizationId: org.id,
        userId: owner.id,
        memberId: owner.id,
      }),
      'conflict',
    );
    // A Developer cannot manage members at all.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.createInvitation, {
        organizationId: org.id,
        userId: dev.id,
        invitation: { user: owner.id, roleId: readers.id },
      }),
      'insufficient-permissions',
    );
    expect(await facts(org.id, manager.id)).toMatchObject({ roleName: 'People', version: 1 });
    expect(await facts(org.id, dev.id)).toMatchObject({ roleName: 'Developer', version: 1 });
  });

  it('versions each membership through role changes, role edits, leaving and re-joining', async () => {
    const owner = await signUp('ver');
    const frank = await signUp('frank');
    const org = await createOrg(owner.id);
    const { byName } = await roles(org.id, owner.id);
    const asOwner = { organizationId: org.id, userId: owner.id };
    await join(org.id, owner.id, frank, byName('Developer').id);

    const changed = await h.rpc.call(OrganizationsRpc.updateMember, {
      ...asOwner,
      memberId: frank.id,
      changes: { roleId: byName('Read only').id },
    });
    expect(changed).toMatchObject({ affectedUserIds: [frank.id], result: { roleName: 'Read only' } });
    expect(await facts(org.id, frank.id)).toMatchObject({ roleName: 'Read only', version: 2 });

    const edited = await h.rpc.call(OrganizationsRpc.updateRole, {
      ...asOwner,
      roleId: byName('Read only').id,
      changes: { permissions: { ...none, STORAGE: ['READ'], ACTOR: ['READ'] } },
    });
    expect(edited.affectedUserIds).toEqual([frank.id]);
    const afterEdit = await facts(org.id, frank.id);
    expect(afterEdit.version).toBe(3);
    expect(afterEdit.bindings.find((b) => b.target === 'ACTOR_TASK')?.permissions).toEqual([]);
    await eventually(async () =>
      expect(received).toContainEqual(
        expect.objectContaining({
          name: 'membership.changed',
          payload: { ...afterEdit, changedBy: owner.id },
        }),
      ),
    );

    // A role held by someone stays; the Owner's stays always.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.deleteRole, { ...asOwner, roleId: byName('Read only').id }),
      'conflict',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.deleteRole, { ...asOwner, roleId: byName('Owner').id }),
      'invalid-input',
    );

    // Frank leaves: the record stays inactive, with a newer version.
    await h.rpc.call(OrganizationsRpc.removeMember, {
      organizationId: org.id,
      userId: frank.id,
      memberId: frank.id,
    });
    expect(await facts(org.id, frank.id)).toMatchObject({ active: false, bindings: [], version: 4 });
    await expectAppError(
      h.rpc.call(OrganizationsRpc.get, { organizationId: org.id, userId: frank.id }),
      'record-not-found',
    );
    await h.rpc.call(OrganizationsRpc.deleteRole, { ...asOwner, roleId: byName('Read only').id });
    await join(org.id, owner.id, frank, byName('Developer').id);
    expect(await facts(org.id, frank.id)).toMatchObject({ active: true, roleName: 'Developer', version: 5 });
    expect(
      (await h.rpc.call(OrganizationsRpc.listMembers, asOwner)).map((m) => [m.username, m.roleName]),
    ).toEqual([
      [owner.username, 'Owner'],
      [frank.username, 'Developer'],
    ]);
  });

  it("keeps an organization's tokens apart from its members' and acting as the organization", async () => {
    const owner = await signUp('tok');
    const gina = await signUp('gina');
    const org = await createOrg(owner.id);
    const { byName } = await roles(org.id, owner.id);
    await join(org.id, owner.id, gina, byName('Developer').id);
    const created = await h.rpc.call(OrganizationsRpc.createToken, {
      organizationId: org.id,
      userId: owner.id,
      token: { name: 'ci' },
    });
    expect(await h.rpc.call(IdentityRpc.verifyToken, { token: created.token })).toMatchObject({
      userId: org.id,
      username: org.username,
    });
    expect(await h.rpc.call(IdentityRpc.listTokens, { userId: owner.id })).toEqual([]);
    expect(
      (await h.rpc.call(OrganizationsRpc.listTokens, { organizationId: org.id, userId: owner.id })).map(
        (t) => t.id,
      ),
    ).toEqual([created.id]);
    await expectAppError(
      h.rpc.call(OrganizationsRpc.listTokens, { organizationId: org.id, userId: gina.id }),
      'insufficient-permissions',
    );
    await expectAppError(
      h.rpc.call(OrganizationsRpc.createToken, {
        organizationId: org.id,
        userId: gina.id,
        token: { name: 'x' },
      }),
      'insufficient-permissions',
    );
    // A token of the organization does not manage the organization.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.listMembers, { organizationId: org.id, userId: org.id }),
      'record-not-found',
    );

    // Deleting it: Owner only; members lose access, tokens stop working.
    await expectAppError(
      h.rpc.call(OrganizationsRpc.delete, { organizationId: org.id, userId: gina.id }),
      'insufficient-permissions',
    );
    const deleted = await h.rpc.call(OrganizationsRpc.delete, { organizationId: org.id, userId: owner.id });
    expect(deleted.result.revokedTokenIds).toEqual([created.id]);
    expect(deleted.affectedUserIds.sort()).toEqual([owner.id, gina.id].sort());
    await expectAppError(h.rpc.call(IdentityRpc.verifyToken, { token: created.token }), 'token-not-valid');
    expect(await facts(org.id, gina.id)).toMatchObject({ active: false });
    expect(await h.rpc.call(OrganizationsRpc.list, { userId: gina.id })).toEqual([]);
    await expectAppError(
      h.rpc.call(OrganizationsRpc.get, { organizationId: org.id, userId: owner.id }),
      'record-not-found',
    );
  });

  it('takes no username shaped like an id, which invitations and grants would read as an id', async () => {
    const victim = await signUp('victim');
    await expectAppError(
      h.rpc.call(IdentityRpc.signup, {
        email: `${uniqueName('sq')}@x.io`,
        username: victim.id.toLowerCase(),
        password: 'password123',
      }),
      'invalid-input',
    );
  });

  it('lets a token manager below the Owner mint only tokens scoped within its role', async () => {
    const owner = await signUp('mint');
    const mia = await signUp('mia');
    const org = await createOrg(owner.id);
    const minters = await h.rpc.call(OrganizationsRpc.createRole, {
      organizationId: org.id,
      userId: owner.id,
      role: {
        name: 'Token readers',
        permissions: { ...none, ACTOR: ['RUN'], STORAGE: ['READ'], ORGANIZATION: ['MANAGE_ACCESS_TOKENS'] },
      },
    });
    await join(org.id, owner.id, mia, minters.id);
    const mint = (scope?: unknown) =>
      h.rpc.call(OrganizationsRpc.createToken, {
        organizationId: org.id,
        userId: mia.id,
        token: { name: 'mia', ...(scope === undefined ? {} : { scope }) } as { name: string },
      });
    const dataset = 'D'.repeat(17);

    // Unscoped, it would act as the organization: the Owner's alone.
    const unscoped = await expectAppError(mint(), 'insufficient-permissions');
    expect(unscoped.message).toContain('scope');
    await expectAppError(mint(null), 'insufficient-permissions');
    const refusals: [unknown, string][] = [
      [{ account: { STORAGE: ['WRITE'] } }, 'STORAGE:WRITE'],
      [{ account: { STORAGE: ['MANAGE_ACCESS'] } }, 'STORAGE:MANAGE_ACCESS'],
      [{ account: { ACTOR_TASK: ['READ'] } }, 'ACTOR_TASK:READ'],
      [{ account: { ENVIRONMENTS: ['READ'] } }, 'ENVIRONMENTS:READ'],
      [{ account: { CREATE: ['DATASET'] } }, 'CREATE:DATASET'],
      [{ account: { CREATE: ['APP'] } }, 'CREATE:APP'],
      [{ resources: [{ type: 'DATASET', id: dataset, permissions: ['WRITE'] }] }, `DATASET ${dataset}:WRITE`],
      [{ resources: [{ type: 'ACTOR', id: dataset, permissions: ['BUILD'] }] }, `ACTOR ${dataset}:BUILD`],
      [{ resources: [{ type: 'APP', id: dataset, permissions: ['READ'] }] }, `APP ${dataset}:READ`],
    ];
    for (const [scope, beyond] of refusals) {
      const err = await expectAppError(mint(scope), 'insufficient-permissions');
      expect(err.message).toContain(beyond);
    }
    expect(
      await h.rpc.call(OrganizationsRpc.listTokens, { organizationId: org.id, userId: owner.id }),
    ).toEqual([]);

    // Within its role: READ is held, RUN gives READ, and a run of an Actor follows RUN (WRITE).
    const scope = {
      account: { STORAGE: ['READ'], ACTOR: ['READ', 'RUN'] },
      resources: [
        { type: 'DATASET', id: dataset, permissions: ['READ'] },
        { type: 'ACTOR_RUN', id: 'R'.repeat(17), permissions: ['WRITE'] },
      ],
    };
    const created = await mint(scope);
    expect(created.scope).toEqual(scope);
    expect(await h.rpc.call(IdentityRpc.verifyToken, { token: created.token })).toMatchObject({
      userId: org.id,
      scope,
    });
    // The Owner is not held to a scope.
    const ownerToken = await h.rpc.call(OrganizationsRpc.createToken, {
      organizationId: org.id,
      userId: owner.id,
      token: {
        name: 'owner',
        scope: { account: { ENVIRONMENTS: ['READ'], CREATE: ['APP'] }, resources: [] },
      },
    });
    expect(ownerToken.scope).toMatchObject({ account: { CREATE: ['APP'] } });
  });

  it("revokes a member's organization tokens once its role no longer covers them, or it is gone", async () => {
    const owner = await signUp('rev');
    const [nia, oli] = [await signUp('nia'), await signUp('oli')];
    const org = await createOrg(owner.id);
    const { byName } = await roles(org.id, owner.id);
    const asOwner = { organizationId: org.id, userId: owner.id };
    const tokenRole = (name: string, storage: ('READ' | 'WRITE')[]) =>
      h.rpc.call(OrganizationsRpc.createRole, {
        ...asOwner,
        role: { name, permissions: { ...none, STORAGE: storage, ORGANIZATION: ['MANAGE_ACCESS_TOKENS'] } },
      });
    const writers = await tokenRole('Token writers', ['WRITE']);
    await join(org.id, owner.id, nia, writers.id);
    await join(org.id, owner.id, oli, writers.id);
    const mint = async (userId: string, storage: 'READ' | 'WRITE') =>
      h.rpc.call(OrganizationsRpc.createToken, {
        organizationId: org.id,
        userId,
        token: { name: 'ci', scope: { account: { STORAGE: [storage] }, resources: [] } },
      });
    const valid = (token: { token: string }) => h.rpc.call(IdentityRpc.verifyToken, { token: token.token });
    const revoked = async (token: { id: string; token: string }) => {
      await expectAppError(valid(token), 'token-not-valid');
      await eventually(async () =>
        expect(received).toContainEqual(
          expect.objectContaining({
            name: 'api-token.revoked',
            payload: { tokenId: token.id, userId: org.id },
          }),
        ),
      );
    };
    const ownersToken = await h.rpc.call(OrganizationsRpc.createToken, {
      ...asOwner,
      token: { name: 'own' },
    });
    const niaReads = await mint(nia.id, 'READ');
    const niaWrites = await mint(nia.id, 'WRITE');
    const oliReads = await mint(oli.id, 'READ');

    // A rename, or a permission more: every token still fits.
    const renamed = await h.rpc.call(OrganizationsRpc.updateRole, {
      ...asOwner,
      roleId: writers.id,
      changes: { name: 'Token people' },
    });
    expect(renamed.revokedTokenIds).toEqual([]);
    expect(renamed.signingKeyRotation).toBeNull();
    await h.rpc.call(OrganizationsRpc.updateRole, {
      ...asOwner,
      roleId: writers.id,
      changes: {
        permissions: { ...none, ACTOR: ['READ'], STORAGE: ['WRITE'], ORGANIZATION: ['MANAGE_ACCESS_TOKENS'] },
      },
    });
    await valid(niaWrites);

    // Editing the role down to READ: the tokens that write no longer fit, whoever created them.
    const edited = await h.rpc.call(OrganizationsRpc.updateRole, {
      ...asOwner,
      roleId: writers.id,
      changes: { permissions: { ...none, STORAGE: ['READ'], ORGANIZATION: ['MANAGE_ACCESS_TOKENS'] } },
    });
    expect(edited.revokedTokenIds).toEqual([niaWrites.id]);
    // Its holders could read the storages' signing keys and no longer can: they are rotated.
    const rotatesOrgKeys = {
      rotationId: expect.any(String),
      ownerId: org.id,
      types: ['DATASET', 'KEY_VALUE_STORE', 'REQUEST_QUEUE'],
      reason: 'membership-changed',
    };
    expect(edited.signingKeyRotation).toEqual(rotatesOrgKeys);
    await revoked(niaWrites);
    await valid(niaReads);

    // Nia changed to a role without MANAGE_ACCESS_TOKENS: all hers go.
    const demoted = await h.rpc.call(OrganizationsRpc.updateMember, {
      ...asOwner,
      memberId: nia.id,
      changes: { roleId: byName('Administrator').id },
    });
    expect(demoted.revokedTokenIds).toEqual([]); // the Administrator holds MANAGE_ACCESS_TOKENS, and more
    expect(demoted.signingKeyRotation).toBeNull();
    await valid(niaReads);
    const readers = await h.rpc.call(OrganizationsRpc.updateMember, {
      ...asOwner,
      memberId: nia.id,
      changes: { roleId: byName('Read only').id },
    });
    expect(readers.revokedTokenIds).toEqual([niaReads.id]);
    expect(readers.signingKeyRotation).toEqual(rotatesOrgKeys);
    await revoked(niaReads);

    // Oli leaves: his go; Nia, removed, loses the one she made back in her old role.
    await h.rpc.call(OrganizationsRpc.updateMember, {
      ...asOwner,
      memberId: nia.id,
      changes: { roleId: writers.id },
    });
    const niaAgain = await mint(nia.id, 'READ');
    const left = await h.rpc.call(OrganizationsRpc.removeMember, {
      organizationId: org.id,
      userId: oli.id,
      memberId: oli.id,
    });
    expect(left.revokedTokenIds).toEqual([oliReads.id]);
    expect(left.signingKeyRotation).toBeNull(); // his role reads storages only
    await revoked(oliReads);
    const removed = await h.rpc.call(OrganizationsRpc.removeMember, { ...asOwner, memberId: nia.id });
    expect(removed.revokedTokenIds).toEqual([niaAgain.id]);
    await revoked(niaAgain);
    // The Owner's token was never at stake.
    await valid(ownersToken);
    expect((await h.rpc.call(OrganizationsRpc.listTokens, asOwner)).map((t) => t.id)).toEqual([
      ownersToken.id,
    ]);
  });

  it('never lets a token outlive a removal or a deletion it raced with', async () => {
    const owner = await signUp('race');
    const org = await createOrg(owner.id);
    const role = await h.rpc.call(OrganizationsRpc.createRole, {
      organizationId: org.id,
      userId: owner.id,
      role: {
        name: 'Minters',
        permissions: { ...none, STORAGE: ['READ'], ORGANIZATION: ['MANAGE_ACCESS_TOKENS'] },
      },
    });
    const token = { name: 'race', scope: { account: { STORAGE: ['READ' as const] }, resources: [] } };
    const survivors = async (settled: PromiseSettledResult<unknown>[]) => {
      const created = settled.flatMap((s) =>
        s.status === 'fulfilled' && s.value && typeof s.value === 'object' && 'token' in s.value
          ? [(s.value as { token: string }).token]
          : [],
      );
      const alive = await Promise.allSettled(
        created.map((t) => h.rpc.call(IdentityRpc.verifyToken, { token: t })),
      );
      return alive.filter((a) => a.status === 'fulfilled').length;
    };
    for (let i = 0; i < 4; i++) {
      const member = await signUp('racer');
      await join(org.id, owner.id, member, role.id);
      const settled = await Promise.allSettled([
        ...[0, 1, 2].map(() =>
          h.rpc.call(OrganizationsRpc.createToken, { organizationId: org.id, userId: member.id, token }),
        ),
        h.rpc.call(OrganizationsRpc.removeMember, {
          organizationId: org.id,
          userId: owner.id,
          memberId: member.id,
        }),
      ]);
      expect(settled[3].status).toBe('fulfilled');
      expect(await survivors(settled)).toBe(0);
    }
    const member = await signUp('racer');
    await join(org.id, owner.id, member, role.id);
    const settled = await Promise.allSettled([
      ...[0, 1, 2].map(() =>
        h.rpc.call(OrganizationsRpc.createToken, { organizationId: org.id, userId: member.id, token }),
      ),
      h.rpc.call(OrganizationsRpc.delete, { organizationId: org.id, userId: owner.id }),
    ]);
    expect(settled[3].status).toBe('fulfilled');
    expect(await survivors(settled)).toBe(0);
  });

  it('guards profile and settings changes by organization permission', async () => {
    const owner = await signUp('prof');
    const hal = await signUp('hal');
    const org = await createOrg(owner.id);
    const profileEditor = await h.rpc.call(OrganizationsRpc.createRole, {
      organizationId: org.id,
      userId: owner.id,
      role: { name: 'Profile', permissions: { ...none, ORGANIZATION: ['UPDATE_PROFILE'] } },
    });
    await join(org.id, owner.id, hal, profileEditor.id);
    const renamed = uniqueName('renamed');
    const updated = await h.rpc.call(OrganizationsRpc.update, {
      organizationId: org.id,
      userId: hal.id,
      changes: { username: renamed },
    });
    expect(updated.username).toBe(renamed);
    await expectAppError(
      h.rpc.call(OrganizationsRpc.update, {
        organizationId: org.id,
        userId: hal.id,
        changes: { settings: { generalResourceAccess: 'RESTRICTED' } },
      }),
      'insufficient-permissions',
    );
    const restricted = await h.rpc.call(OrganizationsRpc.update, {
      organizationId: org.id,
      userId: owner.id,
      changes: { settings: { generalResourceAccess: 'RESTRICTED' } },
    });
    expect(restricted.settings.generalResourceAccess).toBe('RESTRICTED');
    expect(await h.rpc.call(IdentityRpc.getAccountFacts, { id: org.id })).toMatchObject({
      username: renamed,
      generalResourceAccess: 'RESTRICTED',
      version: 3,
    });
    await expectAppError(
      h.rpc.call(OrganizationsRpc.update, {
        organizationId: org.id,
        userId: owner.id,
        changes: { username: hal.username },
      }),
      'conflict',
    );
  });
});
