import { useQuery } from '@tanstack/react-query';
import type { paths } from '@atrium/client';
import { api, data } from './api';
import { useSession } from './session';

type CheckBody = paths['/v2/access/check']['post']['requestBody']['content']['application/json'];
export type Permission = CheckBody['checks'][number]['permission'];

/**
 * What the caller may do with one resource, as `POST /v2/access/check` answers it (the account
 * acted as and the credential's scope included): `undefined` while asking, then a record of each
 * permission asked. Used to offer only the actions the API would allow; the API still decides.
 */
export function useAllowed<P extends Permission>(
  resourceId: string | undefined,
  permissions: readonly P[],
): Record<P, boolean> | undefined {
  const { user, accountId } = useSession();
  const query = useQuery({
    queryKey: ['access-check', user?.id ?? null, accountId ?? null, resourceId, ...permissions],
    enabled: !!resourceId && user !== undefined,
    queryFn: async () => {
      const answers = (await data(
        api.POST('/v2/access/check', {
          body: { checks: permissions.map((permission) => ({ resourceId: resourceId!, permission })) },
        }),
      )) as unknown as { allowed: boolean }[];
      return Object.fromEntries(permissions.map((p, i) => [p, answers[i]?.allowed === true])) as Record<
        P,
        boolean
      >;
    },
  });
  return query.data;
}
