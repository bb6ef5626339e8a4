import { uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import {
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from './test-stack';

/**
 * The everyday methods of apify-client's resource clients, each called as a script calls it
 * (issue 13, part 5: the compatibility matrix names these tests as the proof of "supported").
 * Actors, tasks, schedules and the three storages: create, get, list, update, delete; the
 * record and request methods of stores and queues; builds and runs listed.
 */
describe('apify-client: the catalogue, method by method', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let baseUrl: string;
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
  });
  afterAll(() => t.close());

  it('actors: create, get by id and by username~name, list, update, delete', async () => {
    const owner = client(alice.accessToken);
    const name = uniqueName('act');
    const created = await owner.actors().create({ name, title: 'First', description: 'd' });
    expect(created).toMatchObject({ name, title: 'First' });
    expect((await owner.actor(created.id).get())?.id).toBe(created.id);
    expect((await owner.actor(`${alice.username}~${name}`).get())?.id).toBe(created.id);
    const listed = await owner.actors().list({ my: true });
    expect(listed.items.map((a) => a.id)).toContain(created.id);
    const updated = await owner.actor(created.id).update({ title: 'Second' });
    expect(updated.title).toBe('Second');
    // Someone else cannot see it: the client turns 404 into undefined.
    expect(await client(bob.accessToken).actor(created.id).get()).toBeUndefined();
    await owner.actor(created.id).delete();
    expect(await owner.actor(created.id).get()).toBeUndefined();
  });

  it('tasks: create, get, list, update, delete, and their input', async () => {
    const owner = client(alice.accessToken);
    const actor = await owner.actors().create({ name: uniqueName('act') });
    const task = await owner.tasks().create({ actId: actor.id, name: uniqueName('task'), input: { q: 1 } });
    expect((await owner.task(task.id).get())?.actId).toBe(actor.id);
    expect((await owner.tasks().list()).items.map((x) => x.id)).toContain(task.id);
    expect((await owner.task(task.id).update({ input: { q: 2 } })).input).toEqual({ q: 2 });
    expect(await owner.task(task.id).getInput()).toEqual({ q: 2 });
    expect(await owner.task(task.id).updateInput({ q: 3 })).toEqual({ q: 3 });
    const run = await owner.task(task.id).start();
    expect((await owner.task(task.id).runs().list()).items.map((r) => r.id)).toEqual([run.id]);
    expect(await client(bob.accessToken).task(task.id).get()).toBeUndefined();
    await owner.task(task.id).delete();
    expect(await owner.task(task.id).get()).toBeUndefined();
  });

  it('schedules: create, get, list, update, delete', async () => {
    const owner = client(alice.accessToken);
    const actor = await owner.actors().create({ name: uniqueName('act') });
    const schedule = await owner.schedules().create({
      name: uniqueName('sched'),
      cronExpression: '0 * * * *',
      isEnabled: true,
      isExclusive: false,
      actions: [{ type: 'RUN_ACTOR', actorId: actor.id }],
    } as never);
    expect((await owner.schedule(schedule.id).get())?.cronExpression).toBe('0 * * * *');
    expect((await owner.schedules().list()).items.map((s) => s.id)).toContain(schedule.id);
    const updated = await owner.schedule(schedule.id).update({ cronExpression: '@daily' } as never);
    expect(updated.cronExpression).toBe('@daily');
    expect(await client(bob.accessToken).schedule(schedule.id).get()).toBeUndefined();
    await owner.schedule(schedule.id).delete();
    expect(await owner.schedule(schedule.id).get()).toBeUndefined();
  });

  it('datasets: getOrCreate by name, get, list, update, delete', async () => {
    const owner = client(alice.accessToken);
    const name = uniqueName('ds');
    const dataset = await owner.datasets().getOrCreate(name);
    expect((await owner.datasets().getOrCreate(name)).id).toBe(dataset.id);
    expect((await owner.dataset(dataset.id).get())?.name).toBe(name);
    expect((await owner.datasets().list()).items.map((d) => d.id)).toContain(dataset.id);
    const renamed = uniqueName('ds');
    expect((await owner.dataset(dataset.id).update({ name: renamed })).name).toBe(renamed);
    await owner.dataset(dataset.id).delete();
    expect(await owner.dataset(dataset.id).get()).toBeUndefined();
  });

  it('key-value stores: getOrCreate, get, list, update, records (set, get, exists, list, delete), delete', async () => {
    const owner = client(alice.accessToken);
    const store = await owner.keyValueStores().getOrCreate(uniqueName('kvs'));
    expect((await owner.keyValueStores().list()).items.map((s) => s.id)).toContain(store.id);
    const renamed = uniqueName('kvs');
    expect((await owner.keyValueStore(store.id).update({ name: renamed })).name).toBe(renamed);
    const records = owner.keyValueStore(store.id);
    await records.setRecord({ key: 'a', value: { x: 1 } });
    await records.setRecord({ key: 'b', value: 'plain text', contentType: 'text/plain' });
    expect((await records.getRecord('a'))?.value).toEqual({ x: 1 });
    expect((await records.getRecord('b'))?.value).toBe('plain text');
    expect(await records.recordExists('a')).toBe(true);
    expect(await records.recordExists('zzz')).toBe(false);
    expect((await records.listKeys({ limit: 1 })).items.map((k) => k.key)).toEqual(['a']);
    expect((await records.listKeys({ exclusiveStartKey: 'a' })).items.map((k) => k.key)).toEqual(['b']);
    await records.deleteRecord('a');
    expect(await records.getRecord('a')).toBeUndefined();
    // Storages are readable by anyone with the id by default (the account's general access), not writable.
    expect((await client(bob.accessToken).keyValueStore(store.id).get())?.id).toBe(store.id);
    await expect(
      client(bob.accessToken).keyValueStore(store.id).setRecord({ key: 'c', value: 1 }),
    ).rejects.toMatchObject({
      statusCode: 403,
      type: 'insufficient-permissions',
    });
    await records.delete();
    expect(await records.get()).toBeUndefined();
  });

  it('request queues: getOrCreate, get, list, update, one request (add, get, update, delete), head, delete', async () => {
    const owner = client(alice.accessToken);
    const queue = await owner.requestQueues().getOrCreate(uniqueName('rq'));
    expect((await owner.requestQueues().list()).items.map((q) => q.id)).toContain(queue.id);
    const renamed = uniqueName('rq');
    expect((await owner.requestQueue(queue.id).update({ name: renamed })).name).toBe(renamed);
    const rq = owner.requestQueue(queue.id);
    const added = await rq.addRequest({ url: 'http://127.0.0.1/a', uniqueKey: 'a' });
    expect(added.wasAlreadyPresent).toBe(false);
    expect((await rq.addRequest({ url: 'http://127.0.0.1/a', uniqueKey: 'a' })).wasAlreadyPresent).toBe(true);
    const request = await rq.getRequest(added.requestId);
    expect(request?.url).toBe('http://127.0.0.1/a');
    expect((await rq.listHead()).items.map((r) => r.id)).toEqual([added.requestId]);
    await rq.updateRequest({ ...request!, handledAt: new Date().toISOString() });
    expect((await rq.listHead()).items).toEqual([]);
    expect((await rq.get())?.handledRequestCount).toBe(1);
    await rq.deleteRequest(added.requestId);
    expect(await rq.getRequest(added.requestId)).toBeUndefined();
    expect((await client(bob.accessToken).requestQueue(queue.id).get())?.id).toBe(queue.id);
    await expect(
      client(bob.accessToken)
        .requestQueue(queue.id)
        .addRequest({ url: 'http://127.0.0.1/b', uniqueKey: 'b' }),
    ).rejects.toMatchObject({
      statusCode: 403,
    });
    await rq.delete();
    expect(await rq.get()).toBeUndefined();
  });

  it('builds and runs: listed for the account and per Actor, each got by id', async () => {
    const owner = client(alice.accessToken);
    const actor = await owner.actors().create({ name: uniqueName('act') });
    const build = await owner.actor(actor.id).build('0.0');
    const run = await owner.actor(actor.id).start();
    expect((await owner.builds().list()).items.map((b) => b.id)).toContain(build.id);
    expect((await owner.actor(actor.id).builds().list()).items.map((b) => b.id)).toContain(build.id);
    expect((await owner.build(build.id).get())?.actId).toBe(actor.id);
    expect((await owner.runs().list()).items.map((r) => r.id)).toContain(run.id);
    expect((await owner.actor(actor.id).runs().list()).items.map((r) => r.id)).toContain(run.id);
    expect((await owner.run(run.id).get())?.actId).toBe(actor.id);
    // Runs and builds follow the account's general access (anyone with the id may read), not writable.
    expect((await client(bob.accessToken).run(run.id).get())?.id).toBe(run.id);
    await expect(client(bob.accessToken).run(run.id).abort()).rejects.toMatchObject({ statusCode: 403 });
    expect((await client(alice.accessToken).user('me').get())?.username).toBe(alice.username);
    await restrictResourceAccess(t, alice);
    expect(await client(bob.accessToken).run(run.id).get()).toBeUndefined();
    expect(await client(bob.accessToken).build(build.id).get()).toBeUndefined();
  });
});
