import { ListPage, PermissionsRpc, RpcRoute } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { FetchPage, listSharedWithMe } from './environment-listing';

interface Env {
  id: string;
  createdAt: string;
}

const env = (prefix: string, i: number): Env => ({
  id: `${prefix}${String(i).padStart(16, '0')}`,
  createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
});

/**
 * A member of one primary's collaboration with more environments there, and more granted
 * directly, than any one request of the services returns: the listing must still hold them all.
 */
describe('listSharedWithMe', () => {
  const ofPrimary = Array.from({ length: 2345 }, (_, i) => env('P', i));
  const granted = Array.from({ length: 2100 }, (_, i) => env('G', i));
  const requests: string[] = [];

  const rpc = {
    async call(route: RpcRoute, payload: Record<string, unknown>) {
      requests.push(route.pattern);
      if (route.pattern === PermissionsRpc.listMemberAccounts.pattern)
        return [{ accountId: 'primary', kind: 'COLLABORATION' }];
      if (route.pattern === PermissionsRpc.listSharedWith.pattern) {
        const after = payload.cursor as string | undefined;
        const rest = granted.map((g) => g.id).filter((id) => after === undefined || id > after);
        const page = rest.slice(0, payload.limit as number);
        return {
          total: granted.length,
          resourceIds: page,
          nextCursor: rest.length > page.length ? page[page.length - 1] : null,
        };
      }
      if (route.pattern === PermissionsRpc.checkMany.pattern) {
        // Every other environment of the primary is readable to the member, and every granted one.
        const checks = payload.checks as { resourceRef: string }[];
        return checks.map((c) => ({
          allowed: c.resourceRef.startsWith('G') || Number(c.resourceRef.slice(1)) % 2 === 0,
        }));
      }
      throw new Error(`unexpected ${route.pattern}`);
    },
  } as unknown as RpcClient;

  const fetch: FetchPage<Env> = async (req) => {
    const all = 'ids' in req ? granted.filter((g) => req.ids.includes(g.id)) : ofPrimary;
    if ('ids' in req && req.ids.length > 1000) throw new Error('too many ids in one request');
    const items = all.slice(req.page.offset, req.page.offset + req.page.limit);
    return { total: all.length, ...req.page, count: items.length, items } as ListPage<Env>;
  };

  it('lists every readable and granted environment, however many, in order', async () => {
    const readable = ofPrimary.filter((_, i) => i % 2 === 0);
    const expected = [...readable, ...granted].sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
    );
    const seen: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await listSharedWithMe(
        rpc,
        { userId: 'member' },
        'ENVIRONMENT',
        { offset, limit: 1000, desc: false },
        fetch,
      );
      expect(page.total).toBe(expected.length);
      seen.push(...page.items.map((v) => v.id));
      if (page.items.length < 1000) break;
    }
    expect(seen).toEqual(expected.map((v) => v.id));
    // The grants were walked by cursor, in pages the permissions service accepts.
    expect(requests.filter((p) => p === PermissionsRpc.listSharedWith.pattern).length).toBeGreaterThan(1);
  });
});
