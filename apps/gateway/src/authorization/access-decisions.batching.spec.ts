import { AppError, CheckResult, PermissionsRpc, RpcRoute } from '@atrium/contracts';
import { EventBus, RpcClient } from '@atrium/messaging';
import { AccessDecisions, WIDENABLE_TTL_MS } from './access-decisions';
import { ChangeVersions } from './kept-reads';

/** Versions never known: every kept read runs out WIDENABLE_TTL_MS after it was asked. */
const unknownVersions = () =>
  new ChangeVersions({ call: () => new Promise(() => undefined) } as unknown as RpcClient);

/** Cache misses beyond the requests on their way go together in one `checkMany`. */
describe('AccessDecisions batching of cache misses', () => {
  const decision = (resourceRef: string, allowed = true): CheckResult =>
    ({
      resourceId: resourceRef,
      resourceType: 'DATASET',
      allowed,
      canRead: true,
      // Allowed: all a dataset has, kept however long the test takes (a partial one is kept 20 ms).
      permissions: allowed ? ['READ', 'WRITE', 'MANAGE_ACCESS'] : [],
      rule: 'grant',
      validUntil: null,
    }) as CheckResult;

  interface Call {
    route: RpcRoute;
    payload: { resourceRef?: string; checks?: { resourceRef: string }[] };
    answer(result: unknown): void;
    fail(err: unknown): void;
  }
  let calls: Call[];
  let access: AccessDecisions;

  beforeEach(async () => {
    // A faked clock: whether an answer on its way is shared depends on how long ago it was asked
    // (WIDENABLE_TTL_MS), and a loaded machine's pause must not change what a test sees.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    calls = [];
    const rpc = {
      call: jest.fn(
        (route: RpcRoute, payload: Call['payload']) =>
          new Promise((answer, fail) => calls.push({ route, payload, answer, fail })),
      ),
    } as unknown as RpcClient;
    const bus = {
      connected: true,
      onConnectionChange: () => undefined,
      subscribeBroadcast: async () => undefined,
    } as unknown as EventBus;
    access = new AccessDecisions(rpc, bus, unknownVersions());
    await access.onModuleInit();
  });
  afterEach(() => {
    access.onModuleDestroy();
    jest.useRealTimers();
  });

  const check = (ref: string, userId = 'guest') => access.check({ userId }, 'DATASET', ref, 'READ');
  /** Each asked after the one before was sent (misses asked together go in one request). */
  const oneByOne = async (refs: string[]) => {
    const asked: Promise<CheckResult>[] = [];
    for (const ref of refs) {
      asked.push(check(ref));
      await null; // the send, scheduled as a microtask, goes first
    }
    return asked;
  };
  const answerSingle = (call: Call) => call.answer(decision(call.payload.resourceRef!));
  const answerMany = (call: Call) => call.answer(call.payload.checks!.map((c) => decision(c.resourceRef)));

  it('asks at once while few checks are out, then batches the rest (each answer to its request)', async () => {
    const first = await oneByOne(['a', 'b', 'c', 'd']);
    expect(calls.map((c) => c.route)).toEqual(Array(4).fill(PermissionsRpc.check));
    const queued = ['e', 'f', 'g'].map((ref) => check(ref));
    expect(calls).toHaveLength(4); // waiting for one to come back

    answerSingle(calls[0]);
    await first[0];
    await new Promise(setImmediate);
    expect(calls).toHaveLength(5);
    expect(calls[4].route).toBe(PermissionsRpc.checkMany);
    expect(calls[4].payload.checks!.map((c) => c.resourceRef)).toEqual(['e', 'f', 'g']);
    answerMany(calls[4]);
    expect((await Promise.all(queued)).map((r) => r.resourceId)).toEqual(['e', 'f', 'g']);

    calls.slice(1, 4).forEach(answerSingle);
    expect((await Promise.all(first)).map((r) => r.resourceId)).toEqual(['a', 'b', 'c', 'd']);
    // Cached now: no further request.
    await check('f');
    expect(calls).toHaveLength(5);
  });

  it('asks the first miss of a synchronous run at once, and the rest of it (a listing) together', async () => {
    const listed = Array.from({ length: 10 }, (_, i) => check(`item-${i}`));
    expect(calls.map((c) => c.route)).toEqual([PermissionsRpc.check]);
    await null; // the run is done
    expect(calls.map((c) => c.route)).toEqual([PermissionsRpc.check, PermissionsRpc.checkMany]);
    expect(calls[1].payload.checks!.map((c) => c.resourceRef)).toEqual(
      listed.slice(1).map((_, i) => `item-${i + 1}`),
    );
    answerSingle(calls[0]);
    answerMany(calls[1]);
    expect((await Promise.all(listed)).map((r) => r.resourceId)).toEqual(listed.map((_, i) => `item-${i}`));
  });

  it('shares a waiting check between identical requests; one already sent only if access did not change since', async () => {
    const sent = await oneByOne(['a', 'b', 'c', 'd']);
    const joined = check('b'); // 'b' is on its way and nothing changed: its answer is shared
    access.changed('a');
    const again = check('a'); // 'a' is on its way, but access changed since: asked again, with the next batch
    const twice = [check('x'), check('x')];
    answerSingle(calls[1]);
    await sent[1];
    expect((await joined).resourceId).toBe('b');
    await new Promise(setImmediate);
    expect(calls[4].payload.checks!.map((c) => c.resourceRef)).toEqual(['a', 'x']);
    answerMany(calls[4]);
    expect((await again).resourceId).toBe('a');
    expect((await Promise.all(twice)).map((r) => r.resourceId)).toEqual(['x', 'x']);
    [0, 2, 3].forEach((i) => answerSingle(calls[i]));
    await Promise.all(sent);
  });

  it('shares an answer on its way only while the cache would keep it, and WIDENABLE_TTL_MS at most', async () => {
    const sent = await oneByOne(['a', 'b', 'c', 'd']);
    const joined = check('a');
    // Not found (the cache keeps no such answer): the request that joined asks again itself.
    calls[0].answer({ ...decision('a'), canRead: false, allowed: false, resourceId: null, permissions: [] });
    expect((await sent[0]).canRead).toBe(false);
    await new Promise(setImmediate);
    expect(calls[4].payload.resourceRef).toBe('a');
    answerSingle(calls[4]);
    expect((await joined).canRead).toBe(true);
    // Asked longer ago than a decision a change could widen is kept: asked again.
    jest.advanceTimersByTime(WIDENABLE_TTL_MS + 5);
    const late = check('b');
    await null;
    expect(calls).toHaveLength(6);
    [1, 2, 3].forEach((i) => answerSingle(calls[i]));
    answerSingle(calls[5]);
    await Promise.all([...sent.slice(1), late]);
  });

  it('fails a request that shared an answer on its way when that check fails (closed, never allowed)', async () => {
    const sent = await oneByOne(['a', 'b', 'c', 'd']);
    const joined = check('a');
    calls[0].fail(new AppError('service-unavailable', 'permissions down'));
    await expect(sent[0]).rejects.toThrow('permissions down');
    await expect(joined).rejects.toThrow('permissions down');
    [1, 2, 3].forEach((i) => answerSingle(calls[i]));
    await Promise.all(sent.slice(1));
  });

  it('asks each check of a batch alone when the service answered the batch with an error', async () => {
    const sent = await oneByOne(['a', 'b', 'c', 'd']);
    const queued = [check('e'), check('f')];
    answerSingle(calls[0]);
    await sent[0];
    await new Promise(setImmediate);
    calls[4].fail(new AppError('internal-error', 'Internal error'));
    await new Promise(setImmediate);
    const alone = calls.slice(5);
    expect(alone.map((c) => [c.route, c.payload.resourceRef])).toEqual([
      [PermissionsRpc.check, 'e'],
      [PermissionsRpc.check, 'f'],
    ]);
    alone[0].fail(new AppError('internal-error', 'Internal error'));
    answerSingle(alone[1]);
    await expect(queued[0]).rejects.toThrow('Internal error');
    expect((await queued[1]).resourceId).toBe('f');
    [1, 2, 3].forEach((i) => answerSingle(calls[i]));
    await Promise.all(sent);
  });

  it('fails every request of a batch that was not answered (closed, never allowed)', async () => {
    const sent = await oneByOne(['a', 'b', 'c', 'd']);
    const queued = [check('e'), check('f')];
    calls[0].fail(new AppError('service-unavailable', 'permissions down'));
    await expect(sent[0]).rejects.toThrow('permissions down');
    await new Promise(setImmediate);
    calls[4].fail(new AppError('service-unavailable', 'permissions down'));
    for (const q of queued) await expect(q).rejects.toThrow('permissions down');
    // A batch answered with the wrong number of decisions is refused too.
    const [filler] = await oneByOne(['z']); // four out again
    const more = [check('g'), check('h')];
    answerSingle(calls.at(-1)!);
    await filler;
    await new Promise(setImmediate);
    const pending = calls.at(-1)!;
    expect(pending.route).toBe(PermissionsRpc.checkMany);
    expect(pending.payload.checks).toHaveLength(2);
    pending.answer([decision('g')]);
    for (const m of more) await expect(m).rejects.toThrow('another batch');
    [1, 2, 3].forEach((i) => answerSingle(calls[i]));
    await Promise.all(sent.slice(1));
  });
});
