import { Anchor, Badge, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, Navigate, useLocation } from 'react-router';
import { QueryState, signInPath } from '../components/page-state';
import { api, data } from '../lib/api';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { ActionError, useAction } from '../teams/action';
import type { Collaboration, Invitation, Page } from '../teams/types';

/** The inbox: invitations into organizations and into account collaborations, answered here. */
export default function InvitationsPage() {
  const { user } = useSession();
  const location = useLocation();
  const organizations = useQuery({
    queryKey: ['invitations', 'mine'],
    queryFn: async () =>
      (await data(
        api.GET('/v2/users/me/invitations', { params: { query: { limit: 1000 } } }),
      )) as unknown as Page<Invitation>,
    enabled: !!user,
  });
  const collaborations = useQuery({
    queryKey: ['collaborations'],
    queryFn: async () =>
      (await data(
        api.GET('/v2/collaborations', { params: { query: { limit: 1000 } } }),
      )) as unknown as Page<Collaboration>,
    enabled: !!user,
  });
  const refresh = [['invitations'], ['organizations'], ['collaborations']];
  const answerInvitation = useAction(
    ({ id, answer }: { id: string; answer: 'accept' | 'decline' }) =>
      answer === 'accept'
        ? data(api.POST('/v2/invitations/{invitationId}/accept', { params: { path: { invitationId: id } } }))
        : data(
            api.POST('/v2/invitations/{invitationId}/decline', { params: { path: { invitationId: id } } }),
          ),
    refresh,
  );
  const answerCollaboration = useAction(
    ({ id, answer }: { id: string; answer: 'accept' | 'reject' }) =>
      answer === 'accept'
        ? data(
            api.POST('/v2/collaborations/{collaborationId}/accept', {
              params: { path: { collaborationId: id } },
            }),
          )
        : data(
            api.POST('/v2/collaborations/{collaborationId}/reject', {
              params: { path: { collaborationId: id } },
            }),
          ),
    refresh,
  );
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} />;
  return (
    <Stack>
      <Title order={1}>Invitations</Title>
      <Title order={2} size="h3">
        Organizations
      </Title>
      <ActionError error={answerInvitation.error} />
      <QueryState query={organizations} what="list">
        {(page) => {
          const pending = page.items.filter((invitation) => invitation.status === 'PENDING');
          const answered = page.items.filter((invitation) => invitation.status !== 'PENDING');
          return (
            <Stack>
              {pending.length === 0 ? (
                <Text>No pending invitation into an organization.</Text>
              ) : (
                <Table aria-label="Organization invitations" striped>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Organization</Table.Th>
                      <Table.Th>Role</Table.Th>
                      <Table.Th>Expires</Table.Th>
                      <Table.Th>Answer</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {pending.map((invitation) => (
                      <Table.Tr key={invitation.id}>
                        <Table.Td>{invitation.organizationUsername}</Table.Td>
                        <Table.Td>{invitation.roleName}</Table.Td>
                        <Table.Td>{new Date(invitation.expiresAt).toLocaleDateString()}</Table.Td>
                        <Table.Td>
                          <Group gap="xs">
                            <Button
                              size="xs"
                              aria-label={`Accept the invitation to ${invitation.organizationUsername}`}
                              onClick={() => answerInvitation.mutate({ id: invitation.id, answer: 'accept' })}
                            >
                              Accept
                            </Button>
                            <Button
                              size="xs"
                              variant="default"
                              aria-label={`Decline the invitation to ${invitation.organizationUsername}`}
                              onClick={() =>
                                answerInvitation.mutate({ id: invitation.id, answer: 'decline' })
                              }
                            >
                              Decline
                            </Button>
                          </Group>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
              {answered.length > 0 && (
                <Text size="sm">
                  Answered:{' '}
                  {answered.map((invitation, i) => (
                    <span key={invitation.id}>
                      {i > 0 && ', '}
                      {invitation.organizationUsername} ({invitation.status.toLowerCase()})
                    </span>
                  ))}
                  .{' '}
                  <Anchor component={Link} to={paths.organizations}>
                    My organizations
                  </Anchor>
                </Text>
              )}
            </Stack>
          );
        }}
      </QueryState>
      <Title order={2} size="h3">
        Account collaborations
      </Title>
      <ActionError error={answerCollaboration.error} />
      <QueryState query={collaborations} what="list">
        {(page) => {
          const pending = page.items.filter((collaboration) => collaboration.status === 'PENDING');
          return pending.length === 0 ? (
            <Text>
              No pending invitation into a collaboration.{' '}
              <Anchor component={Link} to={paths.collaborations}>
                My collaborations
              </Anchor>
            </Text>
          ) : (
            <Table aria-label="Collaboration invitations" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Primary account</Table.Th>
                  <Table.Th>Shared items</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Answer</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {pending.map((collaboration) => {
                  const primary = collaboration.primaryUsername ?? collaboration.primaryId;
                  return (
                    <Table.Tr key={collaboration.id}>
                      <Table.Td>{primary}</Table.Td>
                      <Table.Td>{collaboration.shared.length}</Table.Td>
                      <Table.Td>
                        <Badge variant="light">{collaboration.status}</Badge>
                      </Table.Td>
                      <Table.Td>
                        <Group gap="xs">
                          <Button
                            size="xs"
                            aria-label={`Accept the collaboration with ${primary}`}
                            onClick={() =>
                              answerCollaboration.mutate({ id: collaboration.id, answer: 'accept' })
                            }
                          >
                            Accept
                          </Button>
                          <Button
                            size="xs"
                            variant="default"
                            aria-label={`Reject the collaboration with ${primary}`}
                            onClick={() =>
                              answerCollaboration.mutate({ id: collaboration.id, answer: 'reject' })
                            }
                          >
                            Reject
                          </Button>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          );
        }}
      </QueryState>
    </Stack>
  );
}
