import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import {
  createActor,
  FAIL_FAST,
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from '../../atrium/test/test-stack';
import {
  CliProcess,
  CRAWLEE_ACTOR,
  isAlive,
  RECORDING_COMMAND,
  spawnCli,
  startSite,
  waitForOutput,
} from './runner-harness';

const PAGES = 10;

interface ExecutionRecord {
  event: 'start' | 'end';
  pid: number;
  at: number;
  runId: string;
  apifyToken: string;
}

/**
 * `atrium worker` and the lease API behind it: runs started elsewhere (apify-client's `call()`)
 * executed by a worker; a worker SIGKILLed mid-run leaves no process behind and its run is
 * retried once by another; a run whose worker is lost twice fails; who may claim what.
 */
describe('atrium worker and run leases (the CLI as a subprocess)', () => {
  let t: TestStack & { baseUrl: string };
  let site: Awaited<ReturnType<typeof startSite>>;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let dir: string;
  const workers: CliProcess[] = [];
  const worker = (user: SignedUpUser, args: string[], env: Record<string, string> = {}) => {
    const cli = spawnCli(['worker', ...args], {
      ATRIUM_URL: t.baseUrl,
      ATRIUM_TOKEN: user.accessToken,
      ...env,
    });
    workers.push(cli);
    return cli;
  };
  const startRun = async (user: SignedUpUser, actorId: string, body: object = {}) =>
    (await t.http().post(`/v2/acts/${actorId}/runs`).set(user.auth).send(body).expect(201)).body.data;
  const getRun = async (id: string) =>
    (await t.http().get(`/v2/actor-runs/${id}`).set(alice.auth).expect(200)).body.data;
  const logOf = async (id: string) =>
    (await t.http().get(`/v2/actor-runs/${id}/log`).set(alice.auth).expect(200)).text;
  const claim = (user: { auth: Record<string, string> } | string, body: object) =>
    t
      .http()
      .post('/v2/actor-runs/claim')
      .set(typeof user === 'string' ? { authorization: `Bearer ${user}` } : user.auth)
      .send(body);
  const records = (file: string): ExecutionRecord[] =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line))
      : [];

  beforeAll(async () => {
    site = await startSite(PAGES);
    // Claims fail closed while the permissions service is stopped: answered after 3 s, not 15.
    t = await startListeningTestStack(FAIL_FAST);
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
    await restrictResourceAccess(t, alice);
    dir = mkdtempSync(join(tmpdir(), 'atrium-worker-spec-'));
  }, 120_000);
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await t?.close();
    await new Promise((done) => site?.server.close(done));
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("apify-client's actor.call() returns a SUCCEEDED run executed by an atrium worker; Ctrl+C stops the worker", async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('crawler') });
    const w = worker(alice, ['--actor', actorId, '--', process.execPath, CRAWLEE_ACTOR]);
    await waitForOutput(w, (all) => all.includes('is waiting for runs'));
    const client = new ApifyClient({ baseUrl: t.baseUrl, token: alice.accessToken, maxRetries: 0 });
    const startedAt = Date.now();
    const run = await client
      .actor(actorId)
      .call({ startUrl: `${site.origin}/page/0` }, { waitSecs: 120, log: null });
    console.log(
      `apify-client call() through an atrium worker: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    expect(run).toMatchObject({ status: 'SUCCEEDED' });
    const { items } = await client.dataset(run!.defaultDatasetId).listItems();
    expect(items).toHaveLength(PAGES);
    expect(await logOf(run!.id)).toMatch(/requestsFinished/);

    w.child.kill('SIGINT');
    const out = await w.result;
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/stopped/);
  }, 180_000);

  it('Ctrl+C once: the worker claims no more and lets its run finish; twice: its runs are aborted (exit 130)', async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('drained') });
    const file = join(dir, 'drain.jsonl');
    const args = ['--actor', actorId, '--concurrency', '2', '--', process.execPath, RECORDING_COMMAND];
    const draining = worker(alice, args, { RECORD_FILE: file, SLEEP_MS: '2000' });
    await waitForOutput(draining, (all) => all.includes('is waiting for runs'));
    const finishing = await startRun(alice, actorId);
    await waitForOutput(draining, (all) => all.includes(`executing ${finishing.id}`));
    draining.child.kill('SIGINT');
    const drained = await draining.result;
    expect(drained.code).toBe(0);
    expect((await getRun(finishing.id)).status).toBe('SUCCEEDED');
    // A run started after the worker stopped claiming stays READY for another worker.
    const waiting = await startRun(alice, actorId);

    const aborting = worker(alice, args, { RECORD_FILE: file, SLEEP_MS: '60000' });
    await waitForOutput(aborting, (all) => all.includes(`executing ${waiting.id}`));
    aborting.child.kill('SIGINT');
    await waitForOutput(aborting, (all) => all.includes('stops claiming'));
    aborting.child.kill('SIGINT');
    const aborted = await aborting.result;
    expect(aborted.code).toBe(130);
    expect(await getRun(waiting.id)).toMatchObject({ status: 'ABORTED' });
    const pids = records(file).map((r) => r.pid);
    expect(pids.filter(isAlive)).toEqual([]);
  }, 60_000);

  it('two workers, one SIGKILLed mid-run: its process dies at once, the other retries the run once, one terminal status', async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('retried') });
    const file = join(dir, 'kill.jsonl');
    const env = { RECORD_FILE: file, SLEEP_MS: '6000' };
    const args = (name: string) => [
      '--actor',
      actorId,
      '--lease-secs',
      '10',
      '--name',
      name,
      '--',
      process.execPath,
      RECORDING_COMMAND,
    ];
    const first = worker(alice, args('first'), env);
    await waitForOutput(first, (all) => all.includes('is waiting for runs'));
    const run = await startRun(alice, actorId);
    const [started] = await eventually(async () => {
      const found = records(file);
      expect(found).toHaveLength(1);
      return found;
    }, 20_000);
    const second = worker(alice, args('second'), env);
    await waitForOutput(second, (all) => all.includes('is waiting for runs'));

    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    // The watchdog kills the run's process group as soon as the worker is gone.
    await eventually(async () => expect(isAlive(started.pid)).toBe(false), 2000, 10);
    const diedAfterMs = Date.now() - killedAt;
    const lostToken = started.apifyToken;

    const finished = await eventually(
      async () => {
        const current = await getRun(run.id);
        expect(current.status).toBe('SUCCEEDED');
        return current;
      },
      40_000,
      250,
    );
    const all = records(file);
    const retried = all.filter((r) => r.event === 'start' && r.pid !== started.pid);
    expect(retried).toHaveLength(1);
    expect(all.filter((r) => r.event === 'end').map((r) => r.pid)).toEqual([retried[0].pid]);
    // The two executions never overlapped: the retry began after the first one's process was gone.
    expect(retried[0].at).toBeGreaterThan(killedAt + diedAfterMs);
    console.log(
      `worker SIGKILLed: its process died after ${diedAfterMs} ms; the other worker started the run ${retried[0].at - killedAt} ms after the kill (lease 10 s)`,
    );

    const log = await logOf(run.id);
    expect(log).toMatch(/Worker first stopped renewing its lease \(attempt 1 of 2\): the run is READY again/);
    expect(log).toMatch(/Run taken by worker second \(attempt 2 of 2\)/);
    expect(log.match(/finished the run:/g)).toHaveLength(1);
    expect(finished.finishedAt).toEqual(expect.any(String));
    // The lost lease's token is refused; the retry's token was a new one.
    expect(retried[0].apifyToken).not.toBe(lostToken);
    await t.http().get(`/v2/actor-runs/${run.id}`).set('authorization', `Bearer ${lostToken}`).expect(401);

    second.child.kill('SIGINT');
    expect((await second.result).code).toBe(0);
  }, 90_000);

  it('a run whose worker is lost twice ends FAILED; a lost lease can neither renew, finish nor write', async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('lost') });
    const run = await startRun(alice, actorId);
    const claimedAt = Date.now();
    const first = (await claim(alice, { runId: run.id, worker: 'w1', leaseSecs: 10 }).expect(200)).body.data;
    const latencyMs = Date.now() - claimedAt;
    expect(first).toMatchObject({
      run: { id: run.id, status: 'RUNNING', consoleUrl: expect.stringContaining(run.id) },
      runToken: expect.stringMatching(/^atrium_run_/),
      lease: { id: expect.any(String), expiresAt: expect.any(String), attempt: 1 },
    });
    // While it holds, the lease's token writes to the run's log.
    await t
      .http()
      .post(`/v2/actor-runs/${run.id}/log`)
      .set('authorization', `Bearer ${first.runToken}`)
      .set('content-type', 'text/plain')
      .send('hello from w1\n')
      .expect(204);
    await t
      .http()
      .post(`/v2/actor-runs/${run.id}/lease`)
      .set(alice.auth)
      .send({ leaseId: first.lease.id, leaseSecs: 10 })
      .expect(200);

    await eventually(async () => expect((await getRun(run.id)).status).toBe('READY'), 15_000, 200);
    const lostAfterMs = Date.now() - claimedAt;
    await t
      .http()
      .get(`/v2/actor-runs/${run.id}`)
      .set('authorization', `Bearer ${first.runToken}`)
      .expect(401);
    const renew = await t
      .http()
      .post(`/v2/actor-runs/${run.id}/lease`)
      .set(alice.auth)
      .send({ leaseId: first.lease.id })
      .expect(409);
    expect(renew.body.error.type).toBe('lease-lost');

    const second = (await claim(alice, { runId: run.id, worker: 'w2', leaseSecs: 10 }).expect(200)).body.data;
    expect(second.lease.attempt).toBe(2);
    // Fencing: the first lease cannot finish the run the second one holds.
    await t
      .http()
      .post(`/v2/actor-runs/${run.id}/finish`)
      .set(alice.auth)
      .send({ leaseId: first.lease.id, status: 'SUCCEEDED' })
      .expect(409);
    const failed = await eventually(
      async () => {
        const current = await getRun(run.id);
        expect(current.status).toBe('FAILED');
        return current;
      },
      15_000,
      200,
    );
    expect(failed.statusMessage).toMatch(/worker was lost 2 times/);
    const log = await logOf(run.id);
    expect(log).toMatch(/hello from w1/);
    expect(log).toMatch(/Worker w1 stopped renewing its lease \(attempt 1 of 2\): the run is READY again/);
    expect(log).toMatch(/Worker w2 stopped renewing its lease \(attempt 2 of 2\): the run fails/);
    await t
      .http()
      .post(`/v2/actor-runs/${run.id}/log`)
      .set(alice.auth)
      .set('content-type', 'text/plain')
      .send('too late\n')
      .expect(409);
    console.log(
      `claim answered in ${latencyMs} ms; a 10 s lease not renewed was taken back after ${lostAfterMs} ms`,
    );

    // Resurrected, it waits for a runner (READY, no lease): the sweeper leaves it alone.
    await t.http().post(`/v2/actor-runs/${run.id}/resurrect`).set(alice.auth).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await getRun(run.id)).status).toBe('READY');
  }, 60_000);

  it('who may claim: RUN alone claims only your own runs, WRITE any; a token scoped to the Actor suffices, a run token cannot claim; bad bodies are 400', async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('shared') });
    await t
      .http()
      .post(`/v2/acts/${actorId}/access/grants`)
      .set(alice.auth)
      .send({ user: bob.username, permissions: ['RUN'] })
      .expect(201);
    const alicesRun = await startRun(alice, actorId);

    const byId = await claim(bob, { runId: alicesRun.id, worker: 'bob' });
    expect([403, 404]).toContain(byId.status);
    expect((await claim(bob, { actorIds: [actorId], worker: 'bob' }).expect(200)).body).toEqual({
      data: null,
    });
    const bobsRun = await startRun(bob, actorId);
    const bobs = (await claim(bob, { actorIds: [actorId], worker: 'bob' }).expect(200)).body.data;
    expect(bobs.run.id).toBe(bobsRun.id);
    // Alice may change the Actor: she may execute anyone's run of it (Bob's is taken already).
    const alices = (await claim(alice, { actorIds: [actorId], worker: 'alice' }).expect(200)).body.data;
    expect(alices.run.id).toBe(alicesRun.id);

    // A run set RUNNING by hand (PUT) is no runner's: not claimable, never swept back to READY.
    const byHand = await startRun(alice, actorId);
    await t.http().put(`/v2/actor-runs/${byHand.id}`).set(alice.auth).send({ status: 'RUNNING' }).expect(200);
    expect((await claim(alice, { runId: byHand.id, worker: 'x' }).expect(200)).body).toEqual({ data: null });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await getRun(byHand.id)).status).toBe('RUNNING');

    // A run token acts for its run, not as a runner.
    const another = await startRun(alice, actorId);
    expect((await claim(another.runToken, { runId: another.id, worker: 'x' })).status).toBe(403);
    expect((await claim(bobs.runToken, { actorIds: [actorId], worker: 'x' })).status).toBe(403);
    // A token scoped to the Actor (RUN) is enough to run your own runs of it; one scoped elsewhere is not.
    const scopedToken = async (resources: object[]) =>
      (
        await t
          .http()
          .post('/v2/users/me/tokens')
          .set(bob.auth)
          .send({ name: uniqueName('runner'), scope: { resources } })
          .expect(201)
      ).body.data.token as string;
    const runnerToken = await scopedToken([{ type: 'ACTOR', id: actorId, permissions: ['RUN'] }]);
    const elsewhereToken = await scopedToken([
      { type: 'DATASET', id: alicesRun.defaultDatasetId, permissions: ['READ'] },
    ]);
    const bobsNext = await startRun(bob, actorId);
    expect([403, 404]).toContain((await claim(elsewhereToken, { actorIds: [actorId], worker: 'x' })).status);
    const scoped = (await claim(runnerToken, { actorIds: [actorId], worker: 'scoped' }).expect(200)).body
      .data;
    expect(scoped.run.id).toBe(bobsNext.id);
    await t
      .http()
      .post(`/v2/actor-runs/${bobsNext.id}/finish`)
      .set('authorization', `Bearer ${runnerToken}`)
      .send({ leaseId: scoped.lease.id, status: 'SUCCEEDED' })
      .expect(200);

    // Nor may Bob renew or finish Alice's lease.
    await t
      .http()
      .post(`/v2/actor-runs/${alicesRun.id}/lease`)
      .set(bob.auth)
      .send({ leaseId: alices.lease.id })
      .expect(404);

    const both = await claim(alice, { actorIds: [actorId], runId: another.id, worker: 'x' }).expect(400);
    expect(both.body.error.message).toMatch(/actorIds/);
    expect(
      (await claim(alice, { actorIds: [actorId], worker: 'x', leaseSecs: 5 }).expect(400)).body.error.message,
    ).toMatch(/leaseSecs/);
    await claim(alice, { actorIds: [actorId], worker: '' }).expect(400);
    await claim(bob, { actorIds: [`${alice.username}~no-such-actor`], worker: 'x' }).expect(404);
    // Long poll: nothing to claim for the time asked, then `data: null`.
    const waitStarted = Date.now();
    const bobsOwn = await createActor(t, bob, { name: uniqueName('empty') });
    expect((await claim(bob, { actorIds: [bobsOwn], worker: 'x', waitSecs: 1 }).expect(200)).body).toEqual({
      data: null,
    });
    expect(Date.now() - waitStarted).toBeGreaterThanOrEqual(900);
  }, 60_000);

  it("a worker whose WRITE on the Actor is revoked loses its lease on the owner's run at its next renewal: 403, READY again, its token dead", async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('revoked') });
    const grant = (
      await t
        .http()
        .post(`/v2/acts/${actorId}/access/grants`)
        .set(alice.auth)
        .send({ user: bob.username, permissions: ['READ', 'WRITE'] })
        .expect(201)
    ).body.data;
    const run = await startRun(alice, actorId);
    const held = (await claim(bob, { actorIds: [actorId], worker: 'bob', leaseSecs: 600 }).expect(200)).body
      .data;
    expect(held.run.id).toBe(run.id);
    const lease = (body: object, path = 'lease') =>
      t
        .http()
        .post(`/v2/actor-runs/${run.id}/${path}`)
        .set(bob.auth)
        .send({ leaseId: held.lease.id, ...body });
    await lease({ leaseSecs: 600 }).expect(200);
    await t.http().delete(`/v2/acts/${actorId}/access/grants/${grant.id}`).set(alice.auth).expect(204);
    const refused = await lease({ leaseSecs: 600 }).expect(403);
    expect(refused.body.error.message).toContain('no longer execute this run');
    await eventually(async () => expect((await getRun(run.id)).status).toBe('READY'), 5000, 100);
    await t
      .http()
      .get(`/v2/actor-runs/${run.id}`)
      .set('authorization', `Bearer ${held.runToken}`)
      .expect(401);
    // Nor may it finish it (its lease is gone, and so is its right).
    expect([403, 409]).toContain((await lease({ status: 'SUCCEEDED' }, 'finish')).status);
    expect((await getRun(run.id)).status).toBe('READY');
  });

  it('a resurrected run that a runner executed is READY for a runner again, with its attempts anew', async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('again') });
    const started = await startRun(alice, actorId);
    const first = (await claim(alice, { runId: started.id, worker: 'w' }).expect(200)).body.data;
    await t
      .http()
      .post(`/v2/actor-runs/${started.id}/finish`)
      .set(alice.auth)
      .send({ leaseId: first.lease.id, status: 'FAILED' })
      .expect(200);
    const resurrected = await t
      .http()
      .post(`/v2/actor-runs/${started.id}/resurrect`)
      .set(alice.auth)
      .expect(200);
    expect(resurrected.body.data.status).toBe('READY');
    const again = (await claim(alice, { actorIds: [actorId], worker: 'w' }).expect(200)).body.data;
    expect(again.run.id).toBe(started.id);
    expect(again.lease.attempt).toBe(1);
    // The starter's audit log says who executed the run.
    await eventually(async () => {
      const audit = await t.http().get(`/v2/audit-log?resourceId=${started.id}`).set(alice.auth).expect(200);
      const actions = (audit.body.data.items as { action: string; after: { worker: string } }[]).map(
        (e) => `${e.action} ${e.after?.worker}`,
      );
      expect(actions).toEqual(expect.arrayContaining(['run.claimed w', 'run.finished w']));
    }, 10_000);
  });

  it('one account may hold at most 32 waiting claims at once; the rest get 429 at once', async () => {
    const empty = await createActor(t, bob, { name: uniqueName('idle') });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => claim(bob, { actorIds: [empty], worker: `w${i}`, waitSecs: 2 })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(32);
    expect(statuses.filter((s) => s === 429)).toHaveLength(8);
    expect(answers.find((a) => a.status === 429)!.body.error.message).toContain('body.waitSecs');
    // Not waiting, a claim is answered at once whatever else waits.
    await claim(bob, { actorIds: [empty], worker: 'now' }).expect(200);
  }, 30_000);

  it('claims at once never hand one run to two workers, and take the oldest first', async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('contended') });
    const started: string[] = [];
    for (let i = 0; i < 12; i++) started.push((await startRun(alice, actorId)).id);
    const claimAll = async (worker: string) => {
      const got: string[] = [];
      for (;;) {
        const data = (await claim(alice, { actorIds: [actorId], worker }).expect(200)).body.data;
        if (!data) return got;
        got.push(data.run.id);
      }
    };
    const t0 = Date.now();
    const byWorker = await Promise.all(['a', 'b', 'c', 'd'].map(claimAll));
    const claimed = byWorker.flat();
    expect([...claimed].sort()).toEqual([...started].sort());
    expect(new Set(claimed).size).toBe(started.length);
    // Each worker's runs come oldest first.
    for (const got of byWorker) expect(got).toEqual(started.filter((id) => got.includes(id)));
    console.log(`4 workers claimed 12 runs at once in ${Date.now() - t0} ms, each exactly once`);
  }, 60_000);

  it('claims fail closed: 503 while the permissions service is down, and the run stays READY', async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('closed') });
    const run = await startRun(alice, actorId);
    await t.stack.stopService('permissions');
    try {
      // The gateway stops serving cached decisions once the permissions heartbeat fails (≤ ~1 s).
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const byActor = await claim(alice, { actorIds: [actorId], worker: 'w' });
      expect(byActor.status).toBe(503);
      expect(byActor.body.error.type).toBe('service-unavailable');
      expect((await claim(alice, { runId: run.id, worker: 'w' })).status).toBe(503);
    } finally {
      await t.stack.startService('permissions');
    }
    await eventually(async () => expect((await getRun(run.id)).status).toBe('READY'), 10_000, 200);
    expect((await claim(alice, { runId: run.id, worker: 'w' }).expect(200)).body.data.run.id).toBe(run.id);
  }, 60_000);

  it("a run's log takes at most 1 MiB a request and 10 MiB in all, then one [log truncated] line", async () => {
    const actorId = await createActor(t, alice, { name: uniqueName('chatty') });
    const run = await startRun(alice, actorId);
    const token = (await claim(alice, { runId: run.id, worker: 'w' }).expect(200)).body.data.runToken;
    const append = (text: string) =>
      t
        .http()
        .post(`/v2/actor-runs/${run.id}/log`)
        .set('authorization', `Bearer ${token}`)
        .set('content-type', 'text/plain')
        .send(text);
    await append('x'.repeat(1024 * 1024 + 1)).expect(413);
    const mebibyte = `${'y'.repeat(1024 * 1024 - 1)}\n`;
    for (let i = 0; i < 11; i++) await append(mebibyte).expect(204);
    await append('after the cap\n').expect(204);
    const log = await logOf(run.id);
    expect(log.match(/\[log truncated\]/g)).toHaveLength(1);
    expect(log).not.toMatch(/after the cap/);
    expect(Buffer.byteLength(log)).toBeLessThan(10 * 1024 * 1024 + 1024);
  }, 60_000);
});
