import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, uniqueName } from '@atrium/testing';
import {
  createActor,
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from '../../atrium/test/test-stack';
import { CliResult } from './cli-harness';
import {
  CRAWLEE_ACTOR,
  isAlive,
  RECORDING_COMMAND,
  spawnCli,
  startProxy,
  startSite,
  waitForOutput,
} from './runner-harness';

const PAGES = 20;

/**
 * `atrium run`: a run started and executed here, the command given the platform's environment
 * with the lease's run token, its output in the terminal and the run's log, and the run finished
 * by how the command ended (exit code, timeout, Ctrl+C, an abort through the API).
 */
describe('atrium run (the CLI as a subprocess)', () => {
  let t: TestStack & { baseUrl: string };
  let site: Awaited<ReturnType<typeof startSite>>;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let actorId: string;
  let actorName: string;
  let dir: string;
  const as = (user: SignedUpUser) => ({ ATRIUM_URL: t.baseUrl, ATRIUM_TOKEN: user.accessToken });
  const atrium = (user: SignedUpUser, args: string[], env: Record<string, string> = {}) =>
    spawnCli(args, { ...as(user), ...env });
  const run = (user: SignedUpUser, args: string[], env: Record<string, string> = {}) =>
    atrium(user, args, env).result;
  const runIdOf = (out: { stderr: string } | string) =>
    /Run (\w{17}) started/.exec(typeof out === 'string' ? out : out.stderr)![1];
  const getRun = async (id: string) =>
    (await t.http().get(`/v2/actor-runs/${id}`).set(alice.auth).expect(200)).body.data;
  const expectOneLine = (out: CliResult) => {
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/^atrium: /);
  };

  beforeAll(async () => {
    site = await startSite(PAGES);
    t = await startListeningTestStack();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
    await restrictResourceAccess(t, alice);
    actorName = uniqueName('crawler');
    actorId = await createActor(t, alice, { name: actorName });
    dir = mkdtempSync(join(tmpdir(), 'atrium-run-spec-'));
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await new Promise((done) => site?.server.close(done));
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('executes the unmodified SDK + Crawlee Actor: SUCCEEDED, its dataset filled, its output in the terminal and the log', async () => {
    const input = join(dir, 'input.json');
    writeFileSync(input, JSON.stringify({ startUrl: `${site.origin}/page/0` }));
    const startedAt = Date.now();
    const out = await run(alice, [
      'run',
      `${alice.username}/${actorName}`,
      '--input',
      input,
      '--',
      process.execPath,
      CRAWLEE_ACTOR,
    ]);
    const seconds = (Date.now() - startedAt) / 1000;
    if (out.code !== 0) throw new Error(`atrium run exited ${out.code}:\n${out.stdout}\n${out.stderr}`);
    const runId = runIdOf(out);
    expect(out.stderr).toContain(`${t.baseUrl}/actors/runs/${runId}`);
    expect(out.stderr).toMatch(new RegExp(`Run ${runId} SUCCEEDED`));
    // The crawler's own output reached the terminal…
    expect(out.stdout + out.stderr).toMatch(/requestsFinished/);

    const finished = await getRun(runId);
    expect(finished).toMatchObject({ status: 'SUCCEEDED', actId: actorId, userId: alice.id });
    const items = await t
      .http()
      .get(`/v2/datasets/${finished.defaultDatasetId}/items`)
      .set(alice.auth)
      .expect(200);
    expect(items.body).toHaveLength(PAGES);
    // …and the run's log, after the lease's line and before the finish.
    const log = (await t.http().get(`/v2/actor-runs/${runId}/log`).set(alice.auth).expect(200)).text;
    expect(log).toMatch(/Run taken by worker .+ \(attempt 1 of 2\)/);
    expect(log).toMatch(/requestsFinished/);
    expect(log.indexOf('requestsFinished')).toBeLessThan(log.indexOf('finished the run: SUCCEEDED'));
    // Every line starts with its time, as on Apify: apify-client's streamed log (call()) keeps only such lines.
    for (const line of log.trimEnd().split('\n'))
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    console.log(`atrium run of the Crawlee Actor (${PAGES} pages): ${seconds.toFixed(1)} s end to end`);
  }, 180_000);

  it("gives the command the lease's run token and never the CLI's own token; the token stops working with the run", async () => {
    const record = join(dir, 'env.jsonl');
    const out = await run(alice, ['run', actorId, '--', process.execPath, RECORDING_COMMAND], {
      RECORD_FILE: record,
    });
    expect(out.code).toBe(0);
    const [start] = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(start.hasAtriumToken).toBe(false);
    expect(start.atriumVariables).toEqual([]);
    expect(start.apifyToken).toMatch(/^atrium_run_/);
    expect(start.apifyToken).not.toBe(alice.accessToken);
    expect(start.runId).toBe(runIdOf(out));
    // The run has finished: its lease's token no longer works.
    await t
      .http()
      .get(`/v2/actor-runs/${start.runId}`)
      .set('authorization', `Bearer ${start.apifyToken}`)
      .expect(401);
  }, 60_000);

  it("--json: stdout is the finished run alone (the command's output goes to stderr), also when it fails", async () => {
    const ok = await run(alice, [
      '--json',
      'run',
      actorId,
      '--',
      process.execPath,
      '-e',
      'console.log("to stderr")',
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ actId: actorId, status: 'SUCCEEDED' });
    expect(ok.stderr).toContain('to stderr');
    const failed = await run(alice, [
      '--json',
      'run',
      actorId,
      '--',
      process.execPath,
      '-e',
      'process.exit(4)',
    ]);
    expect(failed.code).toBe(4);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      status: 'FAILED',
      statusMessage: 'Exited with code 4',
    });
  }, 60_000);

  it('runs a task (by username~name): its Actor, with ACTOR_TASK_ID and the task input merged', async () => {
    const taskName = uniqueName('task');
    const task = (
      await t
        .http()
        .post('/v2/actor-tasks')
        .set(alice.auth)
        .send({ actId: actorId, name: taskName, input: { fromTask: 1 } })
        .expect(201)
    ).body.data;
    const input = join(dir, 'task-input.json');
    writeFileSync(input, JSON.stringify({ fromRun: 2 }));
    const show =
      'console.log(JSON.stringify({ task: process.env.ACTOR_TASK_ID, actor: process.env.ACTOR_ID }))';
    const out = await run(alice, [
      'run',
      `${alice.username}~${taskName}`,
      '--input',
      input,
      '--',
      process.execPath,
      '-e',
      show,
    ]);
    expect(out.code).toBe(0);
    expect(JSON.parse(/\{"task".*\}/.exec(out.stdout)![0])).toEqual({ task: task.id, actor: actorId });
    const finished = await getRun(runIdOf(out));
    expect(finished).toMatchObject({ actorTaskId: task.id, status: 'SUCCEEDED' });
    const stored = await t
      .http()
      .get(`/v2/key-value-stores/${finished.defaultKeyValueStoreId}/records/INPUT`)
      .set(alice.auth)
      .expect(200);
    expect(stored.body).toEqual({ fromTask: 1, fromRun: 2 });
  }, 60_000);

  it('a failing command: FAILED with its exit code, passed on', async () => {
    const out = await run(alice, [
      'run',
      actorId,
      '--',
      process.execPath,
      '-e',
      'console.error("boom"); process.exit(3)',
    ]);
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/boom/);
    expect(out.stderr).toMatch(/FAILED: Exited with code 3/);
    expect(await getRun(runIdOf(out))).toMatchObject({
      status: 'FAILED',
      statusMessage: 'Exited with code 3',
    });
  }, 60_000);

  it('a run past its timeout: TIMED-OUT, exit 124', async () => {
    const out = await run(alice, [
      'run',
      actorId,
      '--timeout',
      '2',
      '--',
      process.execPath,
      '-e',
      'setInterval(() => {}, 1000)',
    ]);
    expect(out.code).toBe(124);
    expect(await getRun(runIdOf(out))).toMatchObject({ status: 'TIMED-OUT', options: { timeoutSecs: 2 } });
  }, 60_000);

  it('an abort through the API stops the process: ABORTED, exit 130', async () => {
    const cli = atrium(alice, [
      'run',
      actorId,
      '--lease-secs',
      '10',
      '--',
      process.execPath,
      '-e',
      'console.log("working"); setInterval(() => {}, 1000)',
    ]);
    await waitForOutput(cli, (all) => all.includes('working'));
    const runId = runIdOf(cli.stderr());
    const abortedAt = Date.now();
    await t.http().post(`/v2/actor-runs/${runId}/abort`).set(alice.auth).expect(200);
    const out = await cli.result;
    console.log(`abort through the API → the runner's process stopped in ${Date.now() - abortedAt} ms`);
    expect(out.code).toBe(130);
    expect(await getRun(runIdOf(out))).toMatchObject({ status: 'ABORTED' });
  }, 60_000);

  it('Ctrl+C (SIGINT to the CLI): ABORTED, exit 130, the process stopped', async () => {
    const cli = atrium(alice, [
      'run',
      actorId,
      '--',
      process.execPath,
      '-e',
      'console.log("pid " + process.pid); setInterval(() => {}, 1000)',
    ]);
    await waitForOutput(cli, (all) => /pid \d+/.test(all));
    const pid = Number(/pid (\d+)/.exec(cli.stdout())![1]);
    cli.child.kill('SIGINT');
    const out = await cli.result;
    expect(out.code).toBe(130);
    expect(await getRun(runIdOf(out))).toMatchObject({ status: 'ABORTED' });
    expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);

  it('Atrium unreachable until the lease runs out: the process is killed (it may be executed elsewhere now), exit 1', async () => {
    const proxy = await startProxy(t.baseUrl);
    const cli = atrium(
      alice,
      [
        'run',
        actorId,
        '--lease-secs',
        '10',
        '--',
        process.execPath,
        '-e',
        'console.log("pid " + process.pid); setInterval(() => {}, 1000)',
      ],
      { ATRIUM_URL: proxy.url },
    );
    await waitForOutput(cli, (all) => /pid \d+/.test(all));
    const pid = Number(/pid (\d+)/.exec(cli.stdout())![1]);
    const runId = runIdOf(cli.stderr());
    await proxy.cut();
    const cutAt = Date.now();
    const out = await cli.result;
    const stoppedAfterMs = Date.now() - cutAt;
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/lease/);
    expect(isAlive(pid)).toBe(false);
    expect(stoppedAfterMs).toBeLessThan(10_000);
    // Atrium gives the run back to READY for another worker once the lease has run out.
    const current = await eventually(
      async () => {
        const found = await getRun(runId);
        expect(found.status).toBe('READY');
        return found;
      },
      10_000,
      200,
    );
    expect(current.status).toBe('READY');
    console.log(
      `Atrium unreachable: the runner killed its process ${stoppedAfterMs} ms after the cut (lease 10 s)`,
    );
  }, 60_000);

  it('a run some worker took first: says so and follows its log to the end', async () => {
    const contested = await createActor(t, alice, { name: uniqueName('contested') });
    const worker = atrium(alice, [
      'worker',
      '--actor',
      contested,
      '--',
      process.execPath,
      '-e',
      'console.log("the worker executed it")',
    ]);
    await waitForOutput(worker, (all) => all.includes('is waiting for runs'));
    // This CLI's claim reaches Atrium 2 s late: the worker (polling every 250 ms) takes the run first.
    const slowClaims = await startProxy(t.baseUrl, (chunk) =>
      chunk.includes('POST /v2/actor-runs/claim') ? 2000 : 0,
    );
    const out = await run(
      alice,
      ['run', contested, '--', process.execPath, '-e', 'console.log("not here")'],
      {
        ATRIUM_URL: slowClaims.url,
      },
    );
    await slowClaims.cut();
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/was taken by another worker: following its log/);
    expect(out.stdout).toMatch(/the worker executed it/);
    expect(out.stdout + out.stderr).not.toMatch(/not here/);
    expect(out.stderr).toMatch(/SUCCEEDED/);
    worker.child.kill('SIGINT');
    expect((await worker.result).code).toBe(0);
  }, 60_000);

  it('atrium runs ls, get, log and abort', async () => {
    const done = await run(alice, [
      'run',
      actorId,
      '--',
      process.execPath,
      '-e',
      'console.log("listed run")',
    ]);
    const runId = runIdOf(done);
    const ls = await run(alice, ['runs', 'ls', '--actor', actorId, '--limit', '3']);
    expect(ls.code).toBe(0);
    expect(ls.stdout.split('\n')[0]).toMatch(/^ID\s+ACTOR\s+STATUS/);
    expect(ls.stdout).toContain(runId);
    const get = await run(alice, ['runs', 'get', runId, '--json']);
    expect(JSON.parse(get.stdout)).toMatchObject({ id: runId, status: 'SUCCEEDED' });
    const log = await run(alice, ['runs', 'log', runId, '--follow']);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(/listed run/);

    const ready = (await t.http().post(`/v2/acts/${actorId}/runs`).set(alice.auth).expect(201)).body.data;
    const abort = await run(alice, ['runs', 'abort', ready.id]);
    expect(abort.stdout).toContain(`Run ${ready.id} ABORTED`);
    const missing = await run(alice, ['runs', 'get', 'aaaaaaaaaaaaaaaaa']);
    expect(missing.code).toBe(5);
  }, 60_000);

  it('bad input: unknown Actor exit 5, not allowed 4/5, unreadable input 2, --json prints the error object', async () => {
    const unknown = await run(alice, ['run', `${alice.username}/no-such-actor`, '--', 'true']);
    expect(unknown.code).toBe(5);
    expectOneLine(unknown);

    // Alice's Actor is not visible to Bob (her resources are restricted): not found to him.
    const denied = await run(bob, ['run', actorId, '--', 'true']);
    expect([4, 5]).toContain(denied.code);
    expectOneLine(denied);

    const unreadable = await run(alice, ['run', actorId, '--input', join(dir, 'missing.json'), '--', 'true']);
    expect(unreadable.code).toBe(2);
    expectOneLine(unreadable);
    expect(unreadable.stderr).toMatch(/--input.*ENOENT/);
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, '{ not json');
    const notJson = await run(alice, ['run', actorId, '--input', invalid, '--', 'true']);
    expect(notJson.code).toBe(2);
    expectOneLine(notJson);

    const json = await run(bob, ['run', actorId, '--json', '--', 'true']);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { type: 'record-not-found', message: expect.any(String) },
    });
    const noRun = await run(alice, ['runs', 'get', 'nosuchrun']);
    expect(noRun.code).toBe(5);
    expectOneLine(noRun);
    expect(noRun.stderr).toMatch(/^atrium: No run "nosuchrun" \(or none you can see\)$/m);
    const missingCommand = await run(alice, ['run', actorId]);
    expect(missingCommand.code).toBe(2);
  }, 60_000);
});
