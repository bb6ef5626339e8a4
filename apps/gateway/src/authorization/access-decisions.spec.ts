import { CheckResult } from '@atrium/contracts';
import { EventBus, RpcClient } from '@atrium/messaging';
import { AccessDecisions } from './access-decisions';

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
      permissions: allowed ? ['READ', 'WRITE'] : ['READ'],
      rule: 'grant',
      validUntil: null,
    }) as CheckResult;

  let answers: ((result: CheckResult) => void)[];
  let access: AccessDecisions;

  beforeEach(async () => {
    answers = [];
    const rpc = {
      call: jest.fn(() => new Promise<CheckResult>((answer) => answers.push(answer))),
    } as unknown as RpcClient;
    const bus = {
      connected: true,
      onConnectionChange: () => undefined,
      subscribeBroadcast: async () => undefined,
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
});
