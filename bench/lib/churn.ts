import { Api } from './api';
import { percentile, progress, sleep } from './log';
import { grantRead, signUp, User } from './setup';

/**
 * The mixed load's writer: other users changing access on *other* resources than the measured
 * read, through the public API — READ grants given and taken back on a churn owner's datasets,
 * and members of the churn owner's organization moved between two roles —, paced at a fixed
 * rate, alternately through each gateway.
 */
export interface ChurnFixture {
  owner: User;
  orgId: string;
  /** The two roles members move between. */
  roleIds: [string, string];
  members: User[];
  datasetIds: string[];
  /** Where the churn stands, kept from one run to the next. */
  state: {
    /** READ grants alive, oldest first. */
    live: { datasetId: string; grantId: string }[];
    /** The next (dataset, member) pair to grant, in rotation. */
    pair: number;
    /** The next member to move, and the role (index in roleIds) each holds. */
    member: number;
    roleOf: Map<string, number>;
  };
}

export interface ChurnStats {
  /** Changes answered 2xx, and the others (non-2xx or failed). */
  done: number;
  failed: number;
  /** Changes not started because too many were still on their way. */
  skipped: number;
  grants: number;
  revocations: number;
  memberships: number;
  /** Achieved changes per second. */
  rate: number;
  p50: number;
  p99: number;
  /** A few failures, for the report. */
  errors: string[];
}

const MEMBERS = 8;
const DATASETS = 10;
/** READ grants alive at once before the oldest is taken back. */
const LIVE_GRANTS = 8;
/** Changes on their way at once; beyond, a tick is skipped (and counted). */
const MAX_IN_FLIGHT = 32;

/** A churn owner (its own account), its organization with MEMBERS members, and DATASETS datasets. */
export async function buildChurnFixture(api: Api, runId: string): Promise<ChurnFixture> {
  const owner = await signUp(api, `bco-${runId}`);
  const members = await Promise.all(
    Array.from({ length: MEMBERS }, (_, i) => signUp(api, `bcm${i}-${runId}`)),
  );
  const org = await api.expect<{ id: string }>(201, 'POST', '/v2/organizations', {
    token: owner.apiToken,
    body: { username: `bcorg-${runId}` },
  });
  const roles = await api.expect<{ items: { id: string; name: string }[] }>(
    200,
    'GET',
    `/v2/organizations/${org.id}/roles`,
    { token: owner.apiToken },
  );
  const role = (name: string) => {
    const found = roles.items.find((r) => r.name === name);
    if (!found) throw new Error(`the organization has no role "${name}"`);
    return found.id;
  };
  const roleIds: [string, string] = [role('Developer'), role('Read only')];
  for (const member of members) {
    const invitation = await api.expect<{ id: string }>(
      201,
      'POST',
      `/v2/organizations/${org.id}/invitations`,
      { token: owner.apiToken, body: { user: member.id, roleId: roleIds[0] } },
    );
    await api.expect(200, 'POST', `/v2/invitations/${invitation.id}/accept`, { token: member.apiToken });
  }
  const datasetIds: string[] = [];
  for (let i = 0; i < DATASETS; i++) {
    const created = await api.expect<{ id: string }>(201, 'POST', '/v2/datasets', { token: owner.apiToken });
    datasetIds.push(created.id);
  }
  const state = { live: [], pair: 0, member: 0, roleOf: new Map(members.map((m) => [m.id, 0])) };
  return { owner, orgId: org.id, roleIds, members, datasetIds, state };
}

/**
 * Starts changing access at `rate` changes/s until `stop()`: every other change a grant (given,
 * or, with LIVE_GRANTS alive, the oldest taken back), the others a member moved to its other role
 * (a member whose move is still on its way is passed over). Returns what it did on `stop()`.
 */
export function startChurn(
  gateways: Api[],
  fixture: ChurnFixture,
  rate: number,
): { stop(): Promise<ChurnStats> } {
  const { owner } = fixture;
  const stats: ChurnStats = {
    done: 0,
    failed: 0,
    skipped: 0,
    grants: 0,
    revocations: 0,
    memberships: 0,
    rate: 0,
    p50: NaN,
    p99: NaN,
    errors: [],
  };
  const latencies: number[] = [];
  const { live, roleOf } = fixture.state;
  const busy = new Set<string>();
  let inFlight = 0;
  let stopped = false;
  const started = performance.now();

  /** One change; false when none could start (every member's move still on its way). */
  const change = async (n: number): Promise<boolean> => {
    const api = gateways[n % gateways.length];
    if (n % 2 === 0) {
      const oldest = live.length >= LIVE_GRANTS ? live.shift() : undefined;
      if (oldest) {
        await api.expect(204, 'DELETE', `/v2/datasets/${oldest.datasetId}/access/grants/${oldest.grantId}`, {
          token: owner.apiToken,
        });
        stats.revocations++;
      } else {
        // Pairs in rotation: a pair comes back only long after its grant was taken back.
        const p = fixture.state.pair++;
        const datasetId = fixture.datasetIds[p % fixture.datasetIds.length];
        const grantee = fixture.members[Math.floor(p / fixture.datasetIds.length) % fixture.members.length];
        const grantId = await grantRead(api, owner, datasetId, grantee);
        live.push({ datasetId, grantId });
        stats.grants++;
      }
      return true;
    }
    const from = fixture.state.member;
    const free = fixture.members.findIndex((_, i) => !busy.has(fixture.members[(from + i) % MEMBERS].id));
    if (free < 0) return false;
    const target = fixture.members[(from + free) % MEMBERS];
    fixture.state.member = (from + free + 1) % MEMBERS;
    busy.add(target.id);
    try {
      const next = 1 - (roleOf.get(target.id) ?? 0);
      await api.expect(200, 'PUT', `/v2/organizations/${fixture.orgId}/members/${target.id}`, {
        token: owner.apiToken,
        body: { roleId: fixture.roleIds[next] },
      });
      roleOf.set(target.id, next);
      stats.memberships++;
    } finally {
      busy.delete(target.id);
    }
    return true;
  };

  const running = new Set<Promise<void>>();
  const loop = (async () => {
    for (let n = 0; !stopped; n++) {
      const due = started + (n * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (stopped) break;
      if (inFlight >= MAX_IN_FLIGHT) {
        stats.skipped++;
        continue;
      }
      inFlight++;
      const at = performance.now();
      const p = change(n)
        .then(
          (changed) => {
            if (!changed) {
              stats.skipped++;
              return;
            }
            stats.done++;
            latencies.push(performance.now() - at);
          },
          (err: unknown) => {
            stats.failed++;
            if (stats.errors.length < 5) stats.errors.push(err instanceof Error ? err.message : String(err));
          },
        )
        .finally(() => {
          inFlight--;
          running.delete(p);
        });
      running.add(p);
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(running);
      const seconds = (performance.now() - started) / 1000;
      stats.rate = stats.done / seconds;
      stats.p50 = percentile(latencies, 0.5);
      stats.p99 = percentile(latencies, 0.99);
      progress(
        `churn: ${stats.done} changes in ${seconds.toFixed(1)} s (${stats.rate.toFixed(1)}/s; ${stats.grants} grants, ` +
          `${stats.revocations} revocations, ${stats.memberships} memberships), failed ${stats.failed}, ` +
          `skipped ${stats.skipped}, p50 ${stats.p50.toFixed(1)} ms, p99 ${stats.p99.toFixed(1)} ms`,
      );
      return stats;
    },
  };
}
