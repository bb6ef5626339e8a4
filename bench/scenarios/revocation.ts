import { config, PROPAGATION_TIMEOUT_MS, REVOKE_POLL_MS } from '../config';
import { checkAlive } from '../harness';
import { Api } from '../lib/api';
import { percentile, sleep } from '../lib/log';
import { Fixture, grantRead } from '../lib/setup';

export interface RevocationResult {
  trials: number;
  denyLatencies: number[];
  timedOut: number;
  allowsOnGateway1: number;
  otherStatuses: Record<string, number>;
  grantVisibleLatencies: number[];
  readAfterGrantFailures: number;
}

/**
 * grant (gateway 1) → read on gateway 1 (must allow) → poll gateway 2 until it allows (also
 * warming any cache there) → revoke (gateway 1) → from the revoke response, poll both gateways
 * every 5 ms: gateway 1 must never allow again, and the time until gateway 2 denies is recorded.
 */
export async function revocation(g1: Api, g2: Api, fixture: Fixture): Promise<RevocationResult> {
  const { owner, revokee, revocationDatasetId: ds } = fixture;
  const path = `/v2/datasets/${ds}`;
  const read = (api: Api) => api.request('GET', path, { token: revokee.apiToken, timeoutMs: 5000 });
  const result: RevocationResult = {
    trials: config.revokeTrials,
    denyLatencies: [],
    timedOut: 0,
    allowsOnGateway1: 0,
    otherStatuses: {},
    grantVisibleLatencies: [],
    readAfterGrantFailures: 0,
  };
  const other = (label: string, status: number) => {
    const key = `${label} ${status}`;
    result.otherStatuses[key] = (result.otherStatuses[key] ?? 0) + 1;
  };
  for (let trial = 0; trial < config.revokeTrials; trial++) {
    checkAlive();
    const grantId = await grantRead(g1, owner, ds, revokee);
    const granted = performance.now();
    if ((await read(g1)).status !== 200) result.readAfterGrantFailures++;
    for (;;) {
      const res = await read(g2);
      if (res.status === 200) {
        result.grantVisibleLatencies.push(performance.now() - granted);
        break;
      }
      if (performance.now() - granted > PROPAGATION_TIMEOUT_MS) {
        throw new Error(`gateway 2 did not allow a granted read within ${PROPAGATION_TIMEOUT_MS} ms`);
      }
      await sleep(REVOKE_POLL_MS);
    }
    await read(g2); // a second allowed read on gateway 2: whatever it caches, it has cached

    await g1.expect(204, 'DELETE', `${path}/access/grants/${grantId}`, { token: owner.apiToken });
    const revoked = performance.now();
    let denied = false;
    while (!denied) {
      const tick = performance.now();
      const [r1, r2] = await Promise.all([read(g1), read(g2)]);
      if (r1.status === 200) result.allowsOnGateway1++;
      else if (r1.status !== 404) other('gateway 1', r1.status);
      if (r2.status === 404) {
        result.denyLatencies.push(performance.now() - revoked);
        denied = true;
      } else if (r2.status !== 200) {
        other('gateway 2', r2.status);
      }
      if (!denied && performance.now() - revoked > PROPAGATION_TIMEOUT_MS) {
        result.timedOut++;
        break;
      }
      if (!denied) await sleep(Math.max(0, REVOKE_POLL_MS - (performance.now() - tick)));
    }
  }
  return result;
}

/** The times until gateway 2 denied (p99 infinite when a trial timed out). */
export function denialPercentiles(revoke: RevocationResult): { p50: number; p99: number } {
  return {
    p50: percentile(revoke.denyLatencies, 0.5),
    p99: revoke.timedOut ? Infinity : percentile(revoke.denyLatencies, 0.99),
  };
}
