import { Anchor } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, data } from '../lib/api';
import { paths } from '../lib/paths';

/** A link to an Actor, named `username/name` when the reader may read it, else by its id. */
export function ActorLink({ actorId }: { actorId: string }) {
  const actor = useQuery({
    queryKey: ['actor', actorId],
    retry: false,
    queryFn: () => data(api.GET('/v2/acts/{actorId}', { params: { path: { actorId } } })),
  });
  return (
    <Anchor component={Link} to={paths.actor(actorId)}>
      {actor.data ? `${actor.data.username ?? actor.data.userId}/${actor.data.name}` : actorId}
    </Anchor>
  );
}
