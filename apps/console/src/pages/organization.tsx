import {
  Accordion,
  Alert,
  Badge,
  Button,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Navigate, useLocation, useNavigate, useParams, useSearchParams } from 'react-router';
import { QueryState, signInPath } from '../components/page-state';
import { api, data } from '../lib/api';
import { useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { ActionError, useAction } from '../teams/action';
import { RoleEditor, type RoleValues } from '../teams/role-editor';
import type { Invitation, Organization, OrganizationMember, OrganizationRole, Page } from '../teams/types';

const TABS = ['members', 'roles', 'invitations', 'settings'] as const;
type Tab = (typeof TABS)[number];

const BUILT_IN_LABEL = 'Built in';

/** One organization: its members, roles, invitations sent and settings, as tabs (`?tab=`). */
export default function OrganizationPage() {
  const { orgId = '' } = useParams();
  const { user } = useSession();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const tab: Tab = TABS.find((t) => t === params.get('tab')) ?? 'members';
  const organization = useQuery({
    queryKey: ['organizations', orgId],
    queryFn: async () =>
      (await data(
        api.GET('/v2/organizations/{orgId}', { params: { path: { orgId } } }),
      )) as unknown as Organization,
    enabled: !!user,
  });
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} />;
  return (
    <QueryState query={organization} what="organization">
      {(org) => (
        <Stack>
          <Group justify="space-between">
            <Title order={1}>{org.username}</Title>
            <Text>
              My role: <Badge variant="light">{org.role.name}</Badge>
            </Text>
          </Group>
          <Tabs
            value={tab}
            onChange={(value) => setParams(value && value !== 'members' ? { tab: value } : {})}
          >
            <Tabs.List aria-label="Organization">
              <Tabs.Tab value="members">Members</Tabs.Tab>
              <Tabs.Tab value="roles">Roles</Tabs.Tab>
              <Tabs.Tab value="invitations">Invitations sent</Tabs.Tab>
              <Tabs.Tab value="settings">Settings</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="members" pt="md">
              {tab === 'members' && <Members org={org} userId={user.id} />}
            </Tabs.Panel>
            <Tabs.Panel value="roles" pt="md">
              {tab === 'roles' && <Roles org={org} />}
            </Tabs.Panel>
            <Tabs.Panel value="invitations" pt="md">
              {tab === 'invitations' && <Invitations org={org} />}
            </Tabs.Panel>
            <Tabs.Panel value="settings" pt="md">
              {tab === 'settings' && <Settings org={org} userId={user.id} />}
            </Tabs.Panel>
          </Tabs>
        </Stack>
      )}
    </QueryState>
  );
}

function can(org: Organization, permission: string): boolean {
  return org.role.permissions.ORGANIZATION?.includes(permission) ?? false;
}

function useRoles(orgId: string) {
  return useQuery({
    queryKey: ['organizations', orgId, 'roles'],
    queryFn: async () =>
      (await data(
        api.GET('/v2/organizations/{orgId}/roles', { params: { path: { orgId }, query: { limit: 1000 } } }),
      )) as unknown as Page<OrganizationRole>,
  });
}

