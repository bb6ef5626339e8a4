import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { TEST_PASSWORD } from '@atrium/testing';
import {
  createActor,
  createDataset,
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from '../../atrium/test/test-stack';
import { cliUser, CliUser, CliResult } from './cli-harness';

/** One line on stderr, `atrium: …`, and nothing on stdout. */
function expectOneLineError(out: CliResult, code: number, message: RegExp) {
  expect({ code: out.code, stdout: out.stdout }).toEqual({ code, stdout: '' });
  expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(out.stderr).toMatch(/^atrium: /);
  expect(out.stderr).toMatch(message);
}

describe('atrium share, revoke, access, explain, general-access, audit (the CLI as a subprocess)', () => {
  let t: TestStack & { baseUrl: string };
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let carol: SignedUpUser;
  let asAlice: CliUser;
  let asBob: CliUser;
  let datasetId: string;
  let datasetRef: string;

  const bobReads = () => t.http().get(`/v2/datasets/${datasetId}`).set(bob.auth);

  beforeAll(async () => {
    t = await startListeningTestStack();
    [alice, bob, carol] = await signUpEach(t, 'alice', 'bob', 'carol');
    await restrictResourceAccess(t, alice);
    datasetId = await createDataset(t, alice, 'shared-results');
    datasetRef = `${alice.username}~shared-results`;
    asAlice = cliUser();
    asBob = cliUser();
    for (const [cli, user] of [
      [asAlice, alice],
      [asBob, bob],
    ] as const) {
      const login = await cli(['login', t.baseUrl, '--user', user.username, '--password-stdin'], {
        input: `${TEST_PASSWORD}\n`,
      });
      expect(login.code).toBe(0);
    }
  }, 120_000);
  afterAll(async () => {
    asAlice?.cleanup();
    asBob?.cleanup();
    await t?.close();
  });

  it('shares a dataset (by username~name) with bob: he can read it through the API, and access lists him', async () => {
    await bobReads().expect(404);
    const before = Date.now();
    const share = await asAlice([
      'share',
      'dataset',
      datasetRef,
      '--with',
      bob.username,
      '--permissions',
      'read',
      '--expires',
      '7d',
    ]);
    expect(share.stderr).toBe('');
    expect(share.code).toBe(0);
    expect(share.stdout).toContain(`Shared dataset ${datasetRef} with ${bob.username}: READ until `);
    await bobReads().expect(200);

    const access = await asAlice(['access', 'dataset', datasetRef]);
    expect(access.code).toBe(0);
    expect(access.stdout).toMatch(new RegExp(`Owner: +${alice.username}`));
    expect(access.stdout).toMatch(new RegExp(`^${bob.username} +READ +20`, 'm'));
    expect(access.stdout).toMatch(/General access: +RESTRICTED|General access: +FOLLOW_USER_SETTING/);

    const json = JSON.parse((await asAlice(['access', 'dataset', datasetId, '--json'])).stdout);
    expect(json).toMatchObject({ resourceId: datasetId, owner: { userId: alice.id } });
    const grant = json.grants.find((g: { userId: string }) => g.userId === bob.id);
    expect(grant.permissions).toEqual(['READ']);
    const expires = Date.parse(grant.expiresAt) - before;
    expect(expires).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(expires).toBeLessThan(7 * 86_400_000 + 60_000);

    // Sharing again changes bob's grant (the API takes one grant a user): now a day, and still one grant.
    const again = await asAlice([
      'share',
      'dataset',
      datasetRef,
      '--with',
      bob.username,
      '--permissions',
      'READ',
      '--expires',
      '1d',
    ]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
    expect(again.stdout).toContain(`Updated ${bob.username}'s grant on dataset ${datasetRef}: READ until `);
    const changed = JSON.parse((await asAlice(['access', 'dataset', datasetId, '--json'])).stdout);
    const bobs = changed.grants.filter((g: { userId: string }) => g.userId === bob.id);
    expect(bobs).toHaveLength(1);
    expect(bobs[0].id).toBe(grant.id);
    expect(Date.parse(bobs[0].expiresAt) - before).toBeLessThan(86_400_000 + 60_000);
  });

  it('shares an Actor (bob named by id) with --view-owner-runs; access lists the grant under the Actor', async () => {
    const actorId = await createActor(t, alice);
    const share = await asAlice([
      'share',
      'actor',
      actorId,
      '--with',
      bob.id,
      '--permissions',
      'READ,RUN',
      '--view-owner-runs',
      '--json',
    ]);
    expect(share.code).toBe(0);
    expect(JSON.parse(share.stdout)).toMatchObject({
      resourceType: 'ACTOR',
      resourceId: actorId,
      userId: bob.id,
      permissions: expect.arrayContaining(['READ', 'RUN', 'VIEW_OWNER_RUNS']),
    });
    expect((await asAlice(['access', 'actor', actorId])).stdout).toMatch(
      new RegExp(`^${bob.username} +READ,RUN,VIEW_OWNER_RUNS +never`, 'm'),
    );
    await t.http().get(`/v2/acts/${actorId}`).set(bob.auth).expect(200);
    expectOneLineError(
      await asAlice(['share', 'actor', actorId, '--with', 'bob@example.com', '--permissions', 'READ']),
      2,
      /Option --with: name the user by username or id, not by email address/,
    );
    expectOneLineError(
      await asAlice([
        'share',
        'dataset',
        datasetId,
        '--with',
        bob.username,
        '--permissions',
        'READ',
        '--view-owner-runs',
      ]),
      2,
      /Option --view-owner-runs: "VIEW_OWNER_RUNS" is not a permission of a dataset/,
    );
  });

  it('explain says why bob may read it (a grant) and why he may not write', async () => {
    const read = await asAlice(['explain', 'dataset', datasetRef, '--user', bob.username]);
    expect(read.code).toBe(0);
    expect(read.stdout).toMatch(
      new RegExp(`^Allowed: ${bob.username} may READ dataset ${datasetId} \\(by rule grant\\)`),
    );
    const write = JSON.parse(
      (
        await asAlice([
          'explain',
          'dataset',
          datasetId,
          '--user',
          bob.username,
          '--permission',
          'WRITE',
          '--json',
        ])
      ).stdout,
    );
    expect(write).toMatchObject({ allowed: false, permission: 'WRITE', userId: bob.id });
    const denied = await asAlice([
      'explain',
      'dataset',
      datasetId,
      '--user',
      bob.username,
      '--permission',
      'WRITE',
    ]);
    expect(denied.stdout.split('\n')[0]).toMatch(
      new RegExp(`^Denied: ${bob.username} may not WRITE dataset ${datasetId} \\(no rule allows it\\)$`),
    );
    expect(denied.stdout).not.toContain('rule none');
    const mine = await asAlice(['explain', 'dataset', datasetId]);
    expect(mine.stdout).toMatch(/^Allowed: you may READ .* \(by rule owner\)/);
  });

  it("bob may read but not manage access: exit 4 with the API's message; --json prints the API's error object", async () => {
    const denied = await asBob(['access', 'dataset', datasetId]);
    expectOneLineError(denied, 4, /./);
    const json = await asBob(['access', 'dataset', datasetId, '--json']);
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { type: 'insufficient-permissions', message: denied.stderr.replace(/^atrium: /, '').trim() },
    });
    const share = await asBob([
      'share',
      'dataset',
      datasetId,
      '--with',
      carol.username,
      '--permissions',
      'READ',
    ]);
    expect(share.code).toBe(4);
  });

  it('general-access sets and shows link sharing: carol reads by id, then no more', async () => {
    await t.http().get(`/v2/datasets/${datasetId}`).set(carol.auth).expect(404);
    const set = await asAlice(['general-access', 'dataset', datasetRef, 'anyone-with-id-can-read']);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/General access: +ANYONE_WITH_ID_CAN_READ/);
    await t.http().get(`/v2/datasets/${datasetId}`).set(carol.auth).expect(200);
    const shown = JSON.parse((await asAlice(['general-access', 'dataset', datasetId, '--json'])).stdout);
    expect(shown).toEqual({
      resourceId: datasetId,
      generalAccess: 'ANYONE_WITH_ID_CAN_READ',
      effectiveGeneralAccess: 'ANYONE_WITH_ID_CAN_READ',
    });
    // While the link is open, sharing and revoking say that anyone with it still reads.
    const note =
      `Note: general access is ANYONE_WITH_ID_CAN_READ: anyone with the link can still read dataset ${datasetId}. ` +
      `To limit reading to its grants: atrium general-access dataset ${datasetId} restricted ` +
      `(a run's default storage: restrict its run)\n`;
    const shared = await asAlice([
      'share',
      'dataset',
      datasetId,
      '--with',
      carol.username,
      '--permissions',
      'READ',
    ]);
    expect({ code: shared.code, stderr: shared.stderr }).toEqual({ code: 0, stderr: note });
    const revoked = await asAlice(['revoke', 'dataset', datasetId, '--from', carol.username]);
    expect({ code: revoked.code, stderr: revoked.stderr }).toEqual({ code: 0, stderr: note });
    await t.http().get(`/v2/datasets/${datasetId}`).set(carol.auth).expect(200);
    expect((await asAlice(['general-access', 'dataset', datasetId, 'RESTRICTED'])).code).toBe(0);
    await t.http().get(`/v2/datasets/${datasetId}`).set(carol.auth).expect(404);
    expectOneLineError(
      await asAlice(['general-access', 'dataset', datasetId, 'everyone']),
      2,
      /Argument value: "everyone" is not a general access/,
    );
    expectOneLineError(
      await asAlice(['general-access', 'actor', 'XbP1sM7yH2kL9qR4t']),
      2,
      /Argument type: an Actor has no general access/,
    );
  });

  it('revoke finds bob’s grant and takes it back at once', async () => {
    const revoke = await asAlice(['revoke', 'dataset', datasetRef, '--from', bob.username]);
    expect(revoke.stderr).toBe('');
    expect(revoke.code).toBe(0);
    expect(revoke.stdout).toContain(`Revoked ${bob.username}'s access to dataset ${datasetRef}`);
    await bobReads().expect(404);
    const again = await asAlice(['revoke', 'dataset', datasetRef, '--from', bob.username]);
    expectOneLineError(again, 5, new RegExp(`Option --from: ${bob.username} holds no grant`));
    // `--with`, the word `share` takes, names him too; naming nobody is a usage error.
    const withWord = await asAlice(['revoke', 'dataset', datasetRef, '--with', bob.username]);
    expectOneLineError(withWord, 5, new RegExp(`Option --with: ${bob.username} holds no grant`));
    expectOneLineError(
      await asAlice(['revoke', 'dataset', datasetRef]),
      2,
      /Option --from <user> names whose grant/,
    );
  });

  it('audit shows the share and the revoke, and --follow prints what comes next', async () => {
    const log = await asAlice(['audit', '--resource', `dataset:${datasetRef}`]);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(
      new RegExp(`grant\\.created +${alice.username} +${bob.username} +dataset ${datasetId} +READ`),
    );
    expect(log.stdout).toMatch(
      new RegExp(`grant\\.revoked +${alice.username} +${bob.username} +dataset ${datasetId}`),
    );
    expect(log.stdout.indexOf('grant.created')).toBeLessThan(log.stdout.indexOf('grant.revoked'));
    const json = JSON.parse((await asAlice(['audit', '--resource', datasetId, '--json'])).stdout);
    expect(json.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['grant.created', 'grant.revoked']),
    );
    // The account's log (no --resource) has them too.
    expect((await asAlice(['audit'])).stdout).toContain('grant.revoked');

    const follow = spawn(
      process.execPath,
      [
        join(__dirname, '..', '..', '..', 'bin', 'atrium.js'),
        'audit',
        '--resource',
        datasetId,
        '--follow',
        '--interval',
        '0.3',
      ],
      {
        env: { PATH: process.env.PATH ?? '', HOME: asAlice.configDir, ATRIUM_CONFIG_DIR: asAlice.configDir },
      },
    );
    let stdout = '';
    follow.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follow.on('close', resolve));
    try {
      await waitFor(() => stdout.includes('grant.revoked'));
      const shownBefore = stdout.length;
      expect(
        (
          await asAlice([
            'share',
            'dataset',
            datasetId,
            '--with',
            carol.username,
            '--permissions',
            'READ,WRITE',
          ])
        ).code,
      ).toBe(0);
      await waitFor(() => stdout.slice(shownBefore).includes(carol.username));
      expect(stdout.slice(shownBefore)).toMatch(
        new RegExp(`grant\\.created +${alice.username} +${carol.username}`),
      );
      expect(stdout.slice(shownBefore)).not.toContain('TIME');
      // Fixed widths: the new row's columns start where the header's do.
      const headerLine = stdout.split('\n')[0];
      const row =
        stdout
          .slice(shownBefore)
          .split('\n')
          .find((l) => l.includes(carol.username)) ?? '';
      expect(row.indexOf('grant.created')).toBe(headerLine.indexOf('ACTION'));
      expect(row.indexOf(carol.username)).toBe(headerLine.indexOf('USER'));
      expect(row.indexOf('dataset ')).toBe(headerLine.indexOf('RESOURCE'));
    } finally {
      follow.kill('SIGINT');
    }
    expect(await exited).toBe(130);
  });

  it('bad input: one clear line naming the argument or option, and a non-zero exit', async () => {
    // A 404 names what was not found, as typed; --json still prints the API's error object.
    const nosuch = `${alice.username}~nosuch`;
    expectOneLineError(
      await asAlice(['share', 'dataset', nosuch, '--with', bob.username, '--permissions', 'READ']),
      5,
      new RegExp(`^atrium: No dataset "${nosuch}" \\(or none you can see\\)\n$`),
    );
    expect(
      JSON.parse(
        (
          await asAlice([
            'share',
            'dataset',
            nosuch,
            '--with',
            bob.username,
            '--permissions',
            'READ',
            '--json',
          ])
        ).stdout,
      ),
    ).toEqual({ error: { type: 'record-not-found', message: expect.any(String) } });
    expectOneLineError(
      await asAlice(['share', 'spaceship', datasetId, '--with', bob.username, '--permissions', 'READ']),
      2,
      /Argument type: "spaceship" is not a resource type/,
    );
    const environment = 'XbP1sM7yH2kL9qR4t';
    for (const argv of [
      ['share', 'environment', environment, '--with', bob.username, '--permissions', 'READ'],
      ['revoke', 'environment', environment, '--from', bob.username],
      ['access', 'environment', environment],
    ])
      expectOneLineError(
        await asAlice(argv),
        2,
        /Argument type: an environment is not shared by grants: environments are shared through account collaboration/,
      );
    expectOneLineError(
      await asAlice(['share', 'dataset', datasetId, '--with', bob.username, '--permissions', 'READ,RUN']),
      2,
      /Option --permissions: "RUN" is not a permission of a dataset \(one of READ, WRITE, MANAGE_ACCESS\)/,
    );
    expectOneLineError(
      await asAlice([
        'share',
        'dataset',
        datasetId,
        '--with',
        bob.username,
        '--permissions',
        'READ',
        '--expires',
        'soon',
      ]),
      2,
      /Option --expires: "soon" is not a duration/,
    );
    expectOneLineError(
      await asAlice(['share', 'dataset', datasetId, '--with', 'nobody-at-all-xyz', '--permissions', 'READ']),
      5,
      /Option --with: no user "nobody-at-all-xyz"/,
    );
    expectOneLineError(
      await asAlice(['explain', 'dataset', datasetId, '--permission', 'FLY']),
      2,
      /Option --permission: "FLY" is not a permission of a dataset/,
    );
    expectOneLineError(
      await asAlice(['datasets', 'push', datasetId, join(asAlice.configDir, 'no-such-file.json')]),
      2,
      /Argument file: cannot read .*no-such-file\.json \(ENOENT\)/,
    );
    expectOneLineError(await asAlice(['access', 'dataset', 'Zz0000000000000zZ']), 5, /./);
    const missing = await asAlice(['share', 'dataset', datasetId, '--permissions', 'READ']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--with <user>' not specified/);
  });

  it('a manager whose own access ends shares until then, again and again, and is told why a later end is refused', async () => {
    const timed = await createDataset(t, alice, 'timed-results');
    const ends = new Date(Date.now() + 3_600_000).toISOString();
    await t
      .http()
      .post(`/v2/datasets/${timed}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['READ', 'MANAGE_ACCESS'], expiresAt: ends })
      .expect(201);
    const share = (...extra: string[]) =>
      asBob(['share', 'dataset', timed, '--with', carol.username, '--permissions', 'READ', ...extra]);
    for (const verb of ['Shared', 'Updated']) {
      const out = await share();
      expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: '' });
      expect(out.stdout).toContain(`${verb} `);
      expect(out.stdout).toContain(`until ${ends}`);
    }
    expectOneLineError(await share('--expires', '2d'), 4, new RegExp(`ends at ${ends}`));
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
