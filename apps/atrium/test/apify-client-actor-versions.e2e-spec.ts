import { uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import {
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from './test-stack';

const SECRET = 'sk-live-do-not-leak-7f3a';
const PLAIN = 'https://plain.example';

/** An input schema as Apify Actors keep it, referenced from `.actor/actor.json`. */
const INPUT_SCHEMA = {
  title: 'Scraper input',
  type: 'object',
  schemaVersion: 1,
  properties: {
    url: {
      title: 'URL',
      type: 'string',
      editor: 'textfield',
      description: 'Where to start',
      pattern: '^https?://',
    },
    maxPages: {
      title: 'Max pages',
      type: 'integer',
      editor: 'number',
      minimum: 1,
      maximum: 100,
      default: 10,
    },
    mode: { title: 'Mode', type: 'string', editor: 'select', enum: ['fast', 'thorough'] },
  },
  required: ['url'],
};
const SOURCE_FILES = [
  {
    name: '.actor/actor.json',
    format: 'TEXT',
    content: JSON.stringify({
      actorSpecification: 1,
      name: 'scraper',
      version: '0.1',
      input: './input_schema.json',
    }),
  },
  { name: '.actor/input_schema.json', format: 'TEXT', content: JSON.stringify(INPUT_SCHEMA) },
  { name: 'main.js', format: 'TEXT', content: 'console.log("hi")' },
];

/**
 * Actor versions, their environment variables and builds, driven through the official
 * apify-client (issue 13, part 4): an owner, a reader (READ grant) who never sees a secret value,
 * a stranger (404), scoped tokens, and bad input that changes nothing.
 */
describe('apify-client: Actor versions, environment variables and builds', () => {
  let t: TestStack;
  let baseUrl: string;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let carol: SignedUpUser;
  let actorId: string;
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const versionPath = (v = '0.1') => `/v2/acts/${actorId}/versions/${v}`;
  const mintToken = async (permissions: string[]) =>
    (
      await t
        .http()
        .post('/v2/users/me/tokens')
        .set(alice.auth)
        .send({
          name: uniqueName('scoped'),
          scope: { resources: [{ type: 'ACTOR', id: actorId, permissions }] },
        })
        .expect(201)
    ).body.data.token as string;
  /** Finishes a build as its builder would: RUNNING, then a terminal status. */
  const finishBuild = async (buildId: string, status: string) => {
    for (const s of ['RUNNING', status])
      await t.http().put(`/v2/actor-builds/${buildId}`).set(alice.auth).send({ status: s }).expect(200);
  };

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob, carol] = await signUpEach(t, 'alice', 'bob', 'carol');
    // Alice's builds and runs are not shared by link: only grants and the Actor's rules reach them.
    await restrictResourceAccess(t, alice);
    const actor = await client(alice.accessToken)
      .actors()
      .create({
        name: uniqueName('versioned'),
        versions: [
          {
            versionNumber: '0.1',
            sourceType: 'SOURCE_FILES',
            buildTag: 'latest',
            sourceFiles: SOURCE_FILES,
            envVars: [
              { name: 'API_KEY', value: SECRET, isSecret: true },
              { name: 'START_URL', value: PLAIN },
            ],
          },
        ] as never,
      });
    actorId = actor.id;
    await t
      .http()
      .post(`/v2/acts/${actorId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['READ'] })
      .expect(201);
  });
  afterAll(() => t.close());

  describe('versions and environment variables with apify-client', () => {
    it('ActorVersionCollectionClient.create/list and ActorVersionClient.get/update/delete', async () => {
      const actor = client(alice.accessToken).actor(actorId);
      const created = await actor.versions().create({
        versionNumber: '0.2',
        sourceType: 'GIT_REPO',
        gitRepoUrl: 'https://github.com/example/actor.git',
        envVars: [{ name: 'DEBUG', value: '1' }],
      } as never);
      expect(created).toEqual({
        versionNumber: '0.2',
        sourceType: 'GIT_REPO',
        gitRepoUrl: 'https://github.com/example/actor.git',
        envVars: [{ name: 'DEBUG', value: '1', isSecret: false }],
        applyEnvVarsToBuild: false,
        buildTag: 'latest',
      });

      const listed = await actor.versions().list();
      expect(listed.total).toBe(2);
      expect(listed.items.map((v) => v.versionNumber)).toEqual(['0.1', '0.2']);
      expect(await actor.version('0.2').get()).toEqual(created);
      expect(await actor.version('9.9').get()).toBeUndefined();

      // A change of source type takes the new source and drops the old one.
      const updated = await actor.version('0.2').update({
        sourceType: 'TARBALL',
        tarballUrl: 'https://example.com/actor.tgz',
        buildTag: 'beta',
        applyEnvVarsToBuild: true,
      } as never);
      expect(updated).toEqual({
        versionNumber: '0.2',
        sourceType: 'TARBALL',
        tarballUrl: 'https://example.com/actor.tgz',
        envVars: [{ name: 'DEBUG', value: '1', isSecret: false }],
        applyEnvVarsToBuild: true,
        buildTag: 'beta',
      });
      // Renaming a version keeps its variables.
      const renamed = await actor.version('0.2').update({ versionNumber: '0.3' } as never);
      expect(renamed.versionNumber).toBe('0.3');
      expect(await actor.version('0.2').get()).toBeUndefined();
      expect((await actor.version('0.3').envVar('DEBUG').get())?.value).toBe('1');

      await actor.version('0.3').delete();
      expect(await actor.version('0.3').get()).toBeUndefined();
      expect((await actor.versions().list()).total).toBe(1);
      // Deleting again is not an error for apify-client (404 is swallowed).
      await actor.version('0.3').delete();
      // The Actor's own versions follow.
      expect((await actor.get())?.versions?.map((v) => v.versionNumber)).toEqual(['0.1']);
    });

    it('ActorEnvVarCollectionClient.create/list and ActorEnvVarClient.get/update/delete', async () => {
      const version = client(alice.accessToken).actor(actorId).version('0.1');
      const created = await version.envVars().create({ name: 'REGION', value: 'eu' });
      expect(created).toEqual({ name: 'REGION', value: 'eu', isSecret: false });
      const secret = await version
        .envVars()
        .create({ name: 'DB_PASSWORD', value: 'hunter2', isSecret: true });
      // The owner writes, so the owner sees the value.
      expect(secret).toEqual({ name: 'DB_PASSWORD', value: 'hunter2', isSecret: true });

      const listed = await version.envVars().list();
      expect(listed.total).toBe(4);
      expect(listed.items.map((e) => e.name)).toEqual(['API_KEY', 'START_URL', 'REGION', 'DB_PASSWORD']);
      expect(await version.envVar('REGION').get()).toEqual(created);
      expect(await version.envVar('API_KEY').get()).toEqual({
        name: 'API_KEY',
        value: SECRET,
        isSecret: true,
      });
      expect(await version.envVar('NOPE').get()).toBeUndefined();

      expect(await version.envVar('REGION').update({ value: 'us' })).toEqual({
        name: 'REGION',
        value: 'us',
        isSecret: false,
      });
      // A plain variable made secret, then renamed: the value goes with it.
      expect(await version.envVar('REGION').update({ isSecret: true })).toEqual({
        name: 'REGION',
        value: 'us',
        isSecret: true,
      });
      expect(await version.envVar('REGION').update({ name: 'AREA' })).toEqual({
        name: 'AREA',
        value: 'us',
        isSecret: true,
      });
      expect(await version.envVar('REGION').get()).toBeUndefined();

      await version.envVar('AREA').delete();
      await version.envVar('DB_PASSWORD').delete();
      expect(await version.envVar('AREA').get()).toBeUndefined();
      expect((await version.envVars().list()).items.map((e) => e.name)).toEqual(['API_KEY', 'START_URL']);
    });

    it('keeps a secret sent back without its value, and makes it plain only with a new value', async () => {
      const owner = client(alice.accessToken);
      const version = owner.actor(actorId).version('0.1');
      // What a reader of the version got, sent back whole: the secret keeps its stored value.
      await version.update({
        envVars: [
          { name: 'API_KEY', isSecret: true },
          { name: 'START_URL', value: PLAIN },
        ],
      } as never);
      expect((await version.envVar('API_KEY').get())?.value).toBe(SECRET);
      // The same through the Actor's own `versions`.
      const actor = await owner.actor(actorId).get();
      const versions = actor!.versions!.map((v) => ({
        ...v,
        envVars: v.envVars?.map((e) => (e.isSecret ? { name: e.name, isSecret: true } : e)),
      }));
      await owner.actor(actorId).update({ versions } as never);
      expect((await version.envVar('API_KEY').get())?.value).toBe(SECRET);

      const plainWithoutValue = await t
        .http()
        .put(`${versionPath()}/env-vars/API_KEY`)
        .set(alice.auth)
        .send({ isSecret: false })
        .expect(400);
      expect(plainWithoutValue.body.error).toMatchObject({ type: 'invalid-input' });
      expect(plainWithoutValue.body.error.message).toContain('body.value');
      const inList = await t
        .http()
        .put(versionPath())
        .set(alice.auth)
        .send({ envVars: [{ name: 'API_KEY' }, { name: 'START_URL', value: PLAIN }] })
        .expect(400);
      expect(inList.body.error.message).toContain('body.envVars.0.value');
      expect(await version.envVar('API_KEY').get()).toEqual({
        name: 'API_KEY',
        value: SECRET,
        isSecret: true,
      });
    });
  });

  describe('secrets and access', () => {
    it('gives a reader every version and variable, never a secret value (Actor, list, get, env-var list and get)', async () => {
      const reader = client(bob.accessToken).actor(actorId);
      const seen: unknown[] = [];
      const actor = await reader.get();
      const versions = await reader.versions().list();
      const version = await reader.version('0.1').get();
      const envVars = await reader.version('0.1').envVars().list();
      const secret = await reader.version('0.1').envVar('API_KEY').get();
      const plain = await reader.version('0.1').envVar('START_URL').get();
      seen.push(actor, versions, version, envVars, secret, plain);
      expect(secret).toEqual({ name: 'API_KEY', isSecret: true });
      expect(plain).toEqual({ name: 'START_URL', value: PLAIN, isSecret: false });
      expect(envVars.items).toEqual([secret, plain]);
      expect(version?.envVars).toEqual([secret, plain]);
      expect(versions.items[0]).toEqual(version);
      expect(actor?.versions?.[0]).toEqual(version);
      expect(JSON.stringify(seen)).not.toContain(SECRET);
      // Nor in what the owner's audit log and explain say about the Actor.
      const audit = await t.http().get(`/v2/audit-log?resourceId=${actorId}`).set(alice.auth).expect(200);
      const explain = await t
        .http()
        .get(`/v2/access/explain?resourceId=${actorId}&permission=READ&userId=${bob.id}`)
        .set(alice.auth)
        .expect(200);
      expect(JSON.stringify([audit.body, explain.body])).not.toContain(SECRET);
    });

    it('answers a reader 403 on every change and a stranger 404 everywhere, changing nothing', async () => {
      const writes: [method: 'post' | 'put' | 'delete', path: string, body?: object][] = [
        [
          'post',
          `/v2/acts/${actorId}/versions`,
          { versionNumber: '1.0', sourceType: 'TARBALL', tarballUrl: PLAIN },
        ],
        ['put', versionPath(), { buildTag: 'x' }],
        ['post', versionPath(), { buildTag: 'x' }],
        ['delete', versionPath()],
        ['post', `${versionPath()}/env-vars`, { name: 'X', value: 'y' }],
        ['put', `${versionPath()}/env-vars/API_KEY`, { isSecret: false, value: 'y' }],
        ['post', `${versionPath()}/env-vars/API_KEY`, { value: 'y' }],
        ['delete', `${versionPath()}/env-vars/API_KEY`],
        ['post', `/v2/acts/${actorId}/builds?version=0.1`],
      ];
      const reads = [
        `/v2/acts/${actorId}/versions`,
        versionPath(),
        `${versionPath()}/env-vars`,
        `${versionPath()}/env-vars/API_KEY`,
        `/v2/acts/${actorId}/builds/default`,
      ];
      for (const [method, path, body] of writes) {
        const denied = await t.http()[method](path).set(bob.auth).send(body).expect(403);
        expect(denied.body.error.type).toBe('insufficient-permissions');
        const hidden = await t.http()[method](path).set(carol.auth).send(body).expect(404);
        expect(hidden.body.error.type).toBe('record-not-found');
        await t.http()[method](path).send(body).expect(404);
      }
      for (const path of reads) {
        expect((await t.http().get(path).set(carol.auth).expect(404)).body.error.type).toBe(
          'record-not-found',
        );
        await t.http().post(`/v2/acts/${actorId}/validate-input`).set(carol.auth).send({}).expect(404);
      }
      const stranger = client(carol.accessToken).actor(actorId);
      expect(await stranger.version('0.1').get()).toBeUndefined();
      expect(await stranger.version('0.1').envVar('API_KEY').get()).toBeUndefined();
      await expect(stranger.versions().list()).rejects.toMatchObject({ statusCode: 404 });
      await expect(client(bob.accessToken).actor(actorId).version('0.1').delete()).rejects.toMatchObject({
        statusCode: 403,
        type: 'insufficient-permissions',
      });
      const after = await client(alice.accessToken).actor(actorId).version('0.1').get();
      expect(after?.envVars).toEqual([
        { name: 'API_KEY', value: SECRET, isSecret: true },
        { name: 'START_URL', value: PLAIN, isSecret: false },
      ]);
      expect(after?.buildTag).toBe('latest');
    });

    it('narrows a scoped token: READ reads without secret values and cannot write; WRITE sees them', async () => {
      const readOnly = client(await mintToken(['READ'])).actor(actorId);
      expect(await readOnly.version('0.1').envVar('API_KEY').get()).toEqual({
        name: 'API_KEY',
        isSecret: true,
      });
      expect(JSON.stringify(await readOnly.versions().list())).not.toContain(SECRET);
      await expect(readOnly.version('0.1').envVars().create({ name: 'X', value: 'y' })).rejects.toMatchObject(
        {
          statusCode: 403,
        },
      );
      const writer = client(await mintToken(['READ', 'WRITE'])).actor(actorId);
      expect((await writer.version('0.1').envVar('API_KEY').get())?.value).toBe(SECRET);
      // A token scoped to another Actor does not reach this one.
      const other = await client(alice.accessToken)
        .actors()
        .create({ name: uniqueName('other') });
      const elsewhere = (
        await t
          .http()
          .post('/v2/users/me/tokens')
          .set(alice.auth)
          .send({
            name: 'elsewhere',
            scope: { resources: [{ type: 'ACTOR', id: other.id, permissions: ['READ'] }] },
          })
          .expect(201)
      ).body.data.token as string;
      await t.http().get(versionPath()).set(bearer(elsewhere)).expect(404);
    });
  });

  describe('bad input', () => {
    it.each([
      [
        'post',
        'versions',
        { versionNumber: '1', sourceType: 'GIT_REPO', gitRepoUrl: PLAIN },
        'body.versionNumber',
      ],
      [
        'post',
        'versions',
        { versionNumber: '01.0', sourceType: 'GIT_REPO', gitRepoUrl: PLAIN },
        'body.versionNumber',
      ],
      ['post', 'versions', { versionNumber: '1.0', sourceType: 'GIT_REPO' }, 'body.gitRepoUrl'],
      ['post', 'versions', { versionNumber: '1.0', sourceType: 'SVN', gitRepoUrl: PLAIN }, 'body.sourceType'],
      [
        'post',
        'versions',
        {
          versionNumber: '1.0',
          sourceType: 'GIT_REPO',
          gitRepoUrl: PLAIN,
          envVars: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
        'body.envVars.1.name',
      ],
      [
        'post',
        'versions',
        { versionNumber: '1.0', sourceType: 'GIT_REPO', gitRepoUrl: PLAIN, x: 1 },
        'body.x',
      ],
      ['post', 'versions/0.1/env-vars', { name: '1ABC', value: 'x' }, 'body.name'],
      ['post', 'versions/0.1/env-vars', { name: 'A-B', value: 'x' }, 'body.name'],
      ['post', 'versions/0.1/env-vars', { name: 'LONG', value: 'x'.repeat(50_001) }, 'body.value'],
      ['post', 'versions/0.1/env-vars', { name: 'NO_VALUE' }, 'body.value'],
      ['post', 'versions/0.1/env-vars', { name: 'API_KEY', value: 'again' }, 'body.name'],
      ['put', 'versions/0.1', { sourceType: 'GIT_REPO' }, 'body.gitRepoUrl'],
      ['put', 'versions/0.1', { gitRepoUrl: PLAIN }, 'body.gitRepoUrl'],
      ['put', 'versions/0.1', { envVars: [{ name: 'NEW' }] }, 'body.envVars.0.value'],
      ['put', 'versions/0.1/env-vars/START_URL', { name: 'API_KEY' }, 'body.name'],
      ['get', 'versions/abc', undefined, 'versionNumber'],
      ['get', 'versions/0.1/env-vars/bad-name', undefined, 'envVarName'],
    ] as const)(
      '%s …/%s → 400 naming the field (case %#), nothing changed',
      async (method, path, body, field) => {
        const before = (await t.http().get(`/v2/acts/${actorId}/versions`).set(alice.auth).expect(200)).body;
        const http = t.http();
        const res = await http[method](`/v2/acts/${actorId}/${path}`).set(alice.auth).send(body).expect(400);
        expect(res.body.error.type).toBe('invalid-input');
        expect(res.body.error.message).toContain(field);
        const after = (await t.http().get(`/v2/acts/${actorId}/versions`).set(alice.auth).expect(200)).body;
        expect(after).toEqual(before);
      },
    );

    it('refuses a duplicate version (409) and more than 100 variables in a version', async () => {
      const owner = client(alice.accessToken).actor(actorId);
      await expect(
        owner.versions().create({ versionNumber: '0.1', sourceType: 'TARBALL', tarballUrl: PLAIN } as never),
      ).rejects.toMatchObject({ statusCode: 409, type: 'conflict' });
      const full = Array.from({ length: 100 }, (_, i) => ({ name: `VAR_${i}`, value: String(i) }));
      await owner
        .versions()
        .create({ versionNumber: '5.0', sourceType: 'TARBALL', tarballUrl: PLAIN, envVars: full } as never);
      const over = await t
        .http()
        .post(`/v2/acts/${actorId}/versions/5.0/env-vars`)
        .set(alice.auth)
        .send({ name: 'ONE_MORE', value: 'x' })
        .expect(400);
      expect(over.body.error.message).toContain('at most 100');
      const tooMany = await t
        .http()
        .post(`/v2/acts/${actorId}/versions`)
        .set(alice.auth)
        .send({
          versionNumber: '6.0',
          sourceType: 'TARBALL',
          tarballUrl: PLAIN,
          envVars: [...full, { name: 'X', value: 'y' }],
        })
        .expect(400);
      expect(tooMany.body.error.message).toContain('body.envVars');
      expect(await owner.version('6.0').get()).toBeUndefined();
      await owner.version('5.0').delete();
    });
  });

  describe('builds with apify-client', () => {
    it('ActorClient.build, BuildClient.get/waitForFinish/log/abort/delete, status set by its builder', async () => {
      const owner = client(alice.accessToken);
      const build = await owner.actor(actorId).build('0.1', { tag: 'beta', useCache: false });
      expect(build).toMatchObject({
        actId: actorId,
        status: 'READY',
        buildNumber: expect.stringMatching(/^0\.1\.\d+$/),
      });
      // The input schema of its source files, as Apify's (deprecated, still served) field.
      expect(JSON.parse(build.inputSchema as string)).toEqual(INPUT_SCHEMA);
      expect(build.actorDefinition).toMatchObject({ name: 'scraper', input: INPUT_SCHEMA });

      // waitForFinish polls until whoever builds it reports a terminal status.
      setTimeout(() => void finishBuild(build.id, 'SUCCEEDED'), 400);
      const started = Date.now();
      const finished = await owner.build(build.id).waitForFinish({ waitSecs: 20 });
      expect(finished.status).toBe('SUCCEEDED');
      expect(finished.finishedAt).toBeInstanceOf(Date);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await owner.actor(actorId).get())?.taggedBuilds?.beta?.buildId).toBe(build.id);

      const log = await owner.build(build.id).log().get();
      expect(log).toContain(`Build ${build.buildNumber} created (status READY)`);
      expect(log).toContain('Status changed from RUNNING to SUCCEEDED');
      // A finished build stays finished; a reader may not move one.
      const backwards = await t
        .http()
        .put(`/v2/actor-builds/${build.id}`)
        .set(alice.auth)
        .send({ status: 'RUNNING' })
        .expect(409);
      expect(backwards.body.error.type).toBe('conflict');
      await t.http().put(`/v2/actor-builds/${build.id}`).set(alice.auth).send({ status: 'DONE' }).expect(400);

      const other = await owner.actor(actorId).build('0.1');
      expect((await owner.build(other.id).abort()).status).toBe('ABORTED');
      expect((await owner.build(other.id).waitForFinish()).status).toBe('ABORTED');
      expect(await owner.build(other.id).log().get()).toContain('Status changed from READY to ABORTED');
      await owner.build(other.id).delete();
      expect(await owner.build(other.id).get()).toBeUndefined();
      expect(await owner.build(other.id).log().get()).toBeUndefined();

      // Waiting on the API side answers an unfinished build as it is when the wait ends.
      const pending = await owner.actor(actorId).build('0.1', { waitForFinish: 1 });
      expect(pending.status).toBe('READY');
      await owner.build(pending.id).delete();
    });

    it('ActorClient.defaultBuild and validateInput against the default build input schema', async () => {
      const owner = client(alice.accessToken);
      const fresh = await owner.actors().create({
        name: uniqueName('unbuilt'),
        versions: [{ versionNumber: '0.0', sourceType: 'SOURCE_FILES', sourceFiles: SOURCE_FILES }] as never,
      });
      // No build yet: no default build, and nothing to validate against.
      await expect(owner.actor(fresh.id).defaultBuild()).rejects.toMatchObject({ statusCode: 404 });
      expect(await owner.actor(fresh.id).validateInput({ anything: true })).toBe(true);
      await expect(owner.actor(fresh.id).validateInput({}, { build: 'beta' })).rejects.toMatchObject({
        statusCode: 404,
      });

      const build = await owner.actor(fresh.id).build('0.0');
      await finishBuild(build.id, 'SUCCEEDED');
      const defaultBuild = await owner.actor(fresh.id).defaultBuild();
      expect((await defaultBuild.get())?.id).toBe(build.id);
      // A reader of the Actor with no right to read its build: 404, as the build's own GET.
      await t.http().get(`/v2/acts/${fresh.id}/builds/default`).set(carol.auth).expect(404);

      const actor = owner.actor(fresh.id);
      expect(await actor.validateInput({ url: 'https://example.com' })).toBe(true);
      expect(await actor.validateInput({ url: 'https://example.com', maxPages: 5, mode: 'fast' })).toBe(true);
      expect(await actor.validateInput({ url: 'https://example.com' }, { build: build.buildNumber })).toBe(
        true,
      );
      for (const [input, field] of [
        [{}, 'input.url'],
        [{ url: 'ftp://x' }, 'input.url'],
        [{ url: 'https://x', maxPages: 0 }, 'input.maxPages'],
        [{ url: 'https://x', maxPages: 1.5 }, 'input.maxPages'],
        [{ url: 'https://x', mode: 'slow' }, 'input.mode'],
        [[1, 2], 'input'],
      ] as const) {
        const err = await actor.validateInput(input).catch((e: unknown) => e);
        expect(err).toMatchObject({ statusCode: 400, type: 'invalid-input' });
        expect((err as Error).message).toContain(field);
      }
      // Apify's answer has no `data` envelope.
      const res = await t
        .http()
        .post(`/v2/acts/${fresh.id}/validate-input`)
        .set(alice.auth)
        .send({ url: 'https://example.com' })
        .expect(200);
      expect(res.body).toEqual({ valid: true });
    });

    it('BuildClient.getOpenApiDefinition: running the Actor with the build input schema', async () => {
      const owner = client(alice.accessToken);
      const build = await owner.actor(actorId).build('0.1');
      const doc = (await owner.build(build.id).getOpenApiDefinition()) as unknown as {
        openapi: string;
        info: { version: string; 'x-build-id': string };
        servers: { url: string }[];
        paths: Record<string, { post: { requestBody: unknown } }>;
        components: {
          schemas: {
            inputSchema: { properties: Record<string, Record<string, unknown>>; required: string[] };
          };
        };
      };
      expect(doc.openapi).toBe('3.0.1');
      expect(doc.info).toMatchObject({ version: '0.1', 'x-build-id': build.id });
      expect(doc.servers).toEqual([{ url: `${baseUrl}/v2` }]);
      expect(Object.keys(doc.paths)).toEqual([`/acts/${actorId}/runs`]);
      const input = doc.components.schemas.inputSchema;
      expect(input.required).toEqual(['url']);
      expect(input.properties.maxPages).toEqual({
        title: 'Max pages',
        type: 'integer',
        minimum: 1,
        maximum: 100,
        default: 10,
      });
      expect(input.properties.url.editor).toBeUndefined();
      // A build without an input schema accepts any object.
      const plain = await owner.actors().create({ name: uniqueName('plain') });
      const plainBuild = await owner.actor(plain.id).build('0.0');
      const plainDoc = (await owner.build(plainBuild.id).getOpenApiDefinition()) as unknown as {
        components: { schemas: { inputSchema: unknown } };
      };
      expect(plainDoc.components.schemas.inputSchema).toEqual({ type: 'object' });
      await t.http().get(`/v2/actor-builds/${build.id}/openapi.json`).set(carol.auth).expect(404);
      await t.http().get(`/v2/actor-builds/${build.id}/log`).set(carol.auth).expect(404);
    });
  });
});
