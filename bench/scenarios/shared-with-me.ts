import { config } from '../config';
import { bearer } from '../harness';
import { Api } from '../lib/api';
import { LoadResult, runLoad } from '../lib/load';
import { progress } from '../lib/log';
import { Fixture } from '../lib/setup';

export interface SharedWithMeResult {
  shares: number;
  firstPageCount: number;
  total: number;
  walked: number;
  walkExact: boolean;
  load: LoadResult;
}

/** `GET /v2/datasets?ownership=sharedWithMe` by a grantee with many shares: one page, then a walk of all. */
export async function sharedWithMe(g1: Api, fixture: Fixture): Promise<SharedWithMeResult> {
  const token = fixture.lister.apiToken;
  const first = await g1.expect<{ total: number; count: number }>(
    200,
    'GET',
    '/v2/datasets?ownership=sharedWithMe&limit=100',
    { token },
  );
  // Walk every page: each shared dataset exactly once.
  const seen = new Set<string>();
  let listed = 0;
  for (let offset = 0, pages = 0; pages < fixture.listerShares / 100 + 3; offset += 100, pages++) {
    const page = await g1.expect<{ items: { id: string }[] }>(
      200,
      'GET',
      `/v2/datasets?ownership=sharedWithMe&limit=100&offset=${offset}`,
      { token },
    );
    for (const item of page.items) seen.add(item.id);
    listed += page.items.length;
    if (page.items.length < 100) break;
  }
  const path = '/v2/datasets?ownership=sharedWithMe&limit=100';
  const next = () => ({ path, headers: bearer(token) });
  await runLoad({ targets: [g1.base], connections: 1, amount: 20, next });
  const load = await runLoad({ targets: [g1.base], connections: 1, amount: config.listRequests, next });
  progress(
    `sharedWithMe: p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms, errors ${load.errors}`,
  );
  return {
    shares: fixture.listerShares,
    firstPageCount: first.count,
    total: first.total,
    walked: seen.size,
    walkExact: seen.size === fixture.listerShares && listed === fixture.listerShares,
    load,
  };
}
