import { AppError, IdentityRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';

/**
 * Usernames of the given accounts, for the `username` field Apify puts on Actors and tasks
 * (the resources service keeps owner ids only). An account that no longer exists maps to null.
 */
export async function usernamesOf(
  rpc: RpcClient,
  userIds: readonly string[],
): Promise<Map<string, string | null>> {
  const distinct = [...new Set(userIds)];
  const names = await Promise.all(
    distinct.map(async (id) => {
      try {
        return (await rpc.call(IdentityRpc.resolveUser, { ref: id })).username;
      } catch (err) {
        if (err instanceof AppError && err.type === 'record-not-found') return null;
        throw err;
      }
    }),
  );
  return new Map(distinct.map((id, i) => [id, names[i] ?? null]));
}
