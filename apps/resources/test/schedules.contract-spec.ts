import { ActorsRpc, RunsRpc, SCHEDULE_LOG_MAX_ENTRIES, SchedulesRpc } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import {
  ContractHarness,
  eventually,
  expectAppError,
  startContractHarness,
  testServiceConfig,
  testSqlPool,
  uniqueName,
} from '@atrium/testing';
import { Pool } from 'pg';
import { ResourcesModule } from '../src/resources.module';
import { ScheduleFirer } from '../src/schedules/schedule-firer';
import { SchedulerClock } from '../src/schedules/scheduler-clock';

/**
 * Schedules' timing and firing in the resources service alone: `nextRunAt` from the cron
 * expression in the schedule's time zone, and the firing worker on the scheduler's clock (moved
 * by the test). The permissions service is not running here: a schedule with actions cannot learn
 * whether its owner may still run them, so it must fire nothing and keep its tick (fail closed).
 * Firing with runs, across two replicas and with revoked access: apps/atrium/test/schedules.e2e-spec.ts.
 */
describe('resources message contract: schedules fire (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  let sql: Pool;
  let now = new Date('2030-01-15T10:00:00.000Z');
  const owner = newId();
  const page = { offset: 0, limit: 100, desc: false };

  const setClock = (iso: string) => {
    now = new Date(iso);
  };
  const create = (schedule: Record<string, unknown>) =>
    h.rpc.call(SchedulesRpc.create, {
      ownerId: owner,
      createdBy: owner,
      schedule: { name: uniqueName('schedule'), ...schedule } as never,
    });
  const get = (id: string) => h.rpc.call(SchedulesRpc.get, { id });

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) => ResourcesModule.forRoot(testServiceConfig(url)));
    jest.spyOn(h.app.get(SchedulerClock), 'now').mockImplementation(() => new Date(now));
    sql = testSqlPool(h.db.url);
  });
  afterAll(async () => {
    await sql.end();
    await h.close();
  });

  it("computes nextRunAt in the schedule's time zone: 9:00 in Prague is 8:00 UTC in winter, 7:00 in summer", async () => {
    setClock('2030-01-15T10:00:00.000Z');
    expect((await create({ cronExpression: '0 9 * * *' })).nextRunAt).toBe('2030-01-16T09:00:00.000Z');
    expect((await create({ cronExpression: '0 9 * * *', timezone: 'Europe/Prague' })).nextRunAt).toBe(
      '2030-01-16T08:00:00.000Z',
    );
    // 10:00 UTC is 5:00 in New York: 9:00 there is still to come today.
    expect((await create({ cronExpression: '0 9 * * *', timezone: 'America/New_York' })).nextRunAt).toBe(
      '2030-01-15T14:00:00.000Z',
    );
    setClock('2030-07-15T10:00:00.000Z');
    expect((await create({ cronExpression: '0 9 * * *', timezone: 'Europe/Prague' })).nextRunAt).toBe(
      '2030-07-16T07:00:00.000Z',
    );
  });

  it.each([
    ['@hourly', 'UTC', '2030-01-15T10:20:00.000Z', '2030-01-15T11:00:00.000Z'],
    ['@HOURLY', 'UTC', '2030-01-15T10:20:00.000Z', '2030-01-15T11:00:00.000Z'],
    ['@midnight', 'Europe/Prague', '2030-01-15T10:20:00.000Z', '2030-01-15T23:00:00.000Z'],
    ['@weekly', 'UTC', '2030-01-15T10:20:00.000Z', '2030-01-20T00:00:00.000Z'],
    ['30 * * * * *', 'UTC', '2030-01-15T10:20:00.000Z', '2030-01-15T10:20:30.000Z'],
    ['*/15,0 * * * *', 'UTC', '2030-01-15T10:20:00.000Z', '2030-01-15T10:30:00.000Z'],
    ['0 0 ? * MON-FRI', 'UTC', '2030-01-18T10:20:00.000Z', '2030-01-21T00:00:00.000Z'],
    ['0 12 * * 7', 'UTC', '2030-01-15T10:20:00.000Z', '2030-01-20T12:00:00.000Z'],
    // Day of month and day of week both restricted: either fires, as in cron.
    ['0 0 1 * MON', 'UTC', '2030-01-15T10:20:00.000Z', '2030-01-21T00:00:00.000Z'],
    ['0 0 29 2 *', 'UTC', '2030-01-15T10:20:00.000Z', '2032-02-29T00:00:00.000Z'],
  ])('%s in %s at %s next fires at %s', async (cronExpression, timezone, at, next) => {
    setClock(at);
    expect((await create({ cronExpression, timezone })).nextRunAt).toBe(next);
  });

  it('refuses a cron expression that names no date, naming the field', async () => {
    const err = await expectAppError(create({ cronExpression: '0 0 30 2 *' }), 'invalid-input');
    expect(err.message).toContain('payload.schedule.cronExpression');
    expect(err.message).toContain('30 February');
  });

  it('has no nextRunAt while disabled, and counts it from now when its timing changes', async () => {
    setClock('2030-01-15T10:00:00.000Z');
    const schedule = await create({ cronExpression: '0 * * * *', isEnabled: false });
    expect(schedule).toMatchObject({ nextRunAt: null, lastRunAt: null });
    setClock('2030-01-15T12:30:00.000Z');
    const enabled = await h.rpc.call(SchedulesRpc.update, { id: schedule.id, changes: { isEnabled: true } });
    expect(enabled.nextRunAt).toBe('2030-01-15T13:00:00.000Z');
    setClock('2030-01-15T12:40:00.000Z');
    // A change that is not of its timing keeps it; a new cron expression or time zone counts anew.
    const retitled = await h.rpc.call(SchedulesRpc.update, { id: schedule.id, changes: { title: 'T' } });
    expect(retitled.nextRunAt).toBe('2030-01-15T13:00:00.000Z');
    const recron = await h.rpc.call(SchedulesRpc.update, {
      id: schedule.id,
      changes: { cronExpression: '*/15 * * * *' },
    });
    expect(recron.nextRunAt).toBe('2030-01-15T12:45:00.000Z');
    // Kathmandu is UTC+5:45: its hours start at :15 UTC.
    const rezoned = await h.rpc.call(SchedulesRpc.update, {
      id: schedule.id,
      changes: { cronExpression: '0 * * * *', timezone: 'Asia/Kathmandu' },
    });
    expect(rezoned.nextRunAt).toBe('2030-01-15T13:15:00.000Z');
    const disabled = await h.rpc.call(SchedulesRpc.update, {
      id: schedule.id,
      changes: { isEnabled: false },
    });
    expect(disabled.nextRunAt).toBeNull();
    expect((await get(schedule.id)).nextRunAt).toBeNull();
  });

  it('fires a schedule without actions once per due tick, logs it, and keeps its last 1000 log entries', async () => {
    setClock('2030-02-01T00:00:30.000Z');
    const schedule = await create({ cronExpression: '* * * * *' });
    expect(schedule.nextRunAt).toBe('2030-02-01T00:01:00.000Z');
    // Entries from earlier firings, up to the cap: the next firing pushes the oldest out.
    await sql.query(
      `INSERT INTO resources.schedule_log_entry (schedule_id, created_at, level, message)
       SELECT $1, $2, 'INFO', 'old ' || n FROM generate_series(1, $3::int) n`,
      [schedule.id, new Date('2030-01-01T00:00:00.000Z'), SCHEDULE_LOG_MAX_ENTRIES],
    );
    setClock('2030-02-01T00:01:05.000Z');
    h.app.get(ScheduleFirer).kick();
    const fired = await eventually(async () => {
      const view = await get(schedule.id);
      expect(view.lastRunAt).toBe('2030-02-01T00:01:05.000Z');
      return view;
    });
    expect(fired.nextRunAt).toBe('2030-02-01T00:02:00.000Z');
    const log = await h.rpc.call(SchedulesRpc.getLog, { id: schedule.id });
    expect(log).toHaveLength(SCHEDULE_LOG_MAX_ENTRIES);
    expect(log[0]?.message).toBe('old 2');
    expect(log.at(-1)).toEqual({
      message: 'Schedule invoked',
      level: 'INFO',
      createdAt: '2030-02-01T00:01:05.000Z',
    });
    await h.rpc.call(SchedulesRpc.delete, { id: schedule.id });
    await expectAppError(h.rpc.call(SchedulesRpc.getLog, { id: schedule.id }), 'record-not-found');
    const { rows } = await sql.query(
      `SELECT count(*)::int AS n FROM resources.schedule_log_entry WHERE schedule_id = $1`,
      [schedule.id],
    );
    expect(rows[0].n).toBe(0);
  });

  it('counts missed ticks up to 1000 after long downtime, and fires once for the latest', async () => {
    setClock('2030-04-01T00:00:00.500Z');
    const schedule = await create({ cronExpression: '* * * * * *' });
    expect(schedule.nextRunAt).toBe('2030-04-01T00:00:01.000Z');
    // Two hours later: 7,200 ticks are due.
    setClock('2030-04-01T02:00:00.200Z');
    h.app.get(ScheduleFirer).kick();
    const fired = await eventually(async () => {
      const view = await get(schedule.id);
      expect(view.lastRunAt).toBe('2030-04-01T02:00:00.200Z');
      return view;
    });
    expect(fired.nextRunAt).toBe('2030-04-01T02:00:01.000Z');
    expect((await h.rpc.call(SchedulesRpc.getLog, { id: schedule.id })).map((e) => e.message)).toEqual([
      'Missed at least 999 ticks since 2030-04-01T00:00:01.000Z while the scheduler was not running; fired once for the tick at 2030-04-01T02:00:00.000Z',
      'Schedule invoked',
    ]);
    await h.rpc.call(SchedulesRpc.update, { id: schedule.id, changes: { isEnabled: false } });
  });

  it('fires nothing while the permissions service does not answer, and keeps the tick', async () => {
    setClock('2030-03-01T00:00:30.000Z');
    const actor = await h.rpc.call(ActorsRpc.createActor, {
      ownerId: owner,
      createdBy: owner,
      actor: { name: uniqueName('act') },
    });
    const schedule = await create({
      cronExpression: '* * * * *',
      actions: [{ type: 'RUN_ACTOR', actorId: actor.id }],
    });
    setClock('2030-03-01T00:01:05.000Z');
    h.app.get(ScheduleFirer).kick();
    // Longer than the service's RPC deadline (3 s): its question to the permissions service has timed out.
    await new Promise((r) => setTimeout(r, 4000));
    expect((await h.rpc.call(RunsRpc.list, { userId: owner, actorId: actor.id, page })).total).toBe(0);
    expect(await get(schedule.id)).toMatchObject({ nextRunAt: '2030-03-01T00:01:00.000Z', lastRunAt: null });
    expect(await h.rpc.call(SchedulesRpc.getLog, { id: schedule.id })).toEqual([]);
    await h.rpc.call(SchedulesRpc.update, { id: schedule.id, changes: { isEnabled: false } });
  });
});
