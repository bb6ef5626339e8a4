import { ApifyClient } from 'apify-client';
import { SignedUpUser, signUpEach, startTestStack, TestStack } from './test-stack';

/**
 * Actors, builds, tasks and schedules end to end: the official apify-client unchanged against
 * the gateway on a real port, and supertest for sharing, errors and the public-Actor rules.
 */
describe('Actors, builds, tasks and schedules', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let baseUrl: string;
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });

  beforeAll(async () => {
    t = await startTestStack();
    await t.stack.gateway.listen(0, '127.0.0.1');
    baseUrl = await t.stack.gateway.getUrl();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
  });
  afterAll(() => t.close());

  const createActor = async (owner: SignedUpUser, body: Record<string, unknown>) =>
    (await t.http().post('/v2/acts').set(owner.auth).send(body).expect(201)).body.data as {
      id: string;
      name: string;
    };
  const grant = async (collection: string, id: string, permissions: string[], to = bob) =>
    (
      await t
        .http()
        .post(`/v2/${collection}/${id}/access/grants`)
        .set(alice.auth)
        .send({ user: to.username, permissions })
        .expect(201)
    ).body.data as { id: string };
  const setAccountAccess = (user: SignedUpUser, generalResourceAccess: string) =>
    t.http().put('/v2/users/me/settings').set(user.auth).send({ generalResourceAccess }).expect(200);

  describe('with apify-client', () => {
    it('creates, gets (by id and username/name), updates, lists and deletes an Actor', async () => {
      const owner = client(alice.accessToken);
      const actor = await owner.actors().create({
        name: 'sdk-actor',
        title: 'SDK Actor',
        defaultRunOptions: { build: 'latest', timeoutSecs: 120, memoryMbytes: 512 },
        versions: [
          {
            versionNumber: '0.1',
            sourceType: 'SOURCE_FILES',
            buildTag: 'latest',
            sourceFiles: [{ name: 'main.js', format: 'TEXT', content: 'console.log("hi")' }],
            envVars: [{ name: 'TOKEN', value: 's3cret', isSecret: true }],
          },
        ] as never,
      });
      expect(actor).toMatchObject({
        name: 'sdk-actor',
        username: alice.username,
        userId: alice.id,
        title: 'SDK Actor',
        isPublic: false,
        defaultRunOptions: { build: 'latest', timeoutSecs: 120, memoryMbytes: 512 },
      });
      expect(actor.createdAt).toBeInstanceOf(Date);
      // Its writer sees a secret's value; a reader never does (apify-client-actor-versions.e2e-spec.ts).
      expect(actor.versions?.[0]?.envVars).toEqual([{ name: 'TOKEN', value: 's3cret', isSecret: true }]);

      expect((await owner.actor(actor.id).get())?.id).toBe(actor.id);
      // apify-client turns `username/name` into `username~name`.
      expect((await owner.actor(`${alice.username}/sdk-actor`).get())?.id).toBe(actor.id);

      const updated = await owner
        .actor(actor.id)
        .update({ description: 'Says hi', defaultRunOptions: { memoryMbytes: 1024 } as never });
      expect(updated).toMatchObject({
        description: 'Says hi',
        defaultRunOptions: { timeoutSecs: 120, memoryMbytes: 1024 },
      });
      expect(updated.modifiedAt.getTime()).toBeGreaterThanOrEqual(actor.modifiedAt.getTime());

      const mine = await owner.actors().list({ my: true, desc: true });
      expect(mine.items.map((a) => a.id)).toContain(actor.id);
      expect(mine.items.find((a) => a.id === actor.id)).toMatchObject({
        name: 'sdk-actor',
        username: alice.username,
      });
      expect((await owner.actors().list()).total).toBe(mine.total);

      await owner.actor(actor.id).delete();
      expect(await owner.actor(actor.id).get()).toBeUndefined();
      // Deleting again is not an error for apify-client (404 is swallowed).
      await owner.actor(actor.id).delete();
    });

    it('creates a build, reads it, lists and aborts it', async () => {
      const owner = client(alice.accessToken);
      const actor = await owner.actors().create({
        name: 'sdk-built',
        versions: [
          { versionNumber: '0.2', sourceType: 'GIT_REPO', gitRepoUrl: 'https://git.example/r.git' },
        ] as never,
      });
      const build = await owner.actor(actor.id).build('0.2', { useCache: true });
      expect(build).toMatchObject({
        actId: actor.id,
        userId: alice.id,
        buildNumber: '0.2.1',
        status: 'READY',
      });
      expect(build.startedAt).toBeInstanceOf(Date);
      expect(build.meta.origin).toBe('API');

      expect((await owner.build(build.id).get())?.buildNumber).toBe('0.2.1');
      const second = await owner.actor(actor.id).build('0.2');
      expect(second.buildNumber).toBe('0.2.2');
      const listed = await owner.actor(actor.id).builds().list({ desc: true });
      expect(listed).toMatchObject({ total: 2, count: 2 });
      expect(listed.items.map((b) => b.id)).toEqual([second.id, build.id]);
      expect((await owner.builds().list()).items.map((b) => b.id)).toEqual(
        expect.arrayContaining([build.id, second.id]),
      );

      const aborted = await owner.build(build.id).abort();
      expect(aborted.status).toBe('ABORTED');
      expect(aborted.finishedAt).toBeInstanceOf(Date);
      // apify-client asks with waitForFinish=999999 until the build has finished.
      expect((await owner.build(build.id).waitForFinish()).status).toBe('ABORTED');
      expect((await owner.actor(actor.id).get())?.stats).toMatchObject({ totalBuilds: 2 });

      await expect(owner.actor(actor.id).build('9.9')).rejects.toMatchObject({
        statusCode: 400,
        type: 'invalid-input',
      });
    });

    it('creates, reads, updates and deletes a task', async () => {
      const owner = client(alice.accessToken);
      const actor = await owner.actors().create({ name: 'sdk-tasked' });
      const task = await owner.tasks().create({
        actId: actor.id,
        name: 'sdk-task',
        input: { url: 'https://example.com' },
        options: { memoryMbytes: 256 },
      });
      expect(task).toMatchObject({
        actId: actor.id,
        userId: alice.id,
        username: alice.username,
        name: 'sdk-task',
        input: { url: 'https://example.com' },
        options: { memoryMbytes: 256 },
      });
      expect((await owner.task(task.id).get())?.name).toBe('sdk-task');
      expect((await owner.task(`${alice.username}/sdk-task`).get())?.id).toBe(task.id);

      const updated = await owner.task(task.id).update({ title: 'Daily', options: { timeoutSecs: 60 } });
      expect(updated).toMatchObject({ title: 'Daily', options: { memoryMbytes: 256, timeoutSecs: 60 } });
      expect(await owner.task(task.id).getInput()).toEqual({ url: 'https://example.com' });
      expect(await owner.task(task.id).updateInput({ url: 'https://example.org' })).toEqual({
        url: 'https://example.org',
      });
      expect((await owner.task(task.id).get())?.input).toEqual({ url: 'https://example.org' });

      // By `username/name` too, as Apify accepts.
      const byName = await owner.tasks().create({ actId: `${alice.username}/sdk-tasked`, name: 'by-name' });
      expect(byName.actId).toBe(actor.id);
      expect((await owner.tasks().list()).items.map((x) => x.id)).toEqual(
        expect.arrayContaining([task.id, byName.id]),
      );

      await owner.task(task.id).delete();
      expect(await owner.task(task.id).get()).toBeUndefined();
    });

    it('creates, reads, updates and deletes a schedule', async () => {
      const owner = client(alice.accessToken);
      const actor = await owner.actors().create({ name: 'sdk-scheduled' });
      const task = await owner.tasks().create({ actId: actor.id, name: 'sdk-scheduled-task' });
      const schedule = await owner.schedules().create({
        name: 'sdk-schedule',
        cronExpression: '0 8 * * MON-FRI',
        timezone: 'Europe/Prague' as never,
        isEnabled: true,
        isExclusive: false,
        actions: [
          { type: 'RUN_ACTOR', actorId: actor.id },
          { type: 'RUN_ACTOR_TASK', actorTaskId: task.id },
        ] as never,
      });
      expect(schedule).toMatchObject({
        name: 'sdk-schedule',
        userId: alice.id,
        cronExpression: '0 8 * * MON-FRI',
        timezone: 'Europe/Prague',
        isEnabled: true,
        isExclusive: false,
        actions: [
          { type: 'RUN_ACTOR', actorId: actor.id },
          { type: 'RUN_ACTOR_TASK', actorTaskId: task.id },
        ],
      });
      expect(schedule.createdAt).toBeInstanceOf(Date);
      expect((await owner.schedule(schedule.id).get())?.id).toBe(schedule.id);

      const updated = await owner
        .schedule(schedule.id)
        .update({ isEnabled: false, cronExpression: '@daily' });
      expect(updated).toMatchObject({ isEnabled: false, cronExpression: '@daily', name: 'sdk-schedule' });
      expect(updated.actions).toHaveLength(2);
      expect((await owner.schedules().list()).items.map((s) => s.id)).toContain(schedule.id);
      expect(await owner.schedule(schedule.id).getLog()).toEqual([]);

      await expect(
        owner.schedule(schedule.id).update({ cronExpression: '* * * * * * *' }),
      ).rejects.toMatchObject({
        statusCode: 400,
        type: 'invalid-input',
      });
      await owner.schedule(schedule.id).delete();
      expect(await owner.schedule(schedule.id).get()).toBeUndefined();
    });
  });

  describe('access', () => {
    let actorId: string;

    beforeAll(async () => {
      await setAccountAccess(alice, 'RESTRICTED');
      actorId = (await createActor(alice, { name: 'private-actor' })).id;
    });

    it('hides a private Actor from others (404), with unknown ids answered the same way', async () => {
      const hidden = await t.http().get(`/v2/acts/${actorId}`).set(bob.auth).expect(404);
      const unknown = await t.http().get('/v2/acts/AAAAAAAAAAAAAAAAA').set(bob.auth).expect(404);
      expect(hidden.body).toEqual(unknown.body);
      expect(hidden.body.error.type).toBe('record-not-found');
      const byName = await t.http().get(`/v2/acts/${alice.username}~private-actor`).set(bob.auth).expect(404);
      expect(byName.body).toEqual(unknown.body);
      await t.http().get(`/v2/acts/${actorId}`).expect(404);
      await t.http().put(`/v2/acts/${actorId}`).set(bob.auth).send({ title: 'x' }).expect(404);
      await t.http().delete(`/v2/acts/${actorId}`).set(bob.auth).expect(404);
      await t.http().post(`/v2/acts/${actorId}/builds`).set(bob.auth).expect(404);
      await t.http().get(`/v2/acts/${actorId}/builds`).set(bob.auth).expect(404);
      await t.http().get(`/v2/acts/${actorId}/access`).set(bob.auth).expect(404);
      expect(await client(bob.accessToken).actor(actorId).get()).toBeUndefined();
      for (const path of ['/v2/actor-tasks/', '/v2/schedules/', '/v2/actor-builds/']) {
        expect((await t.http().get(`${path}AAAAAAAAAAAAAAAAA`).set(bob.auth).expect(404)).body).toEqual(
          unknown.body,
        );
      }
    });

    it('grants READ on an Actor: readable (and usable for a task), but not writable (403)', async () => {
      const readGrant = await grant('acts', actorId, ['READ']);
      const read = await t.http().get(`/v2/acts/${actorId}`).set(bob.auth).expect(200);
      expect(read.body.data).toMatchObject({ id: actorId, username: alice.username });
      const denied = await t
        .http()
        .put(`/v2/acts/${actorId}`)
        .set(bob.auth)
        .send({ title: 'mine now' })
        .expect(403);
      expect(denied.body.error.type).toBe('insufficient-permissions');
      await t.http().delete(`/v2/acts/${actorId}`).set(bob.auth).expect(403);
      await t.http().post(`/v2/acts/${actorId}/builds`).set(bob.auth).expect(403);
      await t.http().get(`/v2/acts/${actorId}/access`).set(bob.auth).expect(403);
      await expect(client(bob.accessToken).actor(actorId).update({ title: 'x' })).rejects.toMatchObject({
        statusCode: 403,
      });

      const shared = await t.http().get('/v2/acts?ownership=sharedWithMe').set(bob.auth).expect(200);
      expect(shared.body.data).toMatchObject({ total: 1, count: 1 });
      expect(shared.body.data.items[0]).toMatchObject({ id: actorId, username: alice.username });
      const own = await t.http().get('/v2/acts').set(bob.auth).expect(200);
      expect(own.body.data.items.map((a: { id: string }) => a.id)).not.toContain(actorId);

      const task = await t
        .http()
        .post('/v2/actor-tasks')
        .set(bob.auth)
        .send({ actId: actorId, name: 'bobs-task' })
        .expect(201);
      expect(task.body.data).toMatchObject({ userId: bob.id, actId: actorId, username: bob.username });

      // The grant is visible to the owner through the Apify path apify-client uses as well.
      const access = await t.http().get(`/v2/actors/${actorId}/access`).set(alice.auth).expect(200);
      expect(access.body.data.grants).toEqual([
        expect.objectContaining({ userId: bob.id, permissions: ['READ'] }),
      ]);

      await t.http().delete(`/v2/acts/${actorId}/access/grants/${readGrant.id}`).set(alice.auth).expect(204);
      await t.http().get(`/v2/acts/${actorId}`).set(bob.auth).expect(404);
      // Without READ on the Actor, no new task of it.
      const refused = await t
        .http()
        .post('/v2/actor-tasks')
        .set(bob.auth)
        .send({ actId: actorId, name: 'another' })
        .expect(404);
      expect(refused.body.error.message).toContain('body.actId');
    });

    it("grants BUILD and RUN on an Actor: the grantee builds, the build is the owner's", async () => {
      const g = await grant('acts', actorId, ['BUILD', 'RUN']);
      const build = await t
        .http()
        .post(`/v2/acts/${actorId}/builds?version=0.0`)
        .set(bob.auth)
        .set('user-agent', 'bob-cli/1.0')
        .expect(201);
      expect(build.body.data).toMatchObject({ actId: actorId, userId: alice.id, status: 'READY' });
      // BUILD implies READ on the Actor, not WRITE.
      await t.http().put(`/v2/acts/${actorId}`).set(bob.auth).send({ title: 'x' }).expect(403);
      // The Actor's builds list shows each build as its own GET would: this one is not shared
      // (alice's account is RESTRICTED and the Actor is private), so bob's list leaves it out.
      const builds = await t.http().get(`/v2/acts/${actorId}/builds`).set(bob.auth).expect(200);
      expect(builds.body.data.items.map((b: { id: string }) => b.id)).not.toContain(build.body.data.id);
      const ownerView = await t.http().get(`/v2/acts/${actorId}/builds`).set(alice.auth).expect(200);
      expect(ownerView.body.data.items[0].meta).toMatchObject({
        origin: 'API',
        userAgent: 'bob-cli/1.0',
        clientIp: '127.0.0.1',
      });
      // The build itself is not shared: alice's account is RESTRICTED and the Actor is private.
      await t.http().get(`/v2/actor-builds/${build.body.data.id}`).set(bob.auth).expect(404);
      await t.http().post(`/v2/actor-builds/${build.body.data.id}/abort`).set(bob.auth).expect(404);
      await t
        .http()
        .put(`/v2/acts/${actorId}/access/grants/${g.id}`)
        .set(alice.auth)
        .send({ permissions: ['RUN'] })
        .expect(200);
      await t.http().post(`/v2/acts/${actorId}/builds`).set(bob.auth).expect(403);
      await t.http().delete(`/v2/acts/${actorId}/access/grants/${g.id}`).set(alice.auth).expect(204);
    });

    it('gives builds general access through the owner account setting (link sharing)', async () => {
      const build = await t.http().post(`/v2/acts/${actorId}/builds`).set(alice.auth).expect(201);
      const buildId = build.body.data.id;
      await t.http().get(`/v2/actor-builds/${buildId}`).set(bob.auth).expect(404);
      await setAccountAccess(alice, 'ANYONE_WITH_ID_CAN_READ');
      const read = await t.http().get(`/v2/actor-builds/${buildId}`).set(bob.auth).expect(200);
      expect(read.body.data.meta).toEqual({ origin: 'API' });
      await t.http().post(`/v2/actor-builds/${buildId}/abort`).set(bob.auth).expect(403);
      // The Actor itself is never shared by link.
      await t.http().get(`/v2/acts/${actorId}`).set(bob.auth).expect(404);
      await setAccountAccess(alice, 'RESTRICTED');
      await t.http().get(`/v2/actor-builds/${buildId}`).set(bob.auth).expect(404);
      const owned = await t.http().post(`/v2/actor-builds/${buildId}/abort`).set(alice.auth).expect(200);
      expect(owned.body.data.status).toBe('ABORTED');
      await t.http().delete(`/v2/actor-builds/${buildId}`).set(alice.auth).expect(204);
      await t.http().get(`/v2/actor-builds/${buildId}`).set(alice.auth).expect(404);
    });

    it('shares tasks and schedules by grant, each with its own permissions', async () => {
      const task = await t
        .http()
        .post('/v2/actor-tasks')
        .set(alice.auth)
        .send({ actId: actorId, name: 'alices-task', input: { a: 1 } })
        .expect(201);
      const taskId = task.body.data.id;
      const schedule = await t
        .http()
        .post('/v2/schedules')
        .set(alice.auth)
        .send({
          name: 'alices-schedule',
          cronExpression: '@hourly',
          actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: taskId }],
        })
        .expect(201);
      const scheduleId = schedule.body.data.id;

      await t.http().get(`/v2/actor-tasks/${taskId}`).set(bob.auth).expect(404);
      await t.http().get(`/v2/actor-tasks/${taskId}/input`).set(bob.auth).expect(404);
      await t.http().get(`/v2/schedules/${scheduleId}`).set(bob.auth).expect(404);

      await grant('actor-tasks', taskId, ['READ']);
      expect((await t.http().get(`/v2/actor-tasks/${taskId}/input`).set(bob.auth).expect(200)).body).toEqual({
        a: 1,
      });
      await t.http().put(`/v2/actor-tasks/${taskId}`).set(bob.auth).send({ title: 'x' }).expect(403);
      await t.http().put(`/v2/actor-tasks/${taskId}/input`).set(bob.auth).send({ a: 2 }).expect(403);
      await t.http().delete(`/v2/actor-tasks/${taskId}`).set(bob.auth).expect(403);
      const sharedTasks = await t
        .http()
        .get('/v2/actor-tasks?ownership=sharedWithMe')
        .set(bob.auth)
        .expect(200);
      expect(sharedTasks.body.data.items.map((x: { id: string }) => x.id)).toEqual([taskId]);

      await grant('schedules', scheduleId, ['READ']);
      await t.http().get(`/v2/schedules/${scheduleId}`).set(bob.auth).expect(200);
      await t.http().put(`/v2/schedules/${scheduleId}`).set(bob.auth).send({ isEnabled: false }).expect(403);
      await t.http().delete(`/v2/schedules/${scheduleId}`).set(bob.auth).expect(403);
      const sharedSchedules = await t
        .http()
        .get('/v2/schedules?ownership=sharedWithMe')
        .set(bob.auth)
        .expect(200);
      expect(sharedSchedules.body.data).toMatchObject({ total: 1 });

      // Bob may read the task but not run it (its Actor is hidden from him): he schedules neither.
      const unrunnable = await t
        .http()
        .post('/v2/schedules')
        .set(bob.auth)
        .send({
          name: 'bobs-schedule',
          cronExpression: '* * * * *',
          actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: taskId }],
        })
        .expect(404);
      expect(unrunnable.body.error.message).toContain('body.actions.0.actorTaskId');
      const hidden = await t
        .http()
        .post('/v2/schedules')
        .set(bob.auth)
        .send({ name: 'bobs-other', cronExpression: '* * * * *', actions: [{ type: 'RUN_ACTOR', actorId }] })
        .expect(404);
      expect(hidden.body.error.message).toContain('body.actions.0.actorId');
    });

    it('needs a signed-in caller to create or list', async () => {
      await t.http().post('/v2/acts').send({ name: 'anon' }).expect(401);
      await t.http().get('/v2/acts').expect(401);
      await t.http().post('/v2/actor-tasks').send({ actId: actorId, name: 'anon' }).expect(401);
      await t.http().post('/v2/schedules').send({ name: 'anon', cronExpression: '@daily' }).expect(401);
      await t.http().get('/v2/actor-builds').expect(401);
    });
  });

  describe('bad input', () => {
    it.each([
      ['/v2/acts', {}, 'body.name'],
      ['/v2/acts', { name: 'has space' }, 'body.name'],
      [
        '/v2/acts',
        { name: 'ok', defaultRunOptions: { memoryMbytes: 1000 } },
        'body.defaultRunOptions.memoryMbytes',
      ],
      [
        '/v2/acts',
        { name: 'ok', versions: [{ versionNumber: 'one', sourceType: 'GIT_REPO' }] },
        'body.versions.0.versionNumber',
      ],
      ['/v2/acts', { name: 'ok', surprise: true }, 'body.surprise'],
      ['/v2/actor-tasks', { name: 'ok' }, 'body.actId'],
      ['/v2/actor-tasks', { actId: 'a/b/c', name: 'ok' }, 'body.actId'],
      ['/v2/actor-tasks', { actId: 'AAAAAAAAAAAAAAAAA', name: 'ok', input: 'text' }, 'body.input'],
      ['/v2/schedules', { name: 'ok', cronExpression: '99 * * * *' }, 'body.cronExpression'],
      [
        '/v2/schedules',
        { name: 'ok', cronExpression: '@daily', timezone: 'Nowhere/Special' },
        'body.timezone',
      ],
      [
        '/v2/schedules',
        { name: 'ok', cronExpression: '@daily', actions: [{ type: 'RUN_ACTOR' }] },
        'body.actions.0.actorId',
      ],
    ])('POST %s %j → 400 naming %s', async (path, body, field) => {
      const res = await t.http().post(path).set(alice.auth).send(body).expect(400);
      expect(res.body.error.type).toBe('invalid-input');
      expect(res.body.error.message).toContain(field);
    });

    it('answers 409 on a taken name, 400 on a bad build version, 403 on publishing without MANAGE_ACCESS', async () => {
      const actor = await createActor(alice, { name: 'taken' });
      const dup = await t.http().post('/v2/acts').set(alice.auth).send({ name: 'taken' }).expect(409);
      expect(dup.body.error.message).toContain('taken');
      await t.http().put(`/v2/acts/${actor.id}`).set(alice.auth).send({ name: 'private-actor' }).expect(409);
      const version = await t
        .http()
        .post(`/v2/acts/${actor.id}/builds?version=latest`)
        .set(alice.auth)
        .expect(400);
      expect(version.body.error.message).toContain('query.version');
      await t.http().put(`/v2/acts/${actor.id}`).set(alice.auth).send({ isPublic: 'yes' }).expect(400);

      await grant('acts', actor.id, ['WRITE']);
      await t.http().put(`/v2/acts/${actor.id}`).set(bob.auth).send({ title: 'Edited by Bob' }).expect(200);
      const publish = await t
        .http()
        .put(`/v2/acts/${actor.id}`)
        .set(bob.auth)
        .send({ isPublic: true })
        .expect(403);
      expect(publish.body.error.message).toContain('MANAGE_ACCESS');
    });
  });

  /**
   * DESIGN.md rule 5: "public Actors are readable by all and runnable by any signed-in user" and
   * "builds of a public Actor are readable by anyone who can view the Actor". These rules belong to
   * the decision engine (the lead's); these tests pass once it applies them.
   */
  describe('public Actors (decision-engine rules)', () => {
    let actorId: string;
    let buildId: string;

    beforeAll(async () => {
      await setAccountAccess(alice, 'RESTRICTED');
      actorId = (await createActor(alice, { name: 'public-actor' })).id;
      buildId = (await t.http().post(`/v2/acts/${actorId}/builds`).set(alice.auth).expect(201)).body.data.id;
      const published = await t
        .http()
        .put(`/v2/acts/${actorId}`)
        .set(alice.auth)
        .send({ isPublic: true })
        .expect(200);
      expect(published.body.data.isPublic).toBe(true);
    });

    it('is readable by anyone, by id and by username~name, but writable by its owner only', async () => {
      const anonymous = await t.http().get(`/v2/acts/${actorId}`).expect(200);
      expect(anonymous.body.data).toMatchObject({ id: actorId, isPublic: true, username: alice.username });
      expect((await client().actor(`${alice.username}/public-actor`).get())?.id).toBe(actorId);
      await t.http().get(`/v2/acts/${actorId}`).set(bob.auth).expect(200);
      await t.http().put(`/v2/acts/${actorId}`).set(bob.auth).send({ title: 'x' }).expect(403);
      await t.http().put(`/v2/acts/${actorId}`).send({ title: 'x' }).expect(401);
      await t.http().post(`/v2/acts/${actorId}/builds`).set(bob.auth).expect(403);
    });

    it('lets any signed-in user base a task on it', async () => {
      const task = await t
        .http()
        .post('/v2/actor-tasks')
        .set(bob.auth)
        .send({ actId: `${alice.username}/public-actor`, name: 'on-public' })
        .expect(201);
      expect(task.body.data.actId).toBe(actorId);
      // The task is Bob's: Alice cannot read it.
      await t.http().get(`/v2/actor-tasks/${task.body.data.id}`).set(alice.auth).expect(404);
    });

    it("makes its builds readable by anyone who can view it, whatever the owner's general access", async () => {
      const build = await t.http().get(`/v2/actor-builds/${buildId}`).expect(200);
      expect(build.body.data).toMatchObject({ id: buildId, actId: actorId, meta: { origin: 'API' } });
      expect((await client().build(buildId).get())?.id).toBe(buildId);
      expect((await client(bob.accessToken).actor(actorId).builds().list()).items.map((b) => b.id)).toContain(
        buildId,
      );
      await t.http().post(`/v2/actor-builds/${buildId}/abort`).set(bob.auth).expect(403);
    });

    it('hides the Actor and its builds again once unpublished', async () => {
      await t.http().put(`/v2/acts/${actorId}`).set(alice.auth).send({ isPublic: false }).expect(200);
      await t.http().get(`/v2/acts/${actorId}`).expect(404);
      await t.http().get(`/v2/acts/${actorId}`).set(bob.auth).expect(404);
      await t.http().get(`/v2/actor-builds/${buildId}`).expect(404);
      await t.http().get(`/v2/actor-builds/${buildId}`).set(bob.auth).expect(404);
      await t.http().get(`/v2/actor-builds/${buildId}`).set(alice.auth).expect(200);
    });
  });
});
