import {
  Accordion,
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Paper,
  Stack,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Navigate, useLocation, useSearchParams } from 'react-router';
import { ENVIRONMENT_OPERATIONS } from '../../../../libs/contracts/src/access.enums';
import { QueryState, signInPath } from '../components/page-state';
import { api, data } from '../lib/api';
import { useApiForm } from '../lib/forms';
import { useSession } from '../lib/session';
import { ActionError, useAction } from '../teams/action';
import { permissionLabel } from '../teams/permissions';
import { SharesEditor, toShareBody, toShareRows, type ShareRow } from '../teams/shares-editor';
import type {
  CollaborationMember,
  CollaborationPolicy,
  CollaborationRole,
  CollaborationStatus,
  Environment,
  EnvironmentGroup,
  Page,
} from '../teams/types';

const TABS = ['members', 'roles', 'policies'] as const;
type Tab = (typeof TABS)[number];
const ALL = { params: { query: { limit: 1000 } } } as const;

const STATUS_COLORS: Record<CollaborationStatus, string> = {
  PENDING: 'yellow',
  ACTIVE: 'green',
  SUSPENDED: 'orange',
  LEFT: 'gray',
  REMOVED: 'gray',
  DECLINED: 'gray',
};

/** Account collaboration, the primary's side (Virtuozzo): members, roles and policies. */
export default function CollaborationPage() {
  const { user } = useSession();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const tab: Tab = TABS.find((t) => t === params.get('tab')) ?? 'members';
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} />;
  return (
    <Stack>
      <Title order={1}>Collaboration</Title>
      <Text>
        Invite people by email to use this account's environments: share single environments, groups or all of
        them, each with roles made of policies.
      </Text>
      <Tabs value={tab} onChange={(value) => setParams(value && value !== 'members' ? { tab: value } : {})}>
        <Tabs.List aria-label="Collaboration">
          <Tabs.Tab value="members">Members</Tabs.Tab>
          <Tabs.Tab value="roles">Roles</Tabs.Tab>
          <Tabs.Tab value="policies">Policies</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="members" pt="md">
          {tab === 'members' && <Members />}
        </Tabs.Panel>
        <Tabs.Panel value="roles" pt="md">
          {tab === 'roles' && <Roles />}
        </Tabs.Panel>
        <Tabs.Panel value="policies" pt="md">
          {tab === 'policies' && <Policies />}
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function useRoles() {
  return useQuery({
    queryKey: ['collaboration', 'roles'],
    queryFn: async () =>
      (await data(api.GET('/v2/collaboration/roles', ALL))) as unknown as Page<CollaborationRole>,
  });
}

function usePolicies() {
  return useQuery({
    queryKey: ['collaboration', 'policies'],
    queryFn: async () =>
      (await data(api.GET('/v2/collaboration/policies', ALL))) as unknown as Page<CollaborationPolicy>,
  });
}

/** This account's environments and groups: what can be shared. */
function useShareables() {
  const environments = useQuery({
    queryKey: ['environments', 'owned'],
    queryFn: async () => (await data(api.GET('/v2/environments', ALL))) as unknown as Page<Environment>,
  });
  const groups = useQuery({
    queryKey: ['environment-groups', 'owned'],
    queryFn: async () =>
      (await data(api.GET('/v2/environment-groups', ALL))) as unknown as Page<EnvironmentGroup>,
  });
  return { environments: environments.data?.items ?? [], groups: groups.data?.items ?? [] };
}

interface MemberValues extends Record<string, unknown> {
  email: string;
  displayName: string;
  shared: ShareRow[];
}

function Members() {
  const queryClient = useQueryClient();
  const members = useQuery({
    queryKey: ['collaboration', 'members'],
    queryFn: async () =>
      (await data(api.GET('/v2/collaboration/members', ALL))) as unknown as Page<CollaborationMember>,
  });
  const roles = useRoles();
  const { environments, groups } = useShareables();
  const [editing, setEditing] = useState<string>();
  const refresh = [['collaboration', 'members']];
  const act = useAction(
    ({ memberId, action }: { memberId: string; action: 'suspend' | 'activate' | 'reinvite' | 'remove' }) => {
      const path = { params: { path: { memberId } } };
      if (action === 'remove') return data(api.DELETE('/v2/collaboration/members/{memberId}', path));
      if (action === 'suspend') return data(api.POST('/v2/collaboration/members/{memberId}/suspend', path));
      if (action === 'activate') return data(api.POST('/v2/collaboration/members/{memberId}/activate', path));
      return data(api.POST('/v2/collaboration/members/{memberId}/reinvite', path));
    },
    refresh,
  );
  const form = useForm<MemberValues>({ initialValues: { email: '', displayName: '', shared: [] } });
  const invite = useApiForm(
    form,
    (values: MemberValues) =>
      data(
        api.POST('/v2/collaboration/members', {
          body: {
            email: values.email,
            displayName: values.displayName.trim() || undefined,
            shared: toShareBody(values.shared),
          },
        }),
      ),
    () => {
      form.reset();
      void queryClient.invalidateQueries({ queryKey: ['collaboration', 'members'] });
    },
  );
  const roleList = roles.data?.items ?? [];
  const nameOf = (item: { resourceId?: string; groupId?: string; category?: string }) =>
    item.category
      ? 'All environments'
      : item.groupId
        ? `Group ${groups.find((g) => g.id === item.groupId)?.name ?? item.groupId}`
        : (environments.find((e) => e.id === item.resourceId)?.name ?? item.resourceId);
  const roleNames = (ids: string[]) =>
    ids.map((id) => roleList.find((r) => r.id === id)?.name ?? id).join(', ');
  return (
    <Stack>
      <ActionError error={act.error} />
      <QueryState query={members} what="list">
        {(page) =>
          page.items.length === 0 ? (
            <Text>No members yet.</Text>
          ) : (
            <Table aria-label="Collaboration members" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Member</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Shared</Table.Th>
                  <Table.Th>Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((member) => {
                  const who = member.displayName ? `${member.displayName} (${member.email})` : member.email;
                  const ended = ['LEFT', 'REMOVED', 'DECLINED'].includes(member.status);
                  const button = (action: 'suspend' | 'activate' | 'reinvite' | 'remove', label: string) => (
                    <Button
                      size="xs"
                      variant="light"
                      color={action === 'remove' ? 'red' : undefined}
                      aria-label={`${label} ${member.email}`}
                      onClick={() => act.mutate({ memberId: member.id, action })}
                    >
                      {label}
                    </Button>
                  );
                  return (
                    <Table.Tr key={member.id}>
                      <Table.Td>{who}</Table.Td>
                      <Table.Td>
                        <Badge color={STATUS_COLORS[member.status]} variant="dot">
                          {member.status}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        {member.shared.length === 0
                          ? 'Nothing'
                          : member.shared.map((item, i) => (
                              <div key={i}>
                                {nameOf(item)}: {roleNames(item.roleIds)}
                              </div>
                            ))}
                      </Table.Td>
                      <Table.Td>
                        <Group gap="xs">
                          {member.status === 'ACTIVE' && button('suspend', 'Suspend')}
                          {member.status === 'SUSPENDED' && button('activate', 'Activate')}
                          {ended && button('reinvite', 'Reinvite')}
                          {!ended && (
                            <Button
                              size="xs"
                              variant="light"
                              aria-label={`Edit shares of ${member.email}`}
                              onClick={() => setEditing(editing === member.id ? undefined : member.id)}
                            >
                              Edit shares
                            </Button>
                          )}
                          {!ended && button('remove', 'Remove')}
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
      {editing && members.data?.items.find((m) => m.id === editing) && (
        <EditShares
          key={editing}
          member={members.data.items.find((m) => m.id === editing)!}
          environments={environments}
          groups={groups}
          roles={roleList}
          onDone={() => setEditing(undefined)}
        />
      )}
      <Paper
        withBorder
        p="md"
        component="form"
        onSubmit={invite.onSubmit}
        noValidate
        aria-labelledby="invite-member"
      >
        <Stack>
          <Title order={2} size="h4" id="invite-member">
            Invite a member
          </Title>
          {roleList.length === 0 && (
            <Text size="sm">Create a role first (Roles tab): every shared item needs one.</Text>
          )}
          {invite.formError && (
            <Alert color="red" role="alert">
              {invite.formError}
            </Alert>
          )}
          <Group align="flex-start">
            <TextInput label="Email" type="email" required {...form.getInputProps('email')} />
            <TextInput label="Display name" {...form.getInputProps('displayName')} />
          </Group>
          <SharesEditor
            value={form.getValues().shared}
            onChange={(rows) => form.setFieldValue('shared', rows)}
            environments={environments}
            groups={groups}
            roles={roleList}
            error={form.errors.shared}
          />
          <Group>
            <Button type="submit" loading={invite.pending}>
              Invite
            </Button>
          </Group>
        </Stack>
      </Paper>
    </Stack>
  );
}

function EditShares({
  member,
  environments,
  groups,
  roles,
  onDone,
}: {
  member: CollaborationMember;
  environments: Environment[];
  groups: EnvironmentGroup[];
  roles: CollaborationRole[];
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const form = useForm<{ shared: ShareRow[] }>({ initialValues: { shared: toShareRows(member.shared) } });
  const save = useApiForm(
    form,
    (values) =>
      data(
        api.PUT('/v2/collaboration/members/{memberId}', {
          params: { path: { memberId: member.id } },
          body: { shared: toShareBody(values.shared) },
        }),
      ),
    () => {
      void queryClient.invalidateQueries({ queryKey: ['collaboration', 'members'] });
      onDone();
    },
  );
  return (
    <Paper
      withBorder
      p="md"
      component="form"
      onSubmit={save.onSubmit}
      noValidate
      aria-labelledby="edit-shares"
    >
      <Stack>
        <Title order={2} size="h4" id="edit-shares">
          Shares of {member.email}
        </Title>
        {save.formError && (
          <Alert color="red" role="alert">
            {save.formError}
          </Alert>
        )}
        <SharesEditor
          value={form.getValues().shared}
          onChange={(rows) => form.setFieldValue('shared', rows)}
          environments={environments}
          groups={groups}
          roles={roles}
          error={form.errors.shared}
        />
        <Group>
          <Button type="submit" loading={save.pending}>
            Save shares
          </Button>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

interface RoleValues extends Record<string, unknown> {
  name: string;
  description: string;
  policies: string[];
  receiveNotifications: boolean;
}

function RoleForm({
  role,
  policies,
  onSaved,
}: {
  role?: CollaborationRole;
  policies: CollaborationPolicy[];
  onSaved: () => void;
}) {
  const form = useForm<RoleValues>({
    initialValues: {
      name: role?.name ?? '',
      description: role?.description ?? '',
      policies: role?.policies ?? [],
      receiveNotifications: role?.receiveNotifications ?? false,
    },
  });
  const save = useApiForm(
    form,
    (values: RoleValues) => {
      const body = { ...values, description: values.description.trim() || null };
      return role
        ? data(api.PUT('/v2/collaboration/roles/{roleId}', { params: { path: { roleId: role.id } }, body }))
        : data(api.POST('/v2/collaboration/roles', { body }));
    },
    () => {
      if (!role) form.reset();
      onSaved();
    },
  );
  return (
    <Paper withBorder p="md" component="form" onSubmit={save.onSubmit} noValidate>
      <Stack>
        {save.formError && (
          <Alert color="red" role="alert">
            {save.formError}
          </Alert>
        )}
        <TextInput label="Role name" required {...form.getInputProps('name')} />
        <Textarea label="Description" {...form.getInputProps('description')} />
        <Checkbox.Group label="Policies" {...form.getInputProps('policies')}>
          <Group mt={4} gap="sm">
            {policies.map((policy) => (
              <Checkbox key={policy.id} value={policy.id} label={policy.name} />
            ))}
          </Group>
        </Checkbox.Group>
        <Checkbox
          label="Receive notifications"
          {...form.getInputProps('receiveNotifications', { type: 'checkbox' })}
        />
        <Group>
          <Button type="submit" loading={save.pending}>
            {role ? 'Save role' : 'Create role'}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

function Roles() {
  const queryClient = useQueryClient();
  const roles = useRoles();
  const policies = usePolicies();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['collaboration'] });
  const remove = useAction(
    (roleId: string) =>
      data(api.DELETE('/v2/collaboration/roles/{roleId}', { params: { path: { roleId } } })),
    [['collaboration']],
  );
  const policyList = policies.data?.items ?? [];
  return (
    <QueryState query={roles} what="list">
      {(page) => (
        <Stack>
          <ActionError error={remove.error} />
          {page.items.length === 0 && <Text>No roles yet.</Text>}
          <Accordion variant="separated" multiple>
            {page.items.map((role) => (
              <Accordion.Item key={role.id} value={role.id}>
                <Accordion.Control>
                  <Text fw={500}>{role.name}</Text>
                  <Text size="sm">{role.permissions.map(permissionLabel).join(', ')}</Text>
                </Accordion.Control>
                <Accordion.Panel>
                  <Stack>
                    <RoleForm role={role} policies={policyList} onSaved={refresh} />
                    <Group>
                      <Button color="red" variant="light" onClick={() => remove.mutate(role.id)}>
                        Delete role {role.name}
                      </Button>
                    </Group>
                  </Stack>
                </Accordion.Panel>
              </Accordion.Item>
            ))}
          </Accordion>
          <Title order={2} size="h4">
            Create a role
          </Title>
          <RoleForm policies={policyList} onSaved={refresh} />
        </Stack>
      )}
    </QueryState>
  );
}

interface PolicyValues extends Record<string, unknown> {
  name: string;
  description: string;
  permissions: string[];
}

function PolicyForm({ policy, onSaved }: { policy?: CollaborationPolicy; onSaved: () => void }) {
  const form = useForm<PolicyValues>({
    initialValues: {
      name: policy?.name ?? '',
      description: policy?.description ?? '',
      permissions: policy?.permissions ?? [],
    },
  });
  const save = useApiForm(
    form,
    (values: PolicyValues) => {
      const body = {
        name: values.name,
        description: values.description.trim() || null,
        permissions: values.permissions as never,
      };
      return policy
        ? data(
            api.PUT('/v2/collaboration/policies/{policyId}', {
              params: { path: { policyId: policy.id } },
              body,
            }),
          )
        : data(api.POST('/v2/collaboration/policies', { body }));
    },
    () => {
      if (!policy) form.reset();
      onSaved();
    },
  );
  return (
    <Paper withBorder p="md" component="form" onSubmit={save.onSubmit} noValidate>
      <Stack>
        {save.formError && (
          <Alert color="red" role="alert">
            {save.formError}
          </Alert>
        )}
        <TextInput label="Policy name" required {...form.getInputProps('name')} />
        <Textarea label="Description" {...form.getInputProps('description')} />
        <Checkbox.Group label="Operations" {...form.getInputProps('permissions')}>
          <Group mt={4} gap="sm">
            {ENVIRONMENT_OPERATIONS.map((operation) => (
              <Checkbox key={operation} value={operation} label={permissionLabel(operation)} />
            ))}
          </Group>
        </Checkbox.Group>
        <Group>
          <Button type="submit" loading={save.pending}>
            {policy ? 'Save policy' : 'Create policy'}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

function Policies() {
  const queryClient = useQueryClient();
  const policies = usePolicies();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['collaboration'] });
  const remove = useAction(
    (policyId: string) =>
      data(api.DELETE('/v2/collaboration/policies/{policyId}', { params: { path: { policyId } } })),
    [['collaboration']],
  );
  return (
    <QueryState query={policies} what="list">
      {(page) => {
        const system = page.items.filter((p) => p.system);
        const custom = page.items.filter((p) => !p.system);
        return (
          <Stack>
            <Title order={2} size="h4">
              System policies
            </Title>
            <Table aria-label="System policies" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Policy</Table.Th>
                  <Table.Th>Operations</Table.Th>
                  <Table.Th>What it allows</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {system.map((policy) => (
                  <Table.Tr key={policy.id}>
                    <Table.Td>{policy.name}</Table.Td>
                    <Table.Td>{policy.permissions.join(', ')}</Table.Td>
                    <Table.Td>{policy.description}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            <Title order={2} size="h4">
              Custom policies
            </Title>
            <ActionError error={remove.error} />
            {custom.length === 0 && <Text>No custom policies.</Text>}
            <Accordion variant="separated" multiple>
              {custom.map((policy) => (
                <Accordion.Item key={policy.id} value={policy.id}>
                  <Accordion.Control>
                    <Text fw={500}>{policy.name}</Text>
                  </Accordion.Control>
                  <Accordion.Panel>
                    <Stack>
                      <PolicyForm policy={policy} onSaved={refresh} />
                      <Group>
                        <Button color="red" variant="light" onClick={() => remove.mutate(policy.id)}>
                          Delete policy {policy.name}
                        </Button>
                      </Group>
                    </Stack>
                  </Accordion.Panel>
                </Accordion.Item>
              ))}
            </Accordion>
            <Title order={3} size="h5">
              Create a policy
            </Title>
            <PolicyForm onSaved={refresh} />
          </Stack>
        );
      }}
    </QueryState>
  );
}
