import { Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, data } from '../lib/api';
import { useSession } from '../lib/session';

/** A user's (or organization's) username from its public profile; the id while unknown. */
export function useUsername(userId: string): string {
  const profile = useQuery({
    queryKey: ['user', userId],
    queryFn: () => data(api.GET('/v2/users/{userIdOrUsername}', { params: { path: { userIdOrUsername: userId } } })),
    staleTime: Infinity,
    retry: false,
  });
  return (profile.data as { username?: string } | undefined)?.username ?? userId;
}

export function UserName({ userId, fw = 500 }: { userId: string; fw?: number }) {
  const { user } = useSession();
  const name = useUsername(userId);
  return (
    <Text span fw={fw} inherit>
      {name}
      {user?.id === userId ? ' (you)' : ''}
    </Text>
  );
}
