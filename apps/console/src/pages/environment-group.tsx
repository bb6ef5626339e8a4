import { Anchor, Badge, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { Loading, QueryState } from '../components/page-state';
import { api, data } from '../lib/api';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { ShareButton } from '../share/share-button';
import type { Environment, EnvironmentGroup, Page } from '../teams/types';

/** An environment group: its environments and subgroups (those the caller can read). */
export default function EnvironmentGroupPage() {
  const { groupId = '' } = useParams();
  const group = useQuery({
    queryKey: ['environment-groups', groupId],
    queryFn: async () =>
      (await data(
        api.GET('/v2/environment-groups/{groupId}', { params: { path: { groupId } } }),
      )) as unknown as EnvironmentGroup,
  });
  return (
    <QueryState query={group} what="environment group">
      {(g) => <GroupView group={g} />}
    </QueryState>
  );
}

function GroupView({ group }: { group: EnvironmentGroup }) {
  const { user, accountId } = useSession();
  // The lists of the account acted as, or — for a collaboration member — those shared with it.
  const ownership = group.ownerId === (accountId ?? user?.id) ? undefined : ('sharedWithMe' as const);
  const query = { params: { query: { limit: 1000, ...(ownership ? { ownership } : {}) } } };
  const environments = useQuery({
    queryKey: ['environments', ownership ?? 'owned'],
    queryFn: async () => (await data(api.GET('/v2/environments', query))) as unknown as Page<Environment>,
    enabled: !!user,
  });
  const groups = useQuery({
    queryKey: ['environment-groups', ownership ?? 'owned'],
    queryFn: async () =>
      (await data(api.GET('/v2/environment-groups', query))) as unknown as Page<EnvironmentGroup>,
    enabled: !!user,
  });
  const inGroup = (environments.data?.items ?? []).filter((e) => e.groupId === group.id);
  const subgroups = (groups.data?.items ?? []).filter((g) => g.parentId === group.id);
  const parent = groups.data?.items.find((g) => g.id === group.parentId);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>{group.name}</Title>
        <ShareButton collection="environment-groups" id={group.id} name={group.name} />
      </Group>
      <Text>
        Environment group
        {group.parentId && (
          <>
            {' '}
            in{' '}
            <Anchor component={Link} to={paths.environmentGroup(group.parentId)}>
              {parent?.name ?? 'its parent group'}
            </Anchor>
          </>
        )}
      </Text>
      <Title order={2} size="h4">
        Environments
      </Title>
      {environments.isPending && user ? (
        <Loading />
      ) : inGroup.length === 0 ? (
        <Text>No environment of this group is visible to you.</Text>
      ) : (
        <Table aria-label="Environments in this group" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Region</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {inGroup.map((env) => (
              <Table.Tr key={env.id}>
                <Table.Td>
                  <Anchor component={Link} to={paths.environment(env.id)}>
                    {env.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <Badge variant="light">{env.status}</Badge>
                </Table.Td>
                <Table.Td>{env.region}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {subgroups.length > 0 && (
        <>
          <Title order={2} size="h4">
            Subgroups
          </Title>
          <Stack gap={4}>
            {subgroups.map((g) => (
              <Anchor key={g.id} component={Link} to={paths.environmentGroup(g.id)}>
                {g.name}
              </Anchor>
            ))}
          </Stack>
        </>
      )}
    </Stack>
  );
}