function Members({ org, userId }: { org: Organization; userId: string }) {
  const navigate = useNavigate();
  const { accountId, switchAccount } = useSession();
  const orgId = org.id;
  const members = useQuery({
    queryKey: ['organizations', orgId, 'members'],
    queryFn: async () =>
      (await data(
        api.GET('/v2/organizations/{orgId}/members', { params: { path: { orgId }, query: { limit: 1000 } } }),
      )) as unknown as Page<OrganizationMember>,
  });
  const roles = useRoles(orgId);
  const refresh = [['organizations']];
  const changeRole = useAction(
    ({ memberId, roleId }: { memberId: string; roleId: string }) =>
      data(
        api.PUT('/v2/organizations/{orgId}/members/{userId}', {
          params: { path: { orgId, userId: memberId } },
          body: { roleId },
        }),
      ),
    refresh,
  );
  const remove = useAction(
    (memberId: string) =>
      data(
        api.DELETE('/v2/organizations/{orgId}/members/{userId}', {
          params: { path: { orgId, userId: memberId } },
        }),
      ),
    refresh,
  );
  const manage = can(org, 'MANAGE_MEMBERS');
  const roleOptions = (roles.data?.items ?? []).map((role) => ({ value: role.id, label: role.name }));
  return (
    <QueryState query={members} what="list">
      {(page) => (
        <Stack>
          <ActionError error={changeRole.error ?? remove.error} />
          <Table aria-label="Members" striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Username</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Joined</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {page.items.map((member) => {
                const me = member.userId === userId;
                const owner = member.userId === org.ownerId;
                return (
                  <Table.Tr key={member.userId}>
                    <Table.Td>
                      {member.username}
                      {me && ' (you)'}
                    </Table.Td>
                    <Table.Td>
                      {manage && !owner ? (
                        <Select
                          aria-label={`Role of ${member.username}`}
                          data={
                            roleOptions.length
                              ? roleOptions
                              : [{ value: member.roleId, label: member.roleName }]
                          }
                          value={member.roleId}
                          allowDeselect={false}
                          w={200}
                          onChange={(roleId) =>
                            roleId && changeRole.mutate({ memberId: member.userId, roleId })
                          }
                        />
                      ) : (
                        member.roleName
                      )}
                    </Table.Td>
                    <Table.Td>{new Date(member.joinedAt).toLocaleDateString()}</Table.Td>
                    <Table.Td>
                      {me && !owner ? (
                        <Button
                          size="xs"
                          color="red"
                          variant="light"
                          onClick={() =>
                            remove.mutate(member.userId, {
                              onSuccess: () => {
                                if (accountId === orgId) switchAccount(undefined);
                                void navigate(paths.organizations);
                              },
                            })
                          }
                        >
                          Leave
                        </Button>
                      ) : manage && !owner ? (
                        <Button
                          size="xs"
                          color="red"
                          variant="light"
                          aria-label={`Remove ${member.username}`}
                          onClick={() => remove.mutate(member.userId)}
                        >
                          Remove
                        </Button>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Stack>
      )}
    </QueryState>
  );
}

/** The editor's lists are the contracts' permissions; the client's types list them as literals. */
function roleBody(values: RoleValues) {
  return { name: values.name, permissions: values.permissions as never };
}

function Roles({ org }: { org: Organization }) {
  const orgId = org.id;
  const queryClient = useQueryClient();
  const roles = useRoles(orgId);
  const manage = can(org, 'MANAGE_MEMBERS');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['organizations'] });
  const remove = useAction(
    (roleId: string) =>
      data(api.DELETE('/v2/organizations/{orgId}/roles/{roleId}', { params: { path: { orgId, roleId } } })),
    [['organizations']],
  );
  const create = (values: RoleValues) =>
    data(
      api.POST('/v2/organizations/{orgId}/roles', { params: { path: { orgId } }, body: roleBody(values) }),
    );
  return (
    <QueryState query={roles} what="list">
      {(page) => (
        <Stack>
          <ActionError error={remove.error} />
          <Accordion variant="separated" multiple>
            {page.items.map((role) => (
              <Accordion.Item key={role.id} value={role.id}>
                <Accordion.Control>
                  <Group gap="xs">
                    <Text fw={500}>{role.name}</Text>
                    {role.builtIn && <Badge variant="outline">{BUILT_IN_LABEL}</Badge>}
                    <Text size="sm">
                      {role.memberCount} member{role.memberCount === 1 ? '' : 's'}
                    </Text>
                  </Group>
                </Accordion.Control>
                <Accordion.Panel>
                  <Stack>
                    {role.builtIn === 'OWNER' && (
                      <Text size="sm">The Owner role is fixed: it holds every permission.</Text>
                    )}
                    <RoleEditor
                      idPrefix={`role-${role.id}`}
                      initial={role}
                      readOnly={!manage || role.builtIn === 'OWNER'}
                      submitLabel="Save role"
                      save={(values) =>
                        data(
                          api.PUT('/v2/organizations/{orgId}/roles/{roleId}', {
                            params: { path: { orgId, roleId: role.id } },
                            body: roleBody(values),
                          }),
                        )
                      }
                      onSaved={() => void refresh()}
                    />
                    {manage && role.builtIn !== 'OWNER' && (
                      <Group>
                        <Button
                          color="red"
                          variant="light"
                          disabled={role.memberCount > 0}
                          onClick={() => remove.mutate(role.id)}
                        >
                          Delete role {role.name}
                        </Button>
                        {role.memberCount > 0 && (
                          <Text size="sm">A role is deleted only when nobody holds it.</Text>
                        )}
                      </Group>
                    )}
                  </Stack>
                </Accordion.Panel>
              </Accordion.Item>
            ))}
          </Accordion>
          {manage && (
            <Stack>
              <Title order={2} size="h4">
                Create a custom role
              </Title>
              <RoleEditor
                idPrefix="new-role"
                submitLabel="Create role"
                save={create}
                onSaved={() => void refresh()}
              />
            </Stack>
          )}
        </Stack>
      )}
    </QueryState>
  );
}

function Invitations({ org }: { org: Organization }) {
  const orgId = org.id;
  const queryClient = useQueryClient();
  const roles = useRoles(orgId);
  const invitations = useQuery({
    queryKey: ['organizations', orgId, 'invitations'],
    queryFn: async () =>
      (await data(
        api.GET('/v2/organizations/{orgId}/invitations', {
          params: { path: { orgId }, query: { limit: 1000, desc: 'true' } },
        }),
      )) as unknown as Page<Invitation>,
  });
  const form = useForm({ initialValues: { user: '', roleId: '' } });
  const invite = useApiForm(
    form,
    (values: { user: string; roleId: string }) =>
      data(api.POST('/v2/organizations/{orgId}/invitations', { params: { path: { orgId } }, body: values })),
    () => {
      form.reset();
      void queryClient.invalidateQueries({ queryKey: ['organizations', orgId, 'invitations'] });
    },
  );
  const cancel = useAction(
    (invitationId: string) =>
      data(api.DELETE('/v2/invitations/{invitationId}', { params: { path: { invitationId } } })),
    [['organizations', orgId, 'invitations']],
  );
  const roleOptions = (roles.data?.items ?? [])
    .filter((role) => role.builtIn !== 'OWNER')
    .map((role) => ({ value: role.id, label: role.name }));
  return (
    <Stack>
      <Paper
        withBorder
        p="md"
        component="form"
        onSubmit={invite.onSubmit}
        noValidate
        aria-labelledby="invite-title"
      >
        <Stack>
          <Title order={2} size="h4" id="invite-title">
            Invite a member
          </Title>
          {invite.formError && (
            <Alert color="red" role="alert">
              {invite.formError}
            </Alert>
          )}
          <Group align="flex-start">
            <TextInput label="Username or email" required {...form.getInputProps('user')} />
            <Select label="Role" required data={roleOptions} w={220} {...form.getInputProps('roleId')} />
            <Button type="submit" loading={invite.pending} mt={25}>
              Invite
            </Button>
          </Group>
        </Stack>
      </Paper>
      <ActionError error={cancel.error} />
      <QueryState query={invitations} what="list">
        {(page) =>
          page.items.length === 0 ? (
            <Text>No invitations sent.</Text>
          ) : (
            <Table aria-label="Invitations sent" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Invitee</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th>Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((invitation) => {
                  const who = invitation.username ?? invitation.email ?? invitation.userId ?? '';
                  return (
                    <Table.Tr key={invitation.id}>
                      <Table.Td>{who}</Table.Td>
                      <Table.Td>{invitation.roleName}</Table.Td>
                      <Table.Td>
                        <Badge variant="light">{invitation.status}</Badge>
                      </Table.Td>
                      <Table.Td>{new Date(invitation.expiresAt).toLocaleDateString()}</Table.Td>
                      <Table.Td>
                        {invitation.status === 'PENDING' && (
                          <Button
                            size="xs"
                            variant="light"
                            color="red"
                            aria-label={`Cancel the invitation of ${who}`}
                            onClick={() => cancel.mutate(invitation.id)}
                          >
                            Cancel
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
    </Stack>
  );
}

function Settings({ org, userId }: { org: Organization; userId: string }) {
  const orgId = org.id;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { accountId, switchAccount } = useSession();
  const [confirming, setConfirming] = useState(false);
  const owner = org.ownerId === userId;
  const form = useForm({ initialValues: { username: org.username } });
  const rename = useApiForm(
    form,
    (values: { username: string }) =>
      data(api.PUT('/v2/organizations/{orgId}', { params: { path: { orgId } }, body: values })),
    () => void queryClient.invalidateQueries({ queryKey: ['organizations'] }),
  );
  const remove = useAction(
    () => data(api.DELETE('/v2/organizations/{orgId}', { params: { path: { orgId } } })),
    [],
  );
  if (!owner) return <Text>Only the organization's owner can rename or delete it.</Text>;
  return (
    <Stack>
      <Paper
        withBorder
        p="md"
        component="form"
        onSubmit={rename.onSubmit}
        noValidate
        aria-labelledby="rename-title"
      >
        <Stack>
          <Title order={2} size="h4" id="rename-title">
            Rename
          </Title>
          {rename.formError && (
            <Alert color="red" role="alert">
              {rename.formError}
            </Alert>
          )}
          <Group align="flex-start">
            <TextInput label="Organization username" required {...form.getInputProps('username')} />
            <Button type="submit" loading={rename.pending} mt={25}>
              Rename
            </Button>
          </Group>
        </Stack>
      </Paper>
      <Paper withBorder p="md">
        <Stack>
          <Title order={2} size="h4">
            Delete this organization
          </Title>
          <Text>Its members lose access to everything it owns.</Text>
          <ActionError error={remove.error} />
          {confirming ? (
            <Group>
              <Button
                color="red"
                loading={remove.isPending}
                onClick={() =>
                  remove.mutate(undefined, {
                    onSuccess: () => {
                      if (accountId === orgId) switchAccount(undefined);
                      queryClient.clear();
                      void navigate(paths.organizations);
                    },
                  })
                }
              >
                Yes, delete {org.username}
              </Button>
              <Button variant="default" onClick={() => setConfirming(false)}>
                Keep it
              </Button>
            </Group>
          ) : (
            <Group>
              <Button color="red" variant="light" onClick={() => setConfirming(true)}>
                Delete organization
              </Button>
            </Group>
          )}
        </Stack>
      </Paper>
    </Stack>
  );
}
