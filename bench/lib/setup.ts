import { Api } from './api';
import { mapLimit, progress } from './log';

export interface User {
  id: string;
  username: string;
  /** JWT access token from sign-up (15 minutes; setup only). */
  jwt: string;
  /** API token (`atrium_api_…`), what the measured requests use. */
  apiToken: string;
}

/**
 * Setup calls in flight. Below the services' default DB pool (10): at 32 concurrent grants the
 * permissions service of this revision ran out of pool connections ("timeout exceeded when trying
 * to connect") and answered 503 until the run gave up.
 */
const SETUP_CONCURRENCY = Number(process.env.BENCH_SETUP_CONCURRENCY) || 8;

export interface Pair {
  grantee: User;
  datasetId: string;
}

export interface Fixture {
  owner: User;
  grantees: User[];
  datasetIds: string[];
  /** Distinct (grantee, dataset) pairs, each with a READ grant. */
  pairs: Pair[];
  /** The grantee that the listing scenario uses, and how many datasets are shared with it. */
  lister: User;
  listerShares: number;
  /** A user with no grant yet, and a dataset of the owner's, for the revocation trials. */
  revokee: User;
  revocationDatasetId: string;
  timings: Record<string, number>;
}

const PASSWORD = 'bench password 0123456789';

export async function signUp(api: Api, username: string): Promise<User> {
  const data = await api.expect<{ user: { id: string }; accessToken: string }>(
    201,
    'POST',
    '/v2/auth/signup',
    {
      body: { email: `${username}@bench.example.com`, username, password: PASSWORD },
    },
  );
  const token = await api.expect<{ token: string }>(201, 'POST', '/v2/users/me/tokens', {
    token: data.accessToken,
    body: { name: 'bench' },
  });
  return { id: data.user.id, username, jwt: data.accessToken, apiToken: token.token };
}

async function createDatasets(api: Api, owner: User, count: number): Promise<string[]> {
  return mapLimit(Array.from({ length: count }), SETUP_CONCURRENCY, async () => {
    const data = await api.expect<{ id: string }>(201, 'POST', '/v2/datasets', { token: owner.apiToken });
    return data.id;
  });
}

async function grantRead(api: Api, owner: User, datasetId: string, grantee: User): Promise<string> {
  const path = `/v2/datasets/${datasetId}/access`;
  const grant = await api.expect<{ id: string } | undefined>(201, 'POST', `${path}/grants`, {
    token: owner.apiToken,
    body: { user: grantee.id, permissions: ['READ'] },
    conflictAfterRetryIsDone: true,
  });
  if (grant) return grant.id;
  const listing = await api.expect<{ grants: { id: string; userId: string }[] }>(200, 'GET', path, {
    token: owner.apiToken,
  });
  const found = listing?.grants.find((g) => g.userId === grantee.id);
  if (!found) throw new Error(`the grant on ${datasetId} to ${grantee.username} is missing after a retry`);
  return found.id;
}

/** Splits `pairs` into grantees × datasets as close to square as possible. */
export function pairShape(pairs: number): { grantees: number; datasets: number } {
  const grantees = Math.max(1, Math.ceil(Math.sqrt(pairs)));
  return { grantees, datasets: Math.max(1, Math.ceil(pairs / grantees)) };
}

/**
 * Everything through the public API of one gateway: an owner with a RESTRICTED account (so only
 * grants open its datasets), grantees with API tokens, datasets, and a READ grant per pair.
 */
export async function buildFixture(
  api: Api,
  options: { pairs: number; listShares: number; runId: string },
): Promise<Fixture> {
  const timings: Record<string, number> = {};
  const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await fn();
    timings[label] = (performance.now() - started) / 1000;
    progress(`setup: ${label} in ${timings[label].toFixed(1)} s`);
    return result;
  };
  const shape = pairShape(options.pairs);

  const [owner, revokee] = await timed('owner and revocation user signed up', () =>
    Promise.all([signUp(api, `bo-${options.runId}`), signUp(api, `br-${options.runId}`)]),
  );
  await api.expect(200, 'PUT', '/v2/users/me/settings', {
    token: owner.jwt,
    body: { generalResourceAccess: 'RESTRICTED' },
  });

  const grantees = await timed(`${shape.grantees} grantees signed up, each with an API token`, () =>
    mapLimit(Array.from({ length: shape.grantees }), Math.min(6, SETUP_CONCURRENCY), (_, i) =>
      signUp(api, `bg${i}-${options.runId}`),
    ),
  );
  const datasetIds = await timed(`${shape.datasets + 1} datasets created`, () =>
    createDatasets(api, owner, shape.datasets + 1),
  );
  const revocationDatasetId = datasetIds.pop() as string;

  const pairs: Pair[] = [];
  for (let k = 0; k < options.pairs; k++) {
    pairs.push({
      grantee: grantees[k % shape.grantees],
      datasetId: datasetIds[Math.floor(k / shape.grantees)],
    });
  }
  let done = 0;
  await timed(`${pairs.length} READ grants created`, () =>
    mapLimit(pairs, SETUP_CONCURRENCY, async (pair) => {
      await grantRead(api, owner, pair.datasetId, pair.grantee);
      if (++done % 2000 === 0) progress(`setup: ${done}/${pairs.length} grants`);
    }),
  );

  // The listing scenario's grantee: the shares it already has, topped up to `listShares`.
  const lister = grantees[0];
  const already = pairs.filter((p) => p.grantee === lister).length;
  const extra = Math.max(0, options.listShares - already);
  if (extra) {
    await timed(`${extra} more datasets shared with the listing grantee`, async () => {
      const ids = await createDatasets(api, owner, extra);
      await mapLimit(ids, SETUP_CONCURRENCY, (id) => grantRead(api, owner, id, lister));
    });
  }

  return {
    owner,
    grantees,
    datasetIds,
    pairs,
    lister,
    listerShares: already + extra,
    revokee,
    revocationDatasetId,
    timings,
  };
}

export { grantRead };
