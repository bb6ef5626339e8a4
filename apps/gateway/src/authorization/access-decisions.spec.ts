import { CheckResult } from '@atrium/contracts';
import { EventBus, RpcClient } from '@atrium/messaging';
import { AccessDecisions, REFRESH_AHEAD_MS, WIDENABLE_TTL_MS } from './access-decisions';

// Found by the load test (issue 8, item 18): a guest's request checked while the owner revoked
// the grant cached the old "allowed" after the revocation had cleared the cache, so the guest's
// next request was let in.
describe('AccessDecisions', () => {
  const decision = (allowed: boolean): CheckResult =>
    ({
      resourceId: 'd1',
      resourceType: 'DATASET',
      allowed,
      canRead: true,
      // Allowed: all a dataset has (an owner's), which no change can widen; denied: READ only.
      permissions: allowed ? ['READ', 'WRITE', 'MANAGE_ACCESS'] : ['READ'],
      rule: 'grant',
      validUntil: null,
    }) as CheckResult;

  let answers: ((result: CheckResult) => void)[];
  let access: AccessDecisions;
  let announce: (payload: unknown) => Promise<void>;

  beforeEach(async () => {
    answers = [];
    const rpc = {
      call: jest.fn(() => new Promise<CheckResult>((answer) => answers.push(answer))),
    } as unknown as RpcClient;
    const bus = {
      connected: true,
      onConnectionChange: () => undefined,
      subscribeBroadcast: async (_names: string[], handler: (envelope: unknown) => Promise<void>) => {
        announce = (payload) => handler({ id: 'e', name: 'permissions.changed', occurredAt: '', payload });
      },
    } as unknown as EventBus;
    access = new AccessDecisions(rpc, bus);
    await access.onModuleInit();
  });
  afterEach(() => access.onModuleDestroy());

  const check = () => access.check({ userId: 'guest' }, 'DATASET', 'd1', 'WRITE');

  it('serves a decision from its cache until access changes', async () => {
    const first = check();
    answers.shift()!(decision(true));
    expect((await first).allowed).toBe(true);
    expect((await check()).allowed).toBe(true);
    expect(answers).toHaveLength(0);

    access.changed();
    const after = check();
    expect(answers).toHaveLength(1);
    answers.shift()!(decision(false));
    expect((await after).allowed).toBe(false);
  });

  it('does not keep a decision that was on its way while access changed', async () => {
    const racing = check();
    access.changed(); // the owner revoked while the permissions service was answering
    answers.shift()!(decision(true));
    expect((await racing).allowed).toBe(true);

    const next = check();
    expect(answers).toHaveLength(1); // asked again, not served from the cache
    answers.shift()!(decision(false));
    expect((await next).allowed).toBe(false);
  });

  describe('read-your-writes on every replica (no message between them)', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const partial = (): CheckResult => ({ ...decision(true), permissions: ['READ', 'WRITE'] }) as CheckResult;

    it('keeps a decision a change could widen (a denial, or less than all) only WIDENABLE_TTL_MS', async () => {
      for (const answer of [decision(false), partial()]) {
        access.changed();
        const first = check();
        answers.shift()!(answer);
        await first;
        await check(); // served from the cache at once
        expect(answers).toHaveLength(0);
        await sleep(WIDENABLE_TTL_MS + 5);
        const later = check();
        expect(answers).toHaveLength(1); // asked again
        answers.shift()!(answer);
        await later;
      }
    });

    it('asks a decision a change could widen again as its time runs out while in use, and serves the next without a wait', async () => {
      const first = check();
      answers.shift()!(partial());
      await first;
      await sleep(WIDENABLE_TTL_MS - REFRESH_AHEAD_MS + 1);
      const during = check(); // served (or, on a late timer, asked): either way asked again now
      expect(answers).toHaveLength(1);
      const alsoDuring = check(); // one renewal at a time
      expect(answers).toHaveLength(1);
      answers.shift()!(partial());
      await Promise.all([during, alsoDuring]);
      await sleep(REFRESH_AHEAD_MS + 1); // the first decision's time is over, the renewed one's is not
      await check();
      expect(answers).toHaveLength(0);
    });

    it('keeps a decision no change can widen (all of the type) as before', async () => {
      const first = check();
      answers.shift()!(decision(true));
      await first;
      await sleep(WIDENABLE_TTL_MS + 5);
      expect((await check()).allowed).toBe(true);
      expect(answers).toHaveLength(0);
    });

    it('settles no sooner than WIDENABLE_TTL_MS after it is called', async () => {
      const started = performance.now();
      await access.settle();
      expect(performance.now() - started).toBeGreaterThanOrEqual(WIDENABLE_TTL_MS);
    });
  });

  describe('a change about one resource', () => {
    const on = (resourceId: string, dependsOn?: string[]): CheckResult =>
      ({ ...decision(true), resourceId, dependsOn }) as CheckResult;
    const read = (id: string) => access.check({ userId: 'guest' }, 'DATASET', id, 'READ');
    /** Fills the cache: each id answered with what it depends on. */
    const cache = async (deps: Record<string, string[] | undefined>) => {
      for (const [id, dependsOn] of Object.entries(deps)) {
        access.changed(id);
        const asked = read(id);
        answers.shift()!(on(id, dependsOn));
        await asked;
      }
      expect(answers).toHaveLength(0);
    };
    /** The ids that are asked again (not served from the cache). */
    const askedAgain = async (ids: string[]) => {
      const again: string[] = [];
      for (const id of ids) {
        const pending = read(id);
        if (answers.length) {
          again.push(id);
          answers.shift()!(on(id, [id]));
        }
        await pending;
      }
      return again;
    };

    it('drops the decisions that read it, and keeps the others', async () => {
      // d2 is a run's storage: its decision read the run r1 too.
      await cache({ d1: ['d1'], d2: ['d2', 'r1'], d3: ['d3'] });
      await announce({ resourceId: 'r1', subjectId: 'x', reason: 'grant-revoked' });
      expect(await askedAgain(['d1', 'd2', 'd3'])).toEqual(['d2']);
      access.changed('d3');
      expect(await askedAgain(['d1', 'd2', 'd3'])).toEqual(['d3']);
    });

    it('drops everything on a change of an account or a membership, or one not understood', async () => {
      for (const payload of [
        { resourceId: null, subjectId: 'x', reason: 'membership-changed' },
        { resourceId: null, subjectId: null, reason: 'general-access-changed' },
        { resourceId: 42 },
      ]) {
        await cache({ d1: ['d1'], d2: ['d2'] });
        await announce(payload);
        expect(await askedAgain(['d1', 'd2'])).toEqual(['d1', 'd2']);
      }
    });

    it('keeps an answer that was on its way only if what changed meanwhile is not something it read', async () => {
      const racing = read('d2');
      access.changed('elsewhere');
      answers.shift()!(on('d2', ['d2', 'r1']));
      await racing;
      expect(await askedAgain(['d2'])).toEqual([]);

      access.changed('d2');
      const stale = read('d2');
      access.changed('r1'); // the run it read changed while the answer was on its way
      answers.shift()!(on('d2', ['d2', 'r1']));
      await stale;
      expect(await askedAgain(['d2'])).toEqual(['d2']);
    });

    it('drops a decision that does not say what it read on any change', async () => {
      await cache({ d1: undefined, d2: ['d2'] });
      await announce({ resourceId: 'zz', subjectId: null, reason: 'grant-created' });
      expect(await askedAgain(['d1', 'd2'])).toEqual(['d1']);
    });
  });
});
