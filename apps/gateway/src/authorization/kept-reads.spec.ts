import { CheckResult, DatasetsRpc, PermissionsRpc, RpcRoute } from '@atrium/contracts';
import { EventBus, RpcClient } from '@atrium/messaging';
import { CachedViews } from '../http/cached-views';
import { AccessDecisions } from './access-decisions';
import { ChangeVersions, MAX_REVALIDATED_MS, REFRESH_AHEAD_MS, WIDENABLE_TTL_MS } from './kept-reads';

interface Call {
  pattern: string;
  payload: unknown;
  answer(value: unknown): void;
}

/** Kept reads renewed by their service's change version instead of being read again. */
describe('kept reads revalidated by change version', () => {
  let calls: Call[];
  let rpc: RpcClient;
  let versions: ChangeVersions;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    calls = [];
    rpc = {
      call: jest.fn(
        (route: RpcRoute, payload: unknown) =>
          new Promise((answer) => calls.push({ pattern: route.pattern, payload, answer })),
      ),
    } as unknown as RpcClient;
    versions = new ChangeVersions(rpc);
  });
  afterEach(() => jest.useRealTimers());

  const flush = () => new Promise((resolve) => setImmediate(resolve));
  /** Answers the next call, which must be for `pattern`. */
  const answer = async (pattern: string, value: unknown) => {
    const call = calls.shift();
    expect(call?.pattern).toBe(pattern);
    call!.answer(value);
    await flush();
  };
  const pending = () => calls.map((c) => c.pattern);
  /** What a replica knows once it asked a service's version (as its first renewal does). */
  const known = async (service: 'resources' | 'permissions', version: string) => {
    versions.renew(service, undefined, () => undefined);
    await answer(`${service}.change-version`, { version });
  };

  describe('CachedViews', () => {
    let views: CachedViews;
    const get = () => views.call(DatasetsRpc.get, { id: 'd1' }) as Promise<unknown>;
    beforeEach(() => (views = new CachedViews(rpc, versions)));

    /** A view read once the resources' version `version` is known. */
    const keptAt = async (version: string) => {
      await known('resources', version);
      const first = get();
      await answer('resources.datasets.get', { name: 'v2' });
      expect(await first).toEqual({ name: 'v2' });
    };

    it('reads a view again when it was read before any version was known, and asks the version', async () => {
      const first = get();
      await answer('resources.datasets.get', { name: 'v1' });
      expect(await first).toEqual({ name: 'v1' });
      jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
      expect(await get()).toEqual({ name: 'v1' });
      expect(pending()).toEqual(['resources.datasets.get', 'resources.change-version']);
    });

    it('serves a view past WIDENABLE_TTL_MS while its version is found unchanged, asking only the version', async () => {
      await keptAt('e:1');
      for (let i = 0; i < 5; i++) {
        jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
        expect(await get()).toEqual({ name: 'v2' });
        expect(pending()).toEqual(['resources.change-version']);
        await answer('resources.change-version', { version: 'e:1' });
      }
    });

    it('reads it again once the version moved, and never serves it past WIDENABLE_TTL_MS of the last confirmation', async () => {
      await keptAt('e:1');
      jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
      expect(await get()).toEqual({ name: 'v2' });
      await answer('resources.change-version', { version: 'e:2' }); // something changed
      // Not renewed by that: the next request after its time reads it again and waits for it.
      jest.advanceTimersByTime(REFRESH_AHEAD_MS);
      const after = get();
      expect(pending()).toEqual(['resources.datasets.get']);
      await answer('resources.datasets.get', { name: 'v3' });
      expect(await after).toEqual({ name: 'v3' });
    });

    it('waits, once it ran out, for the version call on its way rather than read it again', async () => {
      await keptAt('e:1');
      jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
      await get();
      expect(pending()).toEqual(['resources.change-version']); // not answered yet
      jest.advanceTimersByTime(REFRESH_AHEAD_MS);
      const waiting = get();
      expect(pending()).toEqual(['resources.change-version']);
      await answer('resources.change-version', { version: 'e:1' }); // unchanged: served
      expect(await waiting).toEqual({ name: 'v2' });
      expect(pending()).toEqual([]);

      // Changed: read again. (Confirmed by a call sent REFRESH_AHEAD_MS before it was waited for.)
      jest.advanceTimersByTime(WIDENABLE_TTL_MS - 2 * REFRESH_AHEAD_MS + 1);
      await get();
      jest.advanceTimersByTime(REFRESH_AHEAD_MS);
      const changed = get();
      await answer('resources.change-version', { version: 'e:2' });
      expect(pending()).toEqual(['resources.datasets.get']);
      await answer('resources.datasets.get', { name: 'v3' });
      expect(await changed).toEqual({ name: 'v3' });
    });

    it('confirms a view nobody asked for since it ran out by a version call, not by reading it again', async () => {
      await keptAt('e:1');
      jest.advanceTimersByTime(10 * WIDENABLE_TTL_MS); // no request meanwhile
      const later = get();
      expect(pending()).toEqual(['resources.change-version']);
      await answer('resources.change-version', { version: 'e:1' });
      expect(await later).toEqual({ name: 'v2' });
      jest.advanceTimersByTime(10 * WIDENABLE_TTL_MS);
      const changed = get();
      await answer('resources.change-version', { version: 'e:2' });
      expect(pending()).toEqual(['resources.datasets.get']);
      await answer('resources.datasets.get', { name: 'v3' });
      expect(await changed).toEqual({ name: 'v3' });
    });

    it('is read again when the version call on its way fails', async () => {
      await keptAt('e:1');
      jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
      await get();
      const probe = calls.shift()!;
      jest.advanceTimersByTime(REFRESH_AHEAD_MS);
      const waiting = get();
      (probe as unknown as { answer(v: unknown): void }).answer(Promise.reject(new Error('timed out')));
      await flush();
      expect(pending()).toEqual(['resources.datasets.get']);
      await answer('resources.datasets.get', { name: 'v3' });
      expect(await waiting).toEqual({ name: 'v3' });
    });

    it('is read again after MAX_REVALIDATED_MS whatever the version', async () => {
      await keptAt('e:1');
      const step = WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1;
      let t = 0;
      for (; calls.length === 0 || calls[0].pattern === 'resources.change-version'; t += step) {
        if (calls.length) await answer('resources.change-version', { version: 'e:1' });
        jest.advanceTimersByTime(step);
        void get();
      }
      expect(pending()).toEqual(['resources.datasets.get']);
      expect(t).toBeGreaterThanOrEqual(MAX_REVALIDATED_MS);
      expect(t).toBeLessThan(MAX_REVALIDATED_MS + 2 * step);
    });

    it("keeps a page of what is shared no later than its answer's validUntil", async () => {
      const page = () =>
        views.call(PermissionsRpc.listSharedWith, {
          subjectId: 'u1',
          resourceType: 'DATASET',
          offset: 0,
          limit: 10,
          desc: false,
        });
      await known('permissions', 'p:1');
      const first = page();
      await answer('permissions.shared-with.list', {
        resourceIds: [],
        validUntil: new Date(Date.now() + 50).toISOString(),
      });
      await first;
      for (let i = 0; i < 2; i++) {
        jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
        await page();
        await answer('permissions.change-version', { version: 'p:1' });
      }
      jest.advanceTimersByTime(WIDENABLE_TTL_MS); // past validUntil: a grant that starts then is listed
      void page();
      expect(pending()).toEqual(['permissions.shared-with.list']);
    });
  });

  describe('AccessDecisions', () => {
    let access: AccessDecisions;
    const readOnly: CheckResult = {
      resourceId: 'd1',
      resourceType: 'DATASET',
      allowed: true,
      canRead: true,
      permissions: ['READ'], // a change could widen it: kept WIDENABLE_TTL_MS
      rule: 'grant',
      validUntil: null,
    } as unknown as CheckResult;
    const check = () => access.check({ userId: 'guest' }, 'DATASET', 'd1', 'READ');

    beforeEach(async () => {
      const bus = {
        connected: true,
        onConnectionChange: () => undefined,
        subscribeBroadcast: async () => undefined,
      } as unknown as EventBus;
      access = new AccessDecisions(rpc, bus, versions);
      await access.onModuleInit();
    });
    afterEach(() => access.onModuleDestroy());

    it('keeps a decision a change could widen while the version is found unchanged; dropped by an event as before', async () => {
      await known('permissions', 'p:1');
      const first = check();
      await answer('permissions.check', readOnly);
      await first;
      for (let i = 0; i < 4; i++) {
        jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
        expect(await check()).toEqual(readOnly);
        expect(pending()).toEqual(['permissions.change-version']);
        await answer('permissions.change-version', { version: 'p:1' });
      }
      // A change made through this replica drops it at once, whatever the version says.
      access.changed();
      void check();
      expect(pending()).toEqual(['permissions.check']);
    });

    it('waits, once it ran out, for the version call on its way; not for a decision an event dropped meanwhile', async () => {
      await known('permissions', 'p:1');
      const first = check();
      await answer('permissions.check', readOnly);
      await first;
      jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
      await check();
      jest.advanceTimersByTime(REFRESH_AHEAD_MS);
      const waiting = check();
      await flush();
      expect(pending()).toEqual(['permissions.change-version']);
      await answer('permissions.change-version', { version: 'p:1' });
      expect(await waiting).toEqual(readOnly);

      jest.advanceTimersByTime(WIDENABLE_TTL_MS - 2 * REFRESH_AHEAD_MS + 1);
      await check();
      jest.advanceTimersByTime(REFRESH_AHEAD_MS);
      const dropped = check();
      await flush();
      access.changed(); // a change made through this replica while it waited
      await answer('permissions.change-version', { version: 'p:1' });
      expect(pending()).toEqual(['permissions.check']);
      const denied = { ...readOnly, allowed: false } as CheckResult;
      await answer('permissions.check', denied);
      expect(await dropped).toEqual(denied);
    });

    it('confirms a decision nobody asked for since it ran out by a version call, not a check', async () => {
      await known('permissions', 'p:1');
      const first = check();
      await answer('permissions.check', readOnly);
      await first;
      jest.advanceTimersByTime(10 * WIDENABLE_TTL_MS);
      const later = check();
      await flush();
      expect(pending()).toEqual(['permissions.change-version']);
      await answer('permissions.change-version', { version: 'p:1' });
      expect(await later).toEqual(readOnly);
    });

    it('asks again once the version moved', async () => {
      await known('permissions', 'p:1');
      const first = check();
      await answer('permissions.check', readOnly);
      await first;
      jest.advanceTimersByTime(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
      await check();
      await answer('permissions.change-version', { version: 'p:2' });
      jest.advanceTimersByTime(REFRESH_AHEAD_MS);
      void check();
      expect(pending()).toEqual(['permissions.check']);
    });
  });
});
