import { TEST_PASSWORD, uniqueName } from '@atrium/testing';
import {
  createDataset,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from '../../atrium/test/test-stack';
import { cliUser, CliUser, CliResult } from './cli-harness';

function expectOneLineError(out: CliResult, code: number, message: RegExp) {
  expect({ code: out.code, stdout: out.stdout }).toEqual({ code, stdout: '' });
  expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(out.stderr).toMatch(message);
}

describe('atrium orgs, members, roles, invitations, tokens (the CLI as a subprocess)', () => {
  let t: TestStack & { baseUrl: string };
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let carol: SignedUpUser;
  let asAlice: CliUser;
  let asBob: CliUser;
  let asCarol: CliUser;
  const orgName = uniqueName('acme');
  let orgId: string;

  beforeAll(async () => {
    t = await startListeningTestStack();
    [alice, bob, carol] = await signUpEach(t, 'alice', 'bob', 'carol');
    [asAlice, asBob, asCarol] = [cliUser(), cliUser(), cliUser()];
    for (const [cli, user] of [
      [asAlice, alice],
      [asBob, bob],
      [asCarol, carol],
    ] as const) {
      const login = await cli(['login', t.baseUrl, '--user', user.username, '--password-stdin'], {
        input: `${TEST_PASSWORD}\n`,
      });
      expect(login.code).toBe(0);
    }
  }, 120_000);
  afterAll(async () => {
    for (const cli of [asAlice, asBob, asCarol]) cli?.cleanup();
    await t?.close();
  });

  it('creates an organization and lists it with the caller as Owner', async () => {
    const created = await asAlice(['orgs', 'create', orgName, '--json']);
    expect(created.code).toBe(0);
    orgId = JSON.parse(created.stdout).id;
    const ls = await asAlice(['orgs', 'ls']);
    expect(ls.stdout).toMatch(new RegExp(`^${orgName} +${orgId} +Owner `, 'm'));
  });

  it('invites bob, who sees the invitation and accepts it; carol declines hers', async () => {
    const sent = await asAlice([
      'invitations',
      'send',
      bob.username,
      '--role',
      'read only',
      '--org',
      orgName,
    ]);
    expect(sent.stderr).toBe('');
    expect(sent.stdout).toMatch(new RegExp(`^Invited ${bob.username} as Read only \\(invitation \\w{17}\\)`));
    const mine = await asBob(['invitations', 'ls']);
    expect(mine.stdout).toMatch(new RegExp(`${orgName} +${bob.username} +Read only +PENDING`));
    const accepted = await asBob(['invitations', 'accept', orgName]);
    expect(accepted.stdout).toBe(`Joined ${orgName} as Read only\n`);

    expect(
      (await asAlice(['invitations', 'send', carol.username, '--role', 'Developer', '--org', orgId])).code,
    ).toBe(0);
    expect((await asCarol(['invitations', 'decline', orgName])).stdout).toBe(
      `Declined the invitation from ${orgName}\n`,
    );
    const orgSide = await asAlice(['invitations', 'ls', '--account', orgName]);
    expect(orgSide.stdout).toMatch(new RegExp(`${carol.username} +Developer +DECLINED`));
    expect(orgSide.stdout).toMatch(new RegExp(`${bob.username} +Read only +ACCEPTED`));
  });

  it('--account acts as the organization; a role change lets bob create in it', async () => {
    const created = await asAlice(['datasets', 'create', 'team-data', '--account', orgName, '--json']);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'team-data', userId: orgId });
    expect((await asBob(['datasets', 'ls', '--account', orgName])).stdout).toMatch(/ team-data /);

    const denied = await asBob(['datasets', 'create', 'bobs', '--account', orgName]);
    expectOneLineError(denied, 4, /^atrium: You may not create a dataset in account/);

    const members = await asAlice(['members', 'ls', '--account', orgName]);
    expect(members.stdout).toMatch(new RegExp(`^${bob.username} +Read only `, 'm'));
    expect(members.stdout).toMatch(new RegExp(`^${alice.username} +Owner `, 'm'));
    const changed = await asAlice(['members', 'set-role', bob.username, 'developer', '--org', orgName]);
    expect(changed.stdout).toBe(`${bob.username} is now Developer\n`);
    expect((await asBob(['datasets', 'create', 'bobs', '--account', orgName])).code).toBe(0);
    expect((await asBob(['whoami', '--account', orgName, '--json'])).stdout).toContain(
      `"accountId": "${orgId}"`,
    );
    expect((await asBob(['whoami', '--account', orgName])).stdout).toMatch(
      new RegExp(`^Acting as: +${orgName} \\(${orgId}\\)$`, 'm'),
    );
    const audit = await asAlice(['audit', '--account', orgName]);
    expect(audit.code).toBe(0);
    expect(audit.stdout).not.toContain('[object Object]');
    expect(audit.stdout).toMatch(/role: Read only → Developer; bindings: \S+=[A-Z_]+/);

    expectOneLineError(
      await asAlice(['members', 'set-role', carol.username, 'Developer', '--org', orgName]),
      5,
      /Argument user: "\S+" is not a member of the organization/,
    );
    expectOneLineError(
      await asAlice(['members', 'set-role', bob.username, 'Janitor', '--org', orgName]),
      5,
      /Argument role: "Janitor" is not a role of the organization \(one of .*Developer/,
    );
    expectOneLineError(
      await asAlice(['members', 'ls', '--org', 'no-such-org-xyz']),
      5,
      /Option --org: you are not a member of an organization named "no-such-org-xyz"/,
    );
    expectOneLineError(await asAlice(['members', 'ls']), 2, /Option --org: name the organization/);
  });

  it('roles: creates a custom role and lists it; a bad permission names --allow', async () => {
    const created = await asAlice([
      'roles',
      'create',
      'Analyst',
      '--allow',
      'storage=READ',
      '--allow',
      'actor=read,run',
      '--org',
      orgName,
    ]);
    expect(created.code).toBe(0);
    const ls = await asAlice(['roles', 'ls', '--org', orgName]);
    expect(ls.stdout).toMatch(/^Analyst +0 +actor=READ,RUN .*storage=READ/m);
    expectOneLineError(
      await asAlice(['roles', 'create', 'Bad', '--allow', 'storage=FLY', '--org', orgName]),
      2,
      /Option --allow: "FLY" is not a permission of STORAGE \(one of READ, WRITE, MANAGE_ACCESS\)/,
    );
    expect((await asAlice(['roles', 'delete', 'analyst', '--org', orgName])).stdout).toBe(
      'Deleted role Analyst\n',
    );
  });

  it('members remove: bob is out of the organization', async () => {
    expect((await asAlice(['members', 'remove', bob.username, '--org', orgName])).code).toBe(0);
    expect((await asBob(['orgs', 'ls'])).stdout).not.toContain(orgName);
  });

  it('tokens: a scoped token works only within its scope; the secret is printed once; revoke ends it', async () => {
    const mine = await createDataset(t, alice, 'scoped');
    const other = await createDataset(t, alice, 'unscoped');
    const created = await asAlice([
      'tokens',
      'create',
      'reader',
      '--scope',
      `dataset:${alice.username}~scoped=READ`,
      '--expires',
      '1d',
    ]);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).not.toContain(' ');
    expect(created.stderr).toMatch(
      new RegExp(`^Created token reader \\(\\w{17}\\), dataset:${mine}=READ, expires `),
    );
    const withToken = { authorization: `Bearer ${secret}` };
    await t.http().get(`/v2/datasets/${mine}`).set(withToken).expect(200);
    const outside = await t.http().get(`/v2/datasets/${other}`).set(withToken);
    expect([403, 404]).toContain(outside.status);
    await t.http().post(`/v2/datasets/${mine}/items`).set(withToken).send({ a: 1 }).expect(403);

    const ls = await asAlice(['tokens', 'ls']);
    expect(ls.stdout).toMatch(new RegExp(`^reader +\\w{17} +dataset:${mine}=READ +20`, 'm'));
    expect(ls.stdout).not.toContain(secret);

    expect((await asAlice(['tokens', 'revoke', 'reader'])).stdout).toMatch(/^Revoked token reader/);
    await t.http().get(`/v2/datasets/${mine}`).set(withToken).expect(401);

    const storage = await asAlice([
      'tokens',
      'create',
      'storage-reader',
      '--scope',
      'storage=read',
      '--scope',
      'create=dataset',
      '--json',
    ]);
    expect(JSON.parse(storage.stdout)).toMatchObject({
      name: 'storage-reader',
      scope: { account: { STORAGE: ['READ'], CREATE: ['DATASET'] } },
      token: expect.any(String),
    });

    const org = await asAlice(['tokens', 'create', 'org-ci', '--account', orgName]);
    expect(org.code).toBe(0);
    expect((await asAlice(['tokens', 'ls', '--account', orgName])).stdout).toMatch(
      /^org-ci +\w{17} +full access/m,
    );
    expect((await asAlice(['tokens', 'ls'])).stdout).not.toContain('org-ci');
  });

  it('tokens: bad scopes name --scope in one line', async () => {
    expectOneLineError(
      await asAlice(['tokens', 'create', 'x', '--scope', 'storage=FLY']),
      2,
      /Option --scope: "FLY" is not a permission of STORAGE/,
    );
    expectOneLineError(
      await asAlice(['tokens', 'create', 'x', '--scope', 'spaceship:abc=READ']),
      2,
      /Option --scope: "spaceship" is not a resource type/,
    );
    expectOneLineError(
      await asAlice(['tokens', 'create', 'x', '--scope', 'READ']),
      2,
      /Option --scope: "READ" is not of the form/,
    );
    // A 404 names what was not found, as typed.
    expectOneLineError(
      await asAlice(['tokens', 'create', 'x', '--scope', `dataset:${alice.username}~nosuch=READ`]),
      5,
      new RegExp(`^atrium: No dataset "${alice.username}~nosuch" \\(or none you can see\\)\n$`),
    );
    expectOneLineError(
      await asAlice(['tokens', 'revoke', 'no-such-token']),
      5,
      /Argument token: no token "no-such-token"/,
    );
  });
});
