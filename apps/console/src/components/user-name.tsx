import { useQuery } from '@tanstack/react-query';
import { api, data } from '../lib/api';

/** A user's public name (`GET /v2/users/:id`), cached; the id while loading or when not found. */
export function useUsername(userId: string | null | undefined): string | undefined {
  const query = useQuery({
    queryKey: ['users', userId],
    enabled: !!userId,
    staleTime: 10 * 60_000,
    queryFn: () => data(api.GET('/v2/users/{userIdOrUsername}', { params: { path: { userIdOrUsername: userId! } } })),
  });
  return query.data?.username ?? userId ?? undefined;
}

export function UserName({ id }: { id: string | null | undefined }) {
  const name = useUsername(id);
  return <>{name ?? '—'}</>;
}
