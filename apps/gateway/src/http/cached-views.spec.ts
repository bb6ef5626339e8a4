import { DatasetsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { REFRESH_AHEAD_MS, WIDENABLE_TTL_MS } from '../authorization/access-decisions';
import { ChangeVersions } from '../authorization/kept-reads';
import { CachedViews, MAX_CACHED_VIEWS, reachesKeptReads } from './cached-views';

/** Versions never known: every kept read runs out WIDENABLE_TTL_MS after it was asked. */
const unknownVersions = () =>
  new ChangeVersions({ call: () => new Promise(() => undefined) } as unknown as RpcClient);

describe('CachedViews', () => {
  let asked: { id: string; answer(view: unknown): void; fail(err: Error): void }[];
  let views: CachedViews;
  let fetches: number;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    asked = [];
    fetches = 0;
    const rpc = {
      call: jest.fn(
        (_route: unknown, { id }: { id: string }) =>
          new Promise((answer, fail) => {
            fetches++;
            asked.push({ id, answer, fail });
          }),
      ),
    } as unknown as RpcClient;
    views = new CachedViews(rpc, unknownVersions());
  });
  afterEach(() => jest.useRealTimers());

  const get = (id = 'd1') => views.call(DatasetsRpc.get, { id }) as Promise<unknown>;
  const answerNext = (view: unknown) => asked.shift()!.answer(view);

  it('shares one fetch among the requests of WIDENABLE_TTL_MS, then fetches again', async () => {
    const first = get();
    const joined = get();
    expect(asked).toHaveLength(1);
    answerNext({ name: 'v1' });
    expect(await first).toEqual({ name: 'v1' });
    expect(await joined).toEqual({ name: 'v1' });

    jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS - 1);
    expect(await get()).toEqual({ name: 'v1' });
    expect(asked).toHaveLength(0);

    // Nothing is served that was asked for more than WIDENABLE_TTL_MS before (the write's settle).
    jest.advanceTimersByTime(REFRESH_AHEAD_MS + 2);
    const later = get();
    expect(asked).toHaveLength(1);
    answerNext({ name: 'v2' });
    expect(await later).toEqual({ name: 'v2' });
    expect(fetches).toBe(2);
  });

  it('renews a view in use before it runs out, and serves the renewal only while it is fresh', async () => {
    const first = get();
    answerNext({ name: 'v1' });
    await first;
    jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
    expect(await get()).toEqual({ name: 'v1' }); // still fresh: served, and renewed
    expect(asked).toHaveLength(1);
    expect(await get()).toEqual({ name: 'v1' }); // one renewal at a time
    expect(asked).toHaveLength(1);
    answerNext({ name: 'v2' });
    jest.advanceTimersByTime(REFRESH_AHEAD_MS);
    expect(await get()).toEqual({ name: 'v2' });
    expect(asked).toHaveLength(0);

    // A renewal older than WIDENABLE_TTL_MS is not served either.
    jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS);
    expect(await get()).toEqual({ name: 'v2' });
    expect(asked).toHaveLength(1); // renewal asked, not answered
    jest.advanceTimersByTime(WIDENABLE_TTL_MS * 2);
    const late = get();
    expect(asked).toHaveLength(2);
    asked.shift()!.answer({ name: 'stale renewal' });
    answerNext({ name: 'v3' });
    expect(await late).toEqual({ name: 'v3' });
  });

  it('does not keep a failed fetch', async () => {
    const first = get();
    const joined = get();
    asked.shift()!.fail(new Error('resources unavailable'));
    await expect(first).rejects.toThrow('resources unavailable');
    await expect(joined).rejects.toThrow('resources unavailable');
    const again = get();
    expect(asked).toHaveLength(1);
    answerNext({ name: 'v1' });
    expect(await again).toEqual({ name: 'v1' });
  });

  it('keeps reads by route and request', async () => {
    const one = get('d1');
    const other = get('d2');
    const store = views.call({ ...DatasetsRpc.get, pattern: 'resources.key-value-stores.get' }, { id: 'd1' });
    expect(asked.map((a) => a.id)).toEqual(['d1', 'd2', 'd1']);
    answerNext('dataset d1');
    answerNext('dataset d2');
    answerNext('store d1');
    expect([await one, await other, await store]).toEqual(['dataset d1', 'dataset d2', 'store d1']);
  });

  it('stays bounded', async () => {
    for (let i = 0; i < MAX_CACHED_VIEWS; i++) void get(`d${i}`);
    for (const a of asked.splice(0)) a.answer(a.id);
    jest.advanceTimersByTime(WIDENABLE_TTL_MS + 1);
    void get('one more');
    expect(asked).toHaveLength(1);
    answerNext('one more');
    // The ones that ran out went; the new one is kept.
    const entries = () => (views as unknown as { entries: Map<string, unknown> }).entries.size;
    expect(entries()).toBe(1);
    // And those that ran out go within a second even when it is not full.
    for (let i = 0; i < 10; i++) void get(`e${i}`);
    for (const a of asked.splice(0)) a.answer(a.id);
    jest.advanceTimersByTime(1001);
    void get('last');
    expect(entries()).toBe(1);
  });
});

describe('reachesKeptReads', () => {
  it("keeps datasets' and key-value stores' views and every service's decisions, not request queues'", () => {
    expect(reachesKeptReads('resources.datasets.push-items')).toBe(true);
    expect(reachesKeptReads('resources.key-value-stores.put-record')).toBe(true);
    expect(reachesKeptReads('permissions.grants.create')).toBe(true);
    expect(reachesKeptReads('resources.request-queues.add-request')).toBe(false);
  });

  it('a request queue is read through, not kept', async () => {
    const call = jest.fn(async () => ({ id: 'q1' }));
    const views = new CachedViews({ call } as unknown as RpcClient, unknownVersions());
    const route = { ...DatasetsRpc.get, pattern: 'resources.request-queues.get' };
    await views.call(route, { id: 'q1' });
    await views.call(route, { id: 'q1' });
    expect(call).toHaveBeenCalledTimes(2);
  });
});
