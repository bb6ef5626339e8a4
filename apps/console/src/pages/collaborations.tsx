import { Anchor, Badge, Button, Card, Group, List, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, Navigate, useLocation } from 'react-router';
import { QueryState, signInPath } from '../components/page-state';
import { api, data } from '../lib/api';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { ActionError, useAction } from '../teams/action';
import { permissionLabel } from '../teams/permissions';
import type { Collaboration, Environment, EnvironmentGroup, Page } from '../teams/types';

const SHARED = { params: { query: { limit: 1000, ownership: 'sharedWithMe' as const } } };

/** Account collaboration, the member's side: the primaries that invited me and what they share. */
export default function CollaborationsPage() {
  const { user } = useSession();
  const location = useLocation();
  const collaborations = useQuery({
    queryKey: ['collaborations'],
    queryFn: async () =>
      (await data(
        api.GET('/v2/collaborations', { params: { query: { limit: 1000 } } }),
      )) as unknown as Page<Collaboration>,
    enabled: !!user,
  });
  const environments = useQuery({
    queryKey: ['environments', 'sharedWithMe'],
    queryFn: async () => (await data(api.GET('/v2/environments', SHARED))) as unknown as Page<Environment>,
    enabled: !!user,
  });
  const groups = useQuery({
    queryKey: ['environment-groups', 'sharedWithMe'],
    queryFn: async () =>
      (await data(api.GET('/v2/environment-groups', SHARED))) as unknown as Page<EnvironmentGroup>,
    enabled: !!user,
  });
  const refresh = [['collaborations'], ['environments'], ['environment-groups']];
  const answer = useAction(({ id, action }: { id: string; action: 'accept' | 'reject' | 'leave' }) => {
    const path = { params: { path: { collaborationId: id } } };
    if (action === 'accept') return data(api.POST('/v2/collaborations/{collaborationId}/accept', path));
    if (action === 'reject') return data(api.POST('/v2/collaborations/{collaborationId}/reject', path));
    return data(api.POST('/v2/collaborations/{collaborationId}/leave', path));
  }, refresh);
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} />;
  return (
    <Stack>
      <Title order={1}>Collaborations</Title>
      <Text>Accounts that invited you to work on their environments, and what each shares with you.</Text>
      <ActionError error={answer.error} />
      <QueryState query={collaborations} what="list">
        {(page) =>
          page.items.length === 0 ? (
            <Text>Nobody has invited you to a collaboration.</Text>
          ) : (
            <Stack>
              {page.items.map((collaboration) => {
                const primary = collaboration.primaryUsername ?? collaboration.primaryId;
                const active = collaboration.status === 'ACTIVE';
                const envs = (environments.data?.items ?? []).filter(
                  (e) => e.ownerId === collaboration.primaryId,
                );
                const groupName = (id: string) => groups.data?.items.find((g) => g.id === id)?.name;
                return (
                  <Card
                    withBorder
                    key={collaboration.id}
                    component="section"
                    aria-label={`Collaboration with ${primary}`}
                  >
                    <Stack gap="xs">
                      <Group justify="space-between">
                        <Title order={2} size="h4">
                          {primary}
                        </Title>
                        <Badge variant="light">{collaboration.status}</Badge>
                      </Group>
                      <Text size="sm">Invited {new Date(collaboration.invitedAt).toLocaleDateString()}</Text>
                      <Text fw={500} size="sm">
                        Shared items
                      </Text>
                      <List size="sm">
                        {collaboration.shared.map((item, i) => {
                          const env = item.resourceId
                            ? envs.find((e) => e.id === item.resourceId)
                            : undefined;
                          const label = item.category
                            ? 'All environments'
                            : item.groupId
                              ? `Group ${groupName(item.groupId) ?? item.groupId}`
                              : (env?.name ?? 'An environment');
                          return (
                            <List.Item key={i}>
                              {active && item.groupId ? (
                                <Anchor component={Link} to={paths.environmentGroup(item.groupId)}>
                                  {label}
                                </Anchor>
                              ) : active && env ? (
                                <Anchor component={Link} to={paths.environment(env.id)}>
                                  {label}
                                </Anchor>
                              ) : (
                                label
                              )}
                              : {item.permissions.map(permissionLabel).join(', ')}
                            </List.Item>
                          );
                        })}
                      </List>
                      {active && (
                        <>
                          <Text fw={500} size="sm">
                            Environments I can use
                          </Text>
                          {envs.length === 0 ? (
                            <Text size="sm">None yet.</Text>
                          ) : (
                            <List size="sm" aria-label={`Environments shared by ${primary}`}>
                              {envs.map((env) => (
                                <List.Item key={env.id}>
                                  <Anchor component={Link} to={paths.environment(env.id)}>
                                    {env.name}
                                  </Anchor>{' '}
                                  ({env.status.toLowerCase()})
                                </List.Item>
                              ))}
                            </List>
                          )}
                        </>
                      )}
                      <Group gap="xs">
                        {collaboration.status === 'PENDING' && (
                          <>
                            <Button
                              size="xs"
                              onClick={() => answer.mutate({ id: collaboration.id, action: 'accept' })}
                            >
                              Accept
                            </Button>
                            <Button
                              size="xs"
                              variant="default"
                              onClick={() => answer.mutate({ id: collaboration.id, action: 'reject' })}
                            >
                              Reject
                            </Button>
                          </>
                        )}
                        {(active || collaboration.status === 'SUSPENDED') && (
                          <Button
                            size="xs"
                            color="red"
                            variant="light"
                            onClick={() => answer.mutate({ id: collaboration.id, action: 'leave' })}
                          >
                            Leave
                          </Button>
                        )}
                      </Group>
                    </Stack>
                  </Card>
                );
              })}
            </Stack>
          )
        }
      </QueryState>
    </Stack>
  );
}
