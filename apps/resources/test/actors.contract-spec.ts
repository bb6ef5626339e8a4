import {
  ActorsRpc,
  ActorTasksRpc,
  EventEnvelope,
  Events,
  ResourcesRpc,
  SchedulesRpc,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import {
  ContractHarness,
  eventually,
  expectAppError,
  recordEvents,
  startContractHarness,
  testServiceConfig,
} from '@atrium/testing';
import { ResourcesModule } from '../src/resources.module';

/** Actors, their builds, tasks and schedules over the resources service's queue. */
describe('resources message contract: Actors, builds, tasks, schedules (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const received: EventEnvelope[] = [];
  const owner = newId();
  const page = { offset: 0, limit: 100, desc: false };
  const meta = { origin: 'API' as const };

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) => ResourcesModule.forRoot(testServiceConfig(url)));
    await recordEvents(
      h,
      'actors',
      [Events.resourceCreated.name, Events.resourceUpdated.name, Events.resourceDeleted.name],
      received,
    );
  });
  afterAll(() => h.close());

  const createActor = (name: string, extra: Record<string, unknown> = {}, ownerId = owner) =>
    h.rpc.call(ActorsRpc.createActor, { ownerId, createdBy: ownerId, actor: { name, ...extra } });

  describe('Actors', () => {
    it('creates an Actor with Apify defaults and a catalogue row carrying isPublic', async () => {
      const actor = await createActor('scraper', {
        title: 'Scraper',
        isPublic: true,
        defaultRunOptions: { memoryMbytes: 1024 },
        versions: [
          {
            versionNumber: '0.1',
            sourceType: 'SOURCE_FILES',
            sourceFiles: [{ name: 'main.js', format: 'TEXT', content: 'console.log(1)' }],
            envVars: [
              { name: 'API_KEY', value: 'hidden', isSecret: true },
              { name: 'MODE', value: 'fast' },
            ],
          },
        ],
      });
      expect(actor).toMatchObject({
        name: 'scraper',
        userId: owner,
        title: 'Scraper',
        isPublic: true,
        defaultRunOptions: { build: 'latest', timeoutSecs: 3600, memoryMbytes: 1024, restartOnError: false },
        stats: { totalBuilds: 0 },
        taggedBuilds: {},
      });
      // Its creator may write it, so the create answers with the secret value; a plain get does not.
      expect(actor.versions?.[0]?.envVars).toEqual([
        { name: 'API_KEY', value: 'hidden', isSecret: true },
        { name: 'MODE', value: 'fast', isSecret: false },
      ]);
      expect((await h.rpc.call(ActorsRpc.getActor, { id: actor.id })).versions?.[0]?.envVars).toEqual([
        { name: 'API_KEY', isSecret: true },
        { name: 'MODE', value: 'fast', isSecret: false },
      ]);
      expect(await h.rpc.call(ResourcesRpc.getResourceFacts, { id: actor.id })).toMatchObject({
        type: 'ACTOR',
        ownerId: owner,
        name: 'scraper',
        isPublic: true,
        generalAccess: 'RESTRICTED',
        version: 1,
      });
      await eventually(async () =>
        expect(received).toContainEqual(
          expect.objectContaining({
            name: 'resource.created',
            payload: expect.objectContaining({ id: actor.id, isPublic: true }),
          }),
        ),
      );
    });

    it('refuses a duplicate name in the same account but not in another', async () => {
      await createActor('dup');
      await expectAppError(createActor('dup'), 'conflict');
      expect((await createActor('dup', {}, newId())).name).toBe('dup');
    });

    it.each([
      [{ ownerId: owner, createdBy: owner, actor: {} }, 'payload.actor.name'],
      [{ ownerId: owner, createdBy: owner, actor: { name: 'bad name' } }, 'payload.actor.name'],
      [
        { ownerId: owner, createdBy: owner, actor: { name: 'x', defaultRunOptions: { memoryMbytes: 1000 } } },
        'memoryMbytes',
      ],
      [
        { ownerId: owner, createdBy: owner, actor: { name: 'x', title: 'x'.repeat(201) } },
        'payload.actor.title',
      ],
      [
        {
          ownerId: owner,
          createdBy: owner,
          actor: { name: 'x', versions: [{ versionNumber: '1', sourceType: 'GIT_REPO' }] },
        },
        'versionNumber',
      ],
      [
        {
          ownerId: owner,
          createdBy: owner,
          actor: { name: 'x', versions: [{ versionNumber: '1.0', sourceType: 'GIT_REPO' }] },
        },
        'gitRepoUrl',
      ],
    ])('refuses an invalid create payload %#, naming the field', async (payload, field) => {
      const err = await expectAppError(h.rpc.call(ActorsRpc.createActor, payload as never), 'invalid-input');
      expect(err.message).toContain(field);
    });

    it('updates fields, merges defaultRunOptions, bumps the catalogue version only for name or isPublic', async () => {
      const actor = await createActor('updatable', { defaultRunOptions: { memoryMbytes: 512 } });
      const described = await h.rpc.call(ActorsRpc.updateActor, {
        id: actor.id,
        changes: { description: 'does things', defaultRunOptions: { timeoutSecs: 60 } },
      });
      expect(described).toMatchObject({
        description: 'does things',
        defaultRunOptions: { memoryMbytes: 512, timeoutSecs: 60 },
      });
      expect((await h.rpc.call(ResourcesRpc.getResourceFacts, { id: actor.id }))?.version).toBe(1);

      const published = await h.rpc.call(ActorsRpc.updateActor, {
        id: actor.id,
        changes: { name: 'renamed', isPublic: true },
      });
      expect(published).toMatchObject({ name: 'renamed', isPublic: true, description: 'does things' });
      expect(await h.rpc.call(ResourcesRpc.getResourceFacts, { id: actor.id })).toMatchObject({
        version: 2,
        isPublic: true,
      });
      await expectAppError(
        h.rpc.call(ActorsRpc.updateActor, { id: actor.id, changes: { name: 'scraper' } }),
        'conflict',
      );
      await expectAppError(
        h.rpc.call(ActorsRpc.updateActor, { id: newId(), changes: {} }),
        'record-not-found',
      );
      await expectAppError(
        h.rpc.call(ActorsRpc.updateActor, { id: actor.id, changes: { isPublic: 'yes' } } as never),
        'invalid-input',
      );
    });

    it('gets, lists by owner and by ids (in order, without versions), and 404s unknown ids', async () => {
      const other = newId();
      const a = await createActor(
        'one',
        { versions: [{ versionNumber: '0.0', sourceType: 'TARBALL', tarballUrl: 'https://x.test/a.tgz' }] },
        other,
      );
      const b = await createActor('two', {}, other);
      expect((await h.rpc.call(ActorsRpc.getActor, { id: a.id })).versions).toHaveLength(1);
      const listed = await h.rpc.call(ActorsRpc.listActors, {
        ownerId: other,
        page: { ...page, desc: true },
      });
      expect(listed).toMatchObject({ total: 2, count: 2 });
      expect(listed.items.map((x) => x.id)).toEqual([b.id, a.id]);
      expect(listed.items[0]?.versions).toBeUndefined();
      const byIds = await h.rpc.call(ActorsRpc.listActors, { ids: [a.id, b.id], page });
      expect(byIds.items.map((x) => x.id)).toEqual([a.id, b.id]);
      await expectAppError(h.rpc.call(ActorsRpc.getActor, { id: newId() }), 'record-not-found');
      await expectAppError(h.rpc.call(ActorsRpc.getActor, { id: 'short' }), 'invalid-input');
      await expectAppError(h.rpc.call(ActorsRpc.listActors, { page } as never), 'invalid-input');
      await expectAppError(
        h.rpc.call(ActorsRpc.listActors, { ownerId: other, ids: [a.id], page }),
        'invalid-input',
      );
    });

    it('deletes an Actor with its builds, publishing resource.deleted for each', async () => {
      const actor = await createActor('doomed');
      const build = await h.rpc.call(ActorsRpc.createBuild, {
        actorId: actor.id,
        options: {},
        meta,
        createdBy: owner,
      });
      expect(await h.rpc.call(ActorsRpc.deleteActor, { id: actor.id })).toEqual({ ok: true });
      await expectAppError(h.rpc.call(ActorsRpc.getActor, { id: actor.id }), 'record-not-found');
      await expectAppError(h.rpc.call(ActorsRpc.getBuild, { id: build.id }), 'record-not-found');
      await expectAppError(h.rpc.call(ActorsRpc.deleteActor, { id: actor.id }), 'record-not-found');
      await eventually(async () => {
        const deleted = received
          .filter((e) => e.name === 'resource.deleted')
          .map((e) => (e.payload as { id: string }).id);
        expect(deleted).toEqual(expect.arrayContaining([actor.id, build.id]));
      });
    });
  });

  describe('builds', () => {
    it('numbers builds per Actor, owned by the Actor owner with actorId in the catalogue', async () => {
      const starter = newId();
      const actor = await createActor('built', {
        versions: [
          { versionNumber: '0.1', sourceType: 'GIT_REPO', gitRepoUrl: 'https://git.test/r.git' },
          {
            versionNumber: '0.10',
            sourceType: 'GIT_REPO',
            gitRepoUrl: 'https://git.test/r.git',
            buildTag: 'beta',
          },
        ],
      });
      const first = await h.rpc.call(ActorsRpc.createBuild, {
        actorId: actor.id,
        options: { useCache: true },
        meta,
        createdBy: starter,
      });
      const second = await h.rpc.call(ActorsRpc.createBuild, {
        actorId: actor.id,
        version: '0.1',
        options: {},
        meta,
        createdBy: starter,
      });
      expect(first).toMatchObject({
        actId: actor.id,
        userId: owner,
        buildNumber: '0.10.1',
        status: 'READY',
        finishedAt: null,
        options: { useCache: true },
      });
      expect(second.buildNumber).toBe('0.1.2');
      expect(await h.rpc.call(ResourcesRpc.getResourceFacts, { id: first.id })).toMatchObject({
        type: 'ACTOR_BUILD',
        ownerId: owner,
        actorId: actor.id,
        generalAccess: 'FOLLOW_USER_SETTING',
      });
      expect((await h.rpc.call(ActorsRpc.getActor, { id: actor.id })).stats.totalBuilds).toBe(2);

      const err = await expectAppError(
        h.rpc.call(ActorsRpc.createBuild, {
          actorId: actor.id,
          version: '9.9',
          options: {},
          meta,
          createdBy: owner,
        }),
        'invalid-input',
      );
      expect(err.message).toContain('version');
      await expectAppError(
        h.rpc.call(ActorsRpc.createBuild, { actorId: newId(), options: {}, meta, createdBy: owner }),
        'record-not-found',
      );
      await expectAppError(
        h.rpc.call(ActorsRpc.createBuild, {
          actorId: actor.id,
          version: 'latest',
          options: {},
          meta,
          createdBy: owner,
        }),
        'invalid-input',
      );
    });

    it('moves status forward only, tags a succeeded build on its Actor, aborts unfinished ones', async () => {
      const actor = await createActor('lifecycle');
      const build = await h.rpc.call(ActorsRpc.createBuild, {
        actorId: actor.id,
        options: {},
        meta,
        createdBy: owner,
      });
      expect(build.buildNumber).toBe('0.0.1');
      expect(
        (await h.rpc.call(ActorsRpc.updateBuildStatus, { id: build.id, status: 'RUNNING' })).status,
      ).toBe('RUNNING');
      const done = await h.rpc.call(ActorsRpc.updateBuildStatus, { id: build.id, status: 'SUCCEEDED' });
      expect(done.finishedAt).not.toBeNull();
      expect((await h.rpc.call(ActorsRpc.getActor, { id: actor.id })).taggedBuilds).toEqual({
        latest: { buildId: build.id, buildNumber: '0.0.1', finishedAt: done.finishedAt },
      });
      await expectAppError(
        h.rpc.call(ActorsRpc.updateBuildStatus, { id: build.id, status: 'RUNNING' }),
        'conflict',
      );
      // Aborting a finished build changes nothing.
      expect((await h.rpc.call(ActorsRpc.abortBuild, { id: build.id })).status).toBe('SUCCEEDED');

      const other = await h.rpc.call(ActorsRpc.createBuild, {
        actorId: actor.id,
        options: {},
        meta,
        createdBy: owner,
      });
      expect((await h.rpc.call(ActorsRpc.abortBuild, { id: other.id })).status).toBe('ABORTED');
      await expectAppError(
        h.rpc.call(ActorsRpc.updateBuildStatus, { id: other.id, status: 'DONE' } as never),
        'invalid-input',
      );
      await expectAppError(h.rpc.call(ActorsRpc.abortBuild, { id: newId() }), 'record-not-found');
    });

    it('lists builds by Actor, by owner and by ids; deletes one', async () => {
      const actor = await createActor('listed-builds');
      const b1 = await h.rpc.call(ActorsRpc.createBuild, {
        actorId: actor.id,
        options: {},
        meta,
        createdBy: owner,
      });
      const b2 = await h.rpc.call(ActorsRpc.createBuild, {
        actorId: actor.id,
        options: {},
        meta,
        createdBy: owner,
      });
      const byActor = await h.rpc.call(ActorsRpc.listBuilds, {
        actorId: actor.id,
        page: { ...page, desc: true },
      });
      expect(byActor).toMatchObject({ total: 2, count: 2 });
      expect(byActor.items.map((b) => b.id)).toEqual([b2.id, b1.id]);
      const byOwner = await h.rpc.call(ActorsRpc.listBuilds, { ownerId: owner, page });
      expect(byOwner.items.map((b) => b.id)).toEqual(expect.arrayContaining([b1.id, b2.id]));
      const byIds = await h.rpc.call(ActorsRpc.listBuilds, { ids: [b2.id, b1.id], page });
      expect(byIds.items.map((b) => b.id)).toEqual([b2.id, b1.id]);
      await expectAppError(
        h.rpc.call(ActorsRpc.listBuilds, { actorId: actor.id, ownerId: owner, page }),
        'invalid-input',
      );

      expect(await h.rpc.call(ActorsRpc.deleteBuild, { id: b1.id })).toEqual({ ok: true });
      await expectAppError(h.rpc.call(ActorsRpc.getBuild, { id: b1.id }), 'record-not-found');
      expect((await h.rpc.call(ActorsRpc.listBuilds, { actorId: actor.id, page })).total).toBe(1);
      await expectAppError(h.rpc.call(ActorsRpc.deleteBuild, { id: b1.id }), 'record-not-found');
    });
  });

  describe('tasks', () => {
    it('creates a task of an Actor, with actorId in the catalogue row', async () => {
      const actor = await createActor('tasked');
      const taskOwner = newId();
      const task = await h.rpc.call(ActorTasksRpc.create, {
        ownerId: taskOwner,
        createdBy: taskOwner,
        actorId: actor.id,
        task: { name: 'daily', input: { url: 'https://example.com' }, options: { memoryMbytes: 256 } },
      });
      expect(task).toMatchObject({
        userId: taskOwner,
        actId: actor.id,
        name: 'daily',
        input: { url: 'https://example.com' },
        options: { memoryMbytes: 256 },
      });
      expect(await h.rpc.call(ResourcesRpc.getResourceFacts, { id: task.id })).toMatchObject({
        type: 'ACTOR_TASK',
        ownerId: taskOwner,
        actorId: actor.id,
      });
      await expectAppError(
        h.rpc.call(ActorTasksRpc.create, {
          ownerId: taskOwner,
          createdBy: taskOwner,
          actorId: actor.id,
          task: { name: 'daily' },
        }),
        'conflict',
      );
      await expectAppError(
        h.rpc.call(ActorTasksRpc.create, {
          ownerId: taskOwner,
          createdBy: taskOwner,
          actorId: newId(),
          task: { name: 'orphan' },
        }),
        'record-not-found',
      );
    });

    it.each([
      [{ task: {} }, 'payload.task.name'],
      [{ task: { name: 'x', input: [1, 2] } }, 'payload.task.input'],
      [{ task: { name: 'x', input: { big: 'x'.repeat(1_000_001) } } }, 'payload.task.input'],
      [
        { task: { name: 'x', actId: 'abc', options: { timeoutSecs: 'x' } } },
        'payload.task.options.timeoutSecs',
      ],
      [{ task: { name: 'x', options: { timeoutSecs: -1 } } }, 'payload.task.options.timeoutSecs'],
      [{ actorId: 'nope', task: { name: 'x' } }, 'payload.actorId'],
    ])('refuses an invalid create payload %#, naming the field', async (override, field) => {
      const payload = { ownerId: owner, createdBy: owner, actorId: newId(), ...override };
      const err = await expectAppError(h.rpc.call(ActorTasksRpc.create, payload as never), 'invalid-input');
      expect(err.message).toContain(field);
    });

    it('updates (input replaced, options merged), lists, deletes', async () => {
      const actor = await createActor('tasked-2');
      const taskOwner = newId();
      const create = (name: string) =>
        h.rpc.call(ActorTasksRpc.create, {
          ownerId: taskOwner,
          createdBy: taskOwner,
          actorId: actor.id,
          task: { name, input: { a: 1 }, options: { build: 'beta' } },
        });
      const t1 = await create('first');
      const t2 = await create('second');
      const updated = await h.rpc.call(ActorTasksRpc.update, {
        id: t1.id,
        changes: { name: 'renamed', input: { b: 2 }, options: { timeoutSecs: 10 }, title: null },
      });
      expect(updated).toMatchObject({
        name: 'renamed',
        input: { b: 2 },
        options: { build: 'beta', timeoutSecs: 10 },
        title: null,
      });
      await expectAppError(
        h.rpc.call(ActorTasksRpc.update, { id: t1.id, changes: { name: 'second' } }),
        'conflict',
      );
      // A field this release does not know (a later release's, or Apify's `actId`) is ignored:
      // it moves the task to no other Actor (README, "Rolling upgrades").
      expect(
        await h.rpc.call(ActorTasksRpc.update, {
          id: t1.id,
          changes: { actId: newId(), title: 'T' },
        } as never),
      ).toMatchObject({ actId: actor.id, title: 'T' });

      const listed = await h.rpc.call(ActorTasksRpc.list, { ownerId: taskOwner, page });
      expect(listed.items.map((t) => t.id)).toEqual([t1.id, t2.id]);
      expect((await h.rpc.call(ActorTasksRpc.list, { ids: [t2.id], page })).items.map((t) => t.id)).toEqual([
        t2.id,
      ]);
      await expectAppError(h.rpc.call(ActorTasksRpc.list, { page } as never), 'invalid-input');

      expect(await h.rpc.call(ActorTasksRpc.delete, { id: t2.id })).toEqual({ ok: true });
      await expectAppError(h.rpc.call(ActorTasksRpc.get, { id: t2.id }), 'record-not-found');
      await expectAppError(h.rpc.call(ActorTasksRpc.delete, { id: t2.id }), 'record-not-found');
    });
  });

  describe('schedules', () => {
    const actorId = newId();
    const actorTaskId = newId();

    it('creates a schedule with defaults and action ids, updates and keeps known action ids', async () => {
      const schedule = await h.rpc.call(SchedulesRpc.create, {
        ownerId: owner,
        createdBy: owner,
        schedule: {
          name: 'nightly',
          cronExpression: '0 3 * * *',
          actions: [
            { type: 'RUN_ACTOR', actorId, runOptions: { memoryMbytes: 256 } },
            { type: 'RUN_ACTOR_TASK', actorTaskId, input: { a: 1 } },
          ],
        },
      });
      expect(schedule).toMatchObject({
        name: 'nightly',
        userId: owner,
        cronExpression: '0 3 * * *',
        timezone: 'UTC',
        isEnabled: true,
        isExclusive: true,
        notifications: { email: true },
        nextRunAt: expect.stringMatching(/T03:00:00\.000Z$/),
        lastRunAt: null,
        actions: [
          { type: 'RUN_ACTOR', actorId, runOptions: { memoryMbytes: 256 } },
          { type: 'RUN_ACTOR_TASK', actorTaskId, input: { a: 1 } },
        ],
      });
      const [kept] = schedule.actions;
      expect(kept?.id).toMatch(/^[A-Za-z0-9]{17}$/);
      expect(await h.rpc.call(ResourcesRpc.getResourceFacts, { id: schedule.id })).toMatchObject({
        type: 'SCHEDULE',
        ownerId: owner,
      });

      const updated = await h.rpc.call(SchedulesRpc.update, {
        id: schedule.id,
        changes: {
          isEnabled: false,
          timezone: 'Europe/Prague',
          cronExpression: '@hourly',
          actions: [
            { id: kept?.id, type: 'RUN_ACTOR', actorId },
            { id: newId(), type: 'RUN_ACTOR', actorId },
          ],
        },
      });
      expect(updated).toMatchObject({
        isEnabled: false,
        timezone: 'Europe/Prague',
        cronExpression: '@hourly',
        name: 'nightly',
        nextRunAt: null,
      });
      expect(updated.actions[0]?.id).toBe(kept?.id);
      expect(updated.actions[1]?.id).not.toBe(kept?.id);
      expect((await h.rpc.call(SchedulesRpc.get, { id: schedule.id })).actions).toHaveLength(2);
    });

    it.each([
      [{ name: 'x', cronExpression: '61 * * * *' }, 'minute field'],
      [{ name: 'x', cronExpression: '* * *' }, 'payload.schedule.cronExpression'],
      [{ cronExpression: '* * * * *' }, 'payload.schedule.name'],
      [{ name: 'x', cronExpression: '* * * * *', timezone: 'Mars/Olympus' }, 'payload.schedule.timezone'],
      [
        { name: 'x', cronExpression: '* * * * *', actions: [{ type: 'RUN_SOMETHING', actorId }] },
        'payload.schedule.actions.0.type',
      ],
      [
        { name: 'x', cronExpression: '* * * * *', actions: [{ type: 'RUN_ACTOR', actorId: 'me~scraper' }] },
        'payload.schedule.actions.0.actorId',
      ],
      [
        { name: 'x', cronExpression: '* * * * *', actions: [{ type: 'RUN_ACTOR_TASK', actorId }] },
        'actorTaskId',
      ],
      [
        {
          name: 'x',
          cronExpression: '* * * * *',
          actions: Array.from({ length: 21 }, () => ({ type: 'RUN_ACTOR', actorId })),
        },
        'payload.schedule.actions',
      ],
    ])('refuses an invalid create payload %#, naming the field', async (schedule, field) => {
      const err = await expectAppError(
        h.rpc.call(SchedulesRpc.create, { ownerId: owner, createdBy: owner, schedule } as never),
        'invalid-input',
      );
      expect(err.message).toContain(field);
    });

    it('refuses duplicate names, lists, deletes', async () => {
      const scheduleOwner = newId();
      const create = (name: string) =>
        h.rpc.call(SchedulesRpc.create, {
          ownerId: scheduleOwner,
          createdBy: scheduleOwner,
          schedule: { name, cronExpression: '@daily' },
        });
      const s1 = await create('a');
      const s2 = await create('b');
      await expectAppError(create('a'), 'conflict');
      await expectAppError(
        h.rpc.call(SchedulesRpc.update, { id: s2.id, changes: { name: 'a' } }),
        'conflict',
      );
      await expectAppError(
        h.rpc.call(SchedulesRpc.update, { id: s2.id, changes: { cronExpression: 'never' } }),
        'invalid-input',
      );
      const listed = await h.rpc.call(SchedulesRpc.list, {
        ownerId: scheduleOwner,
        page: { ...page, desc: true },
      });
      expect(listed.items.map((s) => s.id)).toEqual([s2.id, s1.id]);
      expect((await h.rpc.call(SchedulesRpc.list, { ids: [s1.id], page })).total).toBe(1);
      await expectAppError(h.rpc.call(SchedulesRpc.list, { page } as never), 'invalid-input');
      expect(await h.rpc.call(SchedulesRpc.delete, { id: s1.id })).toEqual({ ok: true });
      await expectAppError(h.rpc.call(SchedulesRpc.get, { id: s1.id }), 'record-not-found');
      await expectAppError(h.rpc.call(SchedulesRpc.delete, { id: s1.id }), 'record-not-found');
    });
  });
});
