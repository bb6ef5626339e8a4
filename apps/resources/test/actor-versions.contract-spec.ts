import { ActorsRpc, ActorVersionsRpc } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import {
  ContractHarness,
  expectAppError,
  startContractHarness,
  testServiceConfig,
  uniqueName,
} from '@atrium/testing';
import { DataSource } from 'typeorm';
import { ActorEnvVarEntity } from '../src/actor-versions/actor-env-var.entity';
import { ActorVersions1796321523965 } from '../src/database/migrations/1796321523965-actor-versions';
import { ResourcesModule } from '../src/resources.module';

const SECRET = 'contract-secret-value';

/** Actor versions, their environment variables, and what builds take from them, over the queue. */
describe('resources message contract: Actor versions and env vars (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  let dataSource: DataSource;
  const owner = newId();
  const meta = { origin: 'API' as const };

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) => ResourcesModule.forRoot(testServiceConfig(url)));
    dataSource = h.app.get(DataSource);
  });
  afterAll(() => h.close());

  const createActor = (extra: Record<string, unknown> = {}) =>
    h.rpc.call(ActorsRpc.createActor, {
      ownerId: owner,
      createdBy: owner,
      actor: {
        name: uniqueName('versioned'),
        versions: [
          {
            versionNumber: '0.1',
            sourceType: 'GIT_REPO',
            gitRepoUrl: 'https://git.example/a.git',
            envVars: [
              { name: 'TOKEN', value: SECRET, isSecret: true },
              { name: 'MODE', value: 'fast' },
            ],
          },
        ],
        ...extra,
      },
    });

  it('returns a secret value only when the request says the caller may write (revealSecrets)', async () => {
    const actor = await createActor();
    const ref = { actorId: actor.id, versionNumber: '0.1' };
    const hidden = { name: 'TOKEN', isSecret: true };
    const shown = { name: 'TOKEN', value: SECRET, isSecret: true };
    const plain = { name: 'MODE', value: 'fast', isSecret: false };
    for (const [revealSecrets, secret] of [
      [false, hidden],
      [true, shown],
    ] as const) {
      expect((await h.rpc.call(ActorVersionsRpc.getVersion, { ...ref, revealSecrets })).envVars).toEqual([
        secret,
        plain,
      ]);
      expect(
        (await h.rpc.call(ActorVersionsRpc.listVersions, { actorId: actor.id, revealSecrets })).items[0]
          ?.envVars,
      ).toEqual([secret, plain]);
      expect((await h.rpc.call(ActorVersionsRpc.listEnvVars, { ...ref, revealSecrets })).items).toEqual([
        secret,
        plain,
      ]);
      expect(await h.rpc.call(ActorVersionsRpc.getEnvVar, { ...ref, name: 'TOKEN', revealSecrets })).toEqual(
        secret,
      );
      expect(
        (await h.rpc.call(ActorsRpc.getActor, { id: actor.id, revealSecrets })).versions?.[0]?.envVars,
      ).toEqual([secret, plain]);
    }
    // Omitted, it is false.
    expect(JSON.stringify(await h.rpc.call(ActorsRpc.getActor, { id: actor.id }))).not.toContain(SECRET);
    // A secret is stored apart, and an ordinary query of the table does not load it.
    const rows = await dataSource.manager.find(ActorEnvVarEntity, { where: { actorId: actor.id } });
    expect(rows.find((r) => r.name === 'TOKEN')).toMatchObject({ isSecret: true, value: null });
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    const [stored] = await dataSource.query(
      `SELECT value, secret_value FROM resources.actor_env_var WHERE actor_id = $1 AND name = 'TOKEN'`,
      [actor.id],
    );
    expect(stored).toEqual({ value: null, secret_value: SECRET });
  });

  it('creates, renames, updates and deletes versions and variables; refuses conflicts and unknown ids', async () => {
    const actor = await createActor();
    const created = await h.rpc.call(ActorVersionsRpc.createVersion, {
      actorId: actor.id,
      version: { versionNumber: '0.10', sourceType: 'TARBALL', tarballUrl: 'https://x.test/a.tgz' },
    });
    expect(created).toEqual({
      versionNumber: '0.10',
      sourceType: 'TARBALL',
      tarballUrl: 'https://x.test/a.tgz',
      envVars: [],
      applyEnvVarsToBuild: false,
      buildTag: 'latest',
    });
    // "0.10" after "0.1" (and after "0.9"): in version order, not text order.
    await h.rpc.call(ActorVersionsRpc.createVersion, {
      actorId: actor.id,
      version: { versionNumber: '0.9', sourceType: 'TARBALL', tarballUrl: 'https://x.test/b.tgz' },
    });
    const listed = await h.rpc.call(ActorVersionsRpc.listVersions, {
      actorId: actor.id,
      revealSecrets: false,
    });
    expect(listed.items.map((v) => v.versionNumber)).toEqual(['0.1', '0.9', '0.10']);
    await expectAppError(
      h.rpc.call(ActorVersionsRpc.createVersion, {
        actorId: actor.id,
        version: { versionNumber: '0.9', sourceType: 'TARBALL', tarballUrl: 'https://x.test/c.tgz' },
      }),
      'conflict',
    );

    const renamed = await h.rpc.call(ActorVersionsRpc.updateVersion, {
      actorId: actor.id,
      versionNumber: '0.1',
      changes: { versionNumber: '1.0', buildTag: null },
    });
    expect(renamed).toMatchObject({
      versionNumber: '1.0',
      buildTag: null,
      gitRepoUrl: 'https://git.example/a.git',
    });
    expect(renamed.envVars.map((e) => e.value)).toEqual([SECRET, 'fast']);
    await expectAppError(
      h.rpc.call(ActorVersionsRpc.updateVersion, {
        actorId: actor.id,
        versionNumber: '1.0',
        changes: { versionNumber: '0.9' },
      }),
      'conflict',
    );

    const ref = { actorId: actor.id, versionNumber: '1.0' };
    expect(
      await h.rpc.call(ActorVersionsRpc.createEnvVar, { ...ref, envVar: { name: 'EXTRA', value: 'x' } }),
    ).toEqual({ name: 'EXTRA', value: 'x', isSecret: false });
    expect(
      await h.rpc.call(ActorVersionsRpc.updateEnvVar, {
        ...ref,
        name: 'TOKEN',
        changes: { isSecret: false, value: 'p' },
      }),
    ).toEqual({ name: 'TOKEN', value: 'p', isSecret: false });
    // Its order stays where it was.
    expect(
      (await h.rpc.call(ActorVersionsRpc.listEnvVars, { ...ref, revealSecrets: false })).items.map(
        (e) => e.name,
      ),
    ).toEqual(['TOKEN', 'MODE', 'EXTRA']);
    await h.rpc.call(ActorVersionsRpc.deleteEnvVar, { ...ref, name: 'EXTRA' });
    await expectAppError(
      h.rpc.call(ActorVersionsRpc.deleteEnvVar, { ...ref, name: 'EXTRA' }),
      'record-not-found',
    );
    await h.rpc.call(ActorVersionsRpc.deleteVersion, ref);
    await expectAppError(h.rpc.call(ActorVersionsRpc.deleteVersion, ref), 'record-not-found');
    await expectAppError(
      h.rpc.call(ActorVersionsRpc.listEnvVars, { ...ref, revealSecrets: true }),
      'record-not-found',
    );
    await expectAppError(
      h.rpc.call(ActorVersionsRpc.listVersions, { actorId: newId(), revealSecrets: false }),
      'record-not-found',
    );
    const bad = await expectAppError(
      h.rpc.call(ActorVersionsRpc.getVersion, {
        actorId: actor.id,
        versionNumber: '1',
        revealSecrets: false,
      }),
      'invalid-input',
    );
    expect(bad.message).toContain('versionNumber');

    // Deleting the Actor takes its versions and variables with it.
    await h.rpc.call(ActorsRpc.deleteActor, { id: actor.id });
    expect(
      await dataSource.query(`SELECT 1 FROM resources.actor_env_var WHERE actor_id = $1`, [actor.id]),
    ).toEqual([]);
    expect(
      await dataSource.query(`SELECT 1 FROM resources.actor_version WHERE actor_id = $1`, [actor.id]),
    ).toEqual([]);
  });

  it('gives a build the input schema of its source files, a log, and resolves the default build', async () => {
    const schema = { title: 'In', type: 'object', properties: { q: { type: 'string' } }, required: ['q'] };
    const actor = await h.rpc.call(ActorsRpc.createActor, {
      ownerId: owner,
      createdBy: owner,
      actor: {
        name: uniqueName('built'),
        versions: [
          {
            versionNumber: '0.0',
            sourceType: 'SOURCE_FILES',
            sourceFiles: [
              {
                name: '.actor/actor.json',
                format: 'BASE64',
                content: Buffer.from(JSON.stringify({ name: 'built', input: schema })).toString('base64'),
              },
            ],
          },
        ],
      },
    });
    await expectAppError(h.rpc.call(ActorsRpc.resolveBuild, { actorId: actor.id }), 'record-not-found');
    const build = await h.rpc.call(ActorsRpc.createBuild, {
      actorId: actor.id,
      options: {},
      meta,
      createdBy: owner,
    });
    expect(JSON.parse(build.inputSchema!)).toEqual(schema);
    expect(build.actorDefinition).toEqual({ name: 'built', input: schema });
    await h.rpc.call(ActorsRpc.updateBuild, { id: build.id, changes: { status: 'RUNNING' } });
    await h.rpc.call(ActorsRpc.updateBuild, { id: build.id, changes: { status: 'SUCCEEDED' } });
    expect((await h.rpc.call(ActorsRpc.resolveBuild, { actorId: actor.id })).id).toBe(build.id);
    expect((await h.rpc.call(ActorsRpc.resolveBuild, { actorId: actor.id, ref: '0.0.1' })).id).toBe(build.id);
    await expectAppError(
      h.rpc.call(ActorsRpc.resolveBuild, { actorId: actor.id, ref: 'beta' }),
      'record-not-found',
    );
    await expectAppError(
      h.rpc.call(ActorsRpc.updateBuild, { id: build.id, changes: { status: 'READY' } }),
      'conflict',
    );
    const { log } = await h.rpc.call(ActorsRpc.getBuildLog, { id: build.id });
    expect(log.trim().split('\n')).toEqual([
      expect.stringContaining(
        'Build 0.0.1 created (status READY), with the input schema of its source files',
      ),
      expect.stringContaining('Status changed from READY to RUNNING'),
      expect.stringContaining('Status changed from RUNNING to SUCCEEDED'),
    ]);
  });

  it('migrates versions kept on the Actor into rows, secrets apart, and back', async () => {
    const actor = await createActor();
    const migration = new ActorVersions1796321523965();
    const runner = dataSource.createQueryRunner();
    try {
      await migration.down(runner);
      const [row] = await runner.query(`SELECT versions FROM resources.actor WHERE id = $1`, [actor.id]);
      expect(row.versions).toEqual([
        {
          versionNumber: '0.1',
          sourceType: 'GIT_REPO',
          gitRepoUrl: 'https://git.example/a.git',
          applyEnvVarsToBuild: false,
          buildTag: 'latest',
          envVars: [
            { name: 'TOKEN', value: SECRET, isSecret: true },
            { name: 'MODE', value: 'fast', isSecret: false },
          ],
        },
      ]);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    const ref = { actorId: actor.id, versionNumber: '0.1' };
    expect((await h.rpc.call(ActorVersionsRpc.getVersion, { ...ref, revealSecrets: true })).envVars).toEqual([
      { name: 'TOKEN', value: SECRET, isSecret: true },
      { name: 'MODE', value: 'fast', isSecret: false },
    ]);
    const [stored] = await dataSource.query(
      `SELECT value, secret_value FROM resources.actor_env_var WHERE actor_id = $1 AND name = 'TOKEN'`,
      [actor.id],
    );
    expect(stored).toEqual({ value: null, secret_value: SECRET });
  });
});
