import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { QueryState, signInPath } from '../components/page-state';
import { api, data } from '../lib/api';
import { useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import type { Organization, Page } from '../teams/types';

/** The organizations I belong to, with my role in each, and a form to create one. */
export default function OrganizationsPage() {
  const { user, accountId, switchAccount } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const organizations = useQuery({
    queryKey: ['organizations', 'mine'],
    queryFn: async () =>
      (await data(
        api.GET('/v2/organizations', { params: { query: { limit: 1000 } } }),
      )) as unknown as Page<Organization>,
    enabled: !!user,
  });
  const form = useForm({ initialValues: { username: '' } });
  const create = useApiForm(
    form,
    async (values: { username: string }) =>
      (await data(api.POST('/v2/organizations', { body: values }))) as unknown as Organization,
    async (created) => {
      form.reset();
      await queryClient.invalidateQueries({ queryKey: ['organizations'] });
      void navigate(paths.organization(created.id));
    },
  );
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} />;
  return (
    <Stack>
      <Title order={1}>Organizations</Title>
      <Text>
        An organization owns resources its members use with a role. Switch to it in the account menu at the
        top to act as the organization.
      </Text>
      <Paper
        withBorder
        p="md"
        component="form"
        onSubmit={create.onSubmit}
        noValidate
        aria-labelledby="create-org"
      >
        <Stack>
          <Title order={2} size="h4" id="create-org">
            Create an organization
          </Title>
          {create.formError && (
            <Alert color="red" role="alert">
              {create.formError}
            </Alert>
          )}
          <Text size="sm">Its username names it in URLs and in username~name references.</Text>
          <Group align="flex-start">
            <TextInput label="Organization username" required {...form.getInputProps('username')} />
            <Button type="submit" loading={create.pending} mt={25}>
              Create
            </Button>
          </Group>
        </Stack>
      </Paper>
      <Title order={2} size="h4">
        My organizations
      </Title>
      <QueryState query={organizations} what="list">
        {(page) =>
          page.items.length === 0 ? (
            <Text>You are not a member of any organization yet. Create one, or accept an invitation.</Text>
          ) : (
            <Table aria-label="My organizations" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Organization</Table.Th>
                  <Table.Th>My role</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Act as it</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((org) => (
                  <Table.Tr key={org.id}>
                    <Table.Td>
                      <Anchor component={Link} to={paths.organization(org.id)}>
                        {org.username}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light">{org.role.name}</Badge>
                    </Table.Td>
                    <Table.Td>{new Date(org.createdAt).toLocaleDateString()}</Table.Td>
                    <Table.Td>
                      {accountId === org.id ? (
                        <Text size="sm">Acting as it</Text>
                      ) : (
                        <Button
                          size="xs"
                          variant="light"
                          aria-label={`Act as ${org.username}`}
                          onClick={() => {
                            switchAccount(org.id);
                            void navigate(paths.home);
                          }}
                        >
                          Switch
                        </Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
    </Stack>
  );
}
