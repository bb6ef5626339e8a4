import { INestMicroservice } from '@nestjs/common';
import { RunView } from '@atrium/contracts';
import { startServiceApp } from '@atrium/messaging';
import { ResourcesModule, ScheduleFirer, SchedulerClock } from '@atrium/resources';
import { eventually, TEST_AMQP_URL, testServiceConfig, testSqlPool, uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import {
  createActor,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TEST_DISTRIBUTED,
  TEST_EMBEDDED,
  TestStack,
} from './test-stack';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Schedules fire (issue 16, part 4): once per cron tick with two resources-service replicas on one
 * database, once after downtime however many ticks were missed, only what the owner may still
 * run (checked at fire time), never while the permissions service cannot answer; and the API
 * shows when a schedule fires next and what its firings did. The replicas' scheduler clocks are
 * moved by the test (no waiting for minutes); each service runs in this process, so the
 * distributed mode (a process per service) cannot run this file.
 */
(TEST_DISTRIBUTED ? describe.skip : describe)('schedules fire', () => {
  let t: TestStack;
  let baseUrl: string;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  /** A second resources service on the same database and queues (not in embedded mode: no broker). */
  let replica: INestMicroservice | undefined;
  let now = new Date('2031-01-01T00:00:30.000Z');

  const resourcesReplicas = () => [t.stack.services.get('resources'), replica].filter((a) => !!a);
  /** Moves every replica's clock to `iso` and lets each fire what is due, both at once. */
  const tick = (iso: string) => {
    now = new Date(iso);
    for (const app of resourcesReplicas()) app.get(ScheduleFirer).kick();
  };
  const createSchedule = async (owner: SignedUpUser, body: Record<string, unknown>) =>
    (
      await t
        .http()
        .post('/v2/schedules')
        .set(owner.auth)
        .send({ name: uniqueName('schedule'), cronExpression: '* * * * *', ...body })
        .expect(201)
    ).body.data as { id: string; nextRunAt: string | null; actions: { id: string }[] };
  const getSchedule = async (owner: SignedUpUser, id: string) =>
    (await t.http().get(`/v2/schedules/${id}`).set(owner.auth).expect(200)).body.data;
  const disable = (owner: SignedUpUser, id: string) =>
    t.http().put(`/v2/schedules/${id}`).set(owner.auth).send({ isEnabled: false }).expect(200);
  const scheduleLog = async (owner: SignedUpUser, id: string) =>
    (await t.http().get(`/v2/schedules/${id}/log`).set(owner.auth).expect(200)).body.data as {
      message: string;
      level: string;
      createdAt: string;
    }[];
  /** The user's runs of one Actor, oldest first. */
  const runsOf = async (user: SignedUpUser, actorId: string) =>
    (
      (await t.http().get('/v2/actor-runs?limit=1000').set(user.auth).expect(200)).body.data
        .items as RunView[]
    ).filter((run) => run.actId === actorId);
  const grant = async (
    owner: SignedUpUser,
    collection: string,
    id: string,
    to: SignedUpUser,
    permissions: string[],
  ) =>
    (
      await t
        .http()
        .post(`/v2/${collection}/${id}/access/grants`)
        .set(owner.auth)
        .send({ user: to.username, permissions })
        .expect(201)
    ).body.data.id as string;

  const runsOfInDatabase = async (actorId: string) => {
    const pool = testSqlPool(t.db.url);
    const { rows } = await pool
      .query('SELECT count(*)::int AS n FROM resources.actor_run WHERE actor_id = $1', [actorId])
      .finally(() => pool.end());
    return rows[0].n as number;
  };

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
    if (!TEST_EMBEDDED) {
      replica = await startServiceApp(ResourcesModule.forRoot(testServiceConfig(t.db.url)), 'resources', {
        amqpUrl: TEST_AMQP_URL,
        logLevel: 'error',
      });
    }
    for (const app of resourcesReplicas())
      jest.spyOn(app.get(SchedulerClock), 'now').mockImplementation(() => new Date(now));
  });
  afterAll(async () => {
    await replica?.close();
    await t.close();
  });

  it('fires an every-minute schedule exactly once per tick with two replicas on one database', async () => {
    if (!replica) return; // embedded mode: one process, one replica
    tick('2031-01-01T00:00:30.000Z');
    const actorId = await createActor(t, alice);
    const schedule = await createSchedule(alice, {
      isExclusive: false,
      actions: [{ type: 'RUN_ACTOR', actorId }],
    });
    expect(schedule.nextRunAt).toBe('2031-01-01T00:01:00.000Z');
    for (let minute = 1; minute <= 5; minute++) {
      tick(`2031-01-01T00:0${minute}:10.000Z`);
      await eventually(async () => expect(await runsOf(alice, actorId)).toHaveLength(minute), 10_000);
    }
    // Both replicas poll every second and were kicked together: still one run per tick.
    tick('2031-01-01T00:05:20.000Z');
    await sleep(2500);
    const runs = await runsOf(alice, actorId);
    expect(runs.map((run) => run.meta)).toEqual(
      [1, 2, 3, 4, 5].map((minute) => ({
        origin: 'SCHEDULER',
        scheduleId: schedule.id,
        scheduledAt: `2031-01-01T00:0${minute}:00.000Z`,
      })),
    );
    expect(await getSchedule(alice, schedule.id)).toMatchObject({
      nextRunAt: '2031-01-01T00:06:00.000Z',
      lastRunAt: '2031-01-01T00:05:10.000Z',
    });
    const log = await scheduleLog(alice, schedule.id);
    expect(log.map((entry) => entry.message)).toEqual(
      runs.flatMap((run) => ['Schedule invoked', `Started run ${run.id} of Actor ${actorId}`]),
    );
    expect(log[0]).toEqual({
      message: 'Schedule invoked',
      level: 'INFO',
      createdAt: '2031-01-01T00:01:10.000Z',
    });
    await disable(alice, schedule.id);
  });

  it('fires once after downtime, and its log says how many ticks were missed', async () => {
    tick('2031-01-01T01:00:30.000Z');
    const actorId = await createActor(t, alice);
    const schedule = await createSchedule(alice, {
      isExclusive: false,
      actions: [{ type: 'RUN_ACTOR', actorId }],
    });
    // Ten minutes later: the ticks of 1:01 … 1:11 are all due.
    tick('2031-01-01T01:11:10.000Z');
    await eventually(async () => expect(await runsOf(alice, actorId)).toHaveLength(1), 10_000);
    await sleep(2500);
    const runs = await runsOf(alice, actorId);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.meta).toMatchObject({ scheduledAt: '2031-01-01T01:11:00.000Z' });
    expect((await scheduleLog(alice, schedule.id)).map((entry) => entry.message)).toEqual([
      'Missed 10 ticks since 2031-01-01T01:01:00.000Z while the scheduler was not running; fired once for the tick at 2031-01-01T01:11:00.000Z',
      'Schedule invoked',
      `Started run ${runs[0]?.id} of Actor ${actorId}`,
    ]);
    expect((await getSchedule(alice, schedule.id)).nextRunAt).toBe('2031-01-01T01:12:00.000Z');
    await disable(alice, schedule.id);
  });

  it("does not start an Actor its owner may no longer run, says why in the log, and still runs the tick's other actions", async () => {
    tick('2031-01-01T02:00:30.000Z');
    const alicesActor = await createActor(t, alice);
    const bobsActor = await createActor(t, bob);
    const grantId = await grant(alice, 'acts', alicesActor, bob, ['READ', 'RUN']);
    const schedule = await createSchedule(bob, {
      isExclusive: false,
      actions: [
        { type: 'RUN_ACTOR', actorId: alicesActor },
        { type: 'RUN_ACTOR', actorId: bobsActor },
      ],
    });
    tick('2031-01-01T02:01:10.000Z');
    await eventually(async () => expect(await runsOf(bob, bobsActor)).toHaveLength(1), 10_000);
    expect(await runsOf(bob, alicesActor)).toHaveLength(1);

    // Alice leaves Bob READ only: the next tick runs Bob's own Actor and not hers.
    await t
      .http()
      .put(`/v2/acts/${alicesActor}/access/grants/${grantId}`)
      .set(alice.auth)
      .send({ permissions: ['READ'] })
      .expect(200);
    tick('2031-01-01T02:02:10.000Z');
    await eventually(async () => expect(await runsOf(bob, bobsActor)).toHaveLength(2), 10_000);
    expect(await runsOf(bob, alicesActor)).toHaveLength(1);
    const log = await scheduleLog(bob, schedule.id);
    expect(log.slice(-3)).toEqual([
      { message: 'Schedule invoked', level: 'INFO', createdAt: '2031-01-01T02:02:10.000Z' },
      {
        message: `Not started: the owner may no longer RUN Actor ${alicesActor}`,
        level: 'ERROR',
        createdAt: '2031-01-01T02:02:10.000Z',
      },
      {
        message: expect.stringMatching(new RegExp(`^Started run \\w{17} of Actor ${bobsActor}$`)),
        level: 'INFO',
        createdAt: '2031-01-01T02:02:10.000Z',
      },
    ]);
    await disable(bob, schedule.id);
  });

  it('does not start a task whose Actor its owner may no longer run; nor may the owner schedule it again (403 naming the field)', async () => {
    tick('2031-01-01T03:00:30.000Z');
    const actorId = await createActor(t, alice);
    const taskId = (
      await t
        .http()
        .post('/v2/actor-tasks')
        .set(alice.auth)
        .send({ actId: actorId, name: uniqueName('task'), input: { q: 1 } })
        .expect(201)
    ).body.data.id as string;
    await grant(alice, 'actor-tasks', taskId, bob, ['READ']);
    const actorGrant = await grant(alice, 'acts', actorId, bob, ['READ', 'RUN']);
    const schedule = await createSchedule(bob, {
      isExclusive: false,
      actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: taskId, input: { q: 2 } }],
    });
    tick('2031-01-01T03:01:10.000Z');
    const [run] = await eventually(async () => {
      const runs = await runsOf(bob, actorId);
      expect(runs).toHaveLength(1);
      return runs;
    }, 10_000);
    expect(run).toMatchObject({ actorTaskId: taskId, userId: bob.id, meta: { origin: 'SCHEDULER' } });
    // The action's input is merged over the task's, as a run of the task with that input.
    const input = await t
      .http()
      .get(`/v2/key-value-stores/${run?.defaultKeyValueStoreId}/records/INPUT`)
      .set(bob.auth)
      .expect(200);
    expect(input.body).toEqual({ q: 2 });

    await t
      .http()
      .put(`/v2/acts/${actorId}/access/grants/${actorGrant}`)
      .set(alice.auth)
      .send({ permissions: ['READ'] })
      .expect(200);
    tick('2031-01-01T03:02:10.000Z');
    await eventually(async () => {
      expect((await scheduleLog(bob, schedule.id)).at(-1)).toEqual({
        message: `Not started: the owner may no longer RUN Actor ${actorId} of task ${taskId}`,
        level: 'ERROR',
        createdAt: '2031-01-01T03:02:10.000Z',
      });
    }, 10_000);
    expect(await runsOf(bob, actorId)).toHaveLength(1);

    // Bob may read the task and its Actor but not run it: scheduling it is refused, naming the action.
    const refused = await t
      .http()
      .post('/v2/schedules')
      .set(bob.auth)
      .send({
        name: uniqueName('schedule'),
        cronExpression: '@daily',
        actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: taskId }],
      })
      .expect(403);
    expect(refused.body.error).toMatchObject({ type: 'insufficient-permissions' });
    expect(refused.body.error.message).toContain('body.actions.0.actorTaskId');
    const changed = await t
      .http()
      .put(`/v2/schedules/${schedule.id}`)
      .set(bob.auth)
      .send({ actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: taskId }] })
      .expect(403);
    expect(changed.body.error.message).toContain('body.actions.0.actorTaskId');
    await disable(bob, schedule.id);
  });

  it('a grantee who may change a schedule (WRITE) but not run its Actor cannot enable it or change when it fires', async () => {
    const actorId = await createActor(t, alice);
    const schedule = await createSchedule(alice, {
      actions: [{ type: 'RUN_ACTOR', actorId }],
      isEnabled: false,
    });
    await grant(alice, 'schedules', schedule.id, bob, ['READ', 'WRITE']);
    await grant(alice, 'acts', actorId, bob, ['READ']);
    for (const change of [
      { isEnabled: true },
      { cronExpression: '* * * * * *' },
      { timezone: 'Europe/Prague' },
      { isExclusive: false },
    ]) {
      const refused = await t
        .http()
        .put(`/v2/schedules/${schedule.id}`)
        .set(bob.auth)
        .send(change)
        .expect(403);
      expect(refused.body.error.message).toContain("the schedule's actions.0.actorId");
    }
    expect(await getSchedule(alice, schedule.id)).toMatchObject({
      isEnabled: false,
      cronExpression: '* * * * *',
    });
    // What does not change when it fires stays the grantee's to change; with RUN, so does the timing.
    await t
      .http()
      .put(`/v2/schedules/${schedule.id}`)
      .set(bob.auth)
      .send({ description: 'noted' })
      .expect(200);
    await grant(alice, 'acts', actorId, bob, ['RUN']).catch(() => undefined);
  });

  it('starts no new run of an exclusive schedule while its previous run from the schedule has not finished', async () => {
    tick('2031-01-01T04:00:30.000Z');
    const actorId = await createActor(t, alice);
    const schedule = await createSchedule(alice, { actions: [{ type: 'RUN_ACTOR', actorId }] });
    tick('2031-01-01T04:01:10.000Z');
    const [first] = await eventually(async () => {
      const runs = await runsOf(alice, actorId);
      expect(runs).toHaveLength(1);
      return runs;
    }, 10_000);
    tick('2031-01-01T04:02:10.000Z');
    await eventually(async () => {
      expect((await scheduleLog(alice, schedule.id)).at(-1)?.message).toBe(
        `Not started: the previous run ${first?.id} of Actor ${actorId} from this schedule is still READY (the schedule is exclusive)`,
      );
    }, 10_000);
    await t.http().post(`/v2/actor-runs/${first?.id}/abort`).set(alice.auth).expect(200);
    tick('2031-01-01T04:03:10.000Z');
    await eventually(async () => expect(await runsOf(alice, actorId)).toHaveLength(2), 10_000);
    await disable(alice, schedule.id);
  });

  it('fires nothing while the permissions service is down, and fires the kept tick once it is back', async () => {
    tick('2031-01-01T05:00:30.000Z');
    const actorId = await createActor(t, alice);
    const schedule = await createSchedule(alice, { actions: [{ type: 'RUN_ACTOR', actorId }] });
    await t.stack.stopService('permissions');
    try {
      tick('2031-01-01T05:01:10.000Z');
      // Longer than the resources service's RPC deadline (3 s).
      await sleep(4000);
      // Read from the database: the gateway cannot answer without the permissions service either.
      const pool = testSqlPool(t.db.url);
      const { rows } = await pool
        .query('SELECT next_run_at, last_run_at FROM resources.schedule WHERE id = $1', [schedule.id])
        .finally(() => pool.end());
      expect(rows).toEqual([{ next_run_at: new Date('2031-01-01T05:01:00.000Z'), last_run_at: null }]);
      expect(await runsOfInDatabase(actorId)).toBe(0);
    } finally {
      await t.stack.startService('permissions');
    }
    await eventually(async () => expect(await runsOf(alice, actorId)).toHaveLength(1), 15_000);
    expect((await runsOf(alice, actorId))[0]?.meta).toMatchObject({
      scheduledAt: '2031-01-01T05:01:00.000Z',
    });
    expect((await scheduleLog(alice, schedule.id)).map((entry) => entry.message)).toEqual([
      'Schedule invoked',
      expect.stringMatching(/^Started run /),
    ]);
    await disable(alice, schedule.id);
  });

  it('serves nextRunAt, lastRunAt and the log to whoever may read the schedule; apify-client reads the log', async () => {
    tick('2031-01-01T06:00:30.000Z');
    const schedule = await createSchedule(alice, { cronExpression: '0 9 * * *', timezone: 'Europe/Prague' });
    expect(await getSchedule(alice, schedule.id)).toMatchObject({
      nextRunAt: '2031-01-01T08:00:00.000Z',
      lastRunAt: null,
    });
    tick('2031-01-01T08:00:05.000Z');
    await eventually(
      async () => expect((await getSchedule(alice, schedule.id)).lastRunAt).toBe('2031-01-01T08:00:05.000Z'),
      10_000,
    );
    expect((await getSchedule(alice, schedule.id)).nextRunAt).toBe('2031-01-02T08:00:00.000Z');
    const client = new ApifyClient({
      baseUrl,
      publicBaseUrl: baseUrl,
      token: alice.accessToken,
      maxRetries: 0,
    });
    const log = await client.schedule(schedule.id).getLog();
    expect(log).toEqual([
      { message: 'Schedule invoked', level: 'INFO', createdAt: new Date('2031-01-01T08:00:05.000Z') },
    ]);
    // Bob may not read it: 404, as for the schedule itself; with READ he reads its log.
    await t.http().get(`/v2/schedules/${schedule.id}/log`).set(bob.auth).expect(404);
    await grant(alice, 'schedules', schedule.id, bob, ['READ']);
    expect(await scheduleLog(bob, schedule.id)).toHaveLength(1);
    await t.http().delete(`/v2/schedules/${schedule.id}`).set(alice.auth).expect(204);
  });
});
