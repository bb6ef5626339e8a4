import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Group,
  Modal,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError, call, data } from '../lib/api';
import { errorMessage, useApiForm } from '../lib/forms';
import { ErrorAlert, Loading } from '../components/page-state';
import { NoAccess, readableDescription } from './contents';
import { APP_SCOPES, BASIC_SCOPES, scopeGroups, summarizeScopes } from './scopes';

interface Collaborator {
  id: string;
  userId: string;
  username: string | null;
  scopes: string[];
  addedBy: string;
  createdAt: string;
}

interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  scope: { resources: { type: string; id: string; permissions: string[] }[] } | null;
  createdAt: string;
  lastUsedAt: string | null;
}

/** The name the API gives the personal access token of an app's collaborator. */
export const collaboratorTokenName = (appId: string) => `app:${appId} collaborator`;

export function ScopeBadges({ scopes }: { scopes: readonly string[] }) {
  const shown = summarizeScopes(scopes);
  if (!shown.length) return <Text size="sm">No scopes</Text>;
  return (
    <Group gap={4}>
      {shown.map((s) => (
        <Badge key={s} variant="default" tt="none">
          {s}
        </Badge>
      ))}
    </Group>
  );
}

/** The advanced picker: every fine scope, grouped by what it acts on. */
function FineScopes({
  error,
  ...props
}: {
  value: string[];
  onChange: (v: string[]) => void;
  error?: React.ReactNode;
}) {
  return (
    <Checkbox.Group
      label="Scopes"
      description="Each scope allows one kind of operation"
      styles={readableDescription}
      error={error}
      {...props}
    >
      <SimpleGrid cols={{ base: 1, sm: 3 }} mt="xs" spacing="xs">
        {scopeGroups().map(([group, scopes]) => (
          <Stack key={group} gap={4} role="group" aria-label={group}>
            {scopes.map((s) => (
              <Checkbox key={s} value={s} label={s} />
            ))}
          </Stack>
        ))}
      </SimpleGrid>
    </Checkbox.Group>
  );
}

/** Clarifai's basic scopes: each a preset of fine ones. */
function BasicScopes({
  error,
  ...props
}: {
  value: string[];
  onChange: (v: string[]) => void;
  error?: React.ReactNode;
}) {
  return (
    <Checkbox.Group
      label="Scopes"
      description="Each basic scope gives all operations on its kind"
      styles={readableDescription}
      error={error}
      {...props}
    >
      <SimpleGrid cols={{ base: 2, sm: 4 }} mt="xs" spacing="xs">
        {Object.entries(BASIC_SCOPES).map(([basic, fine]) => (
          <Checkbox
            key={basic}
            value={basic}
            label={basic}
            description={fine.length > 1 ? fine.join(', ') : undefined}
            styles={readableDescription}
          />
        ))}
      </SimpleGrid>
    </Checkbox.Group>
  );
}

function AddCollaborator({ appId }: { appId: string }) {
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { user: '', mode: 'basic', scopes: [] as string[] } });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    async ({ user, scopes }) => {
      try {
        return await data(
          api.POST('/v2/apps/{appId}/collaborators', {
            params: { path: { appId } },
            body: { user, scopes } as never,
          }),
        );
      } catch (err) {
        // "The user "x" (body.user) was not found": next to the field it names.
        if (err instanceof ApiError && !err.field && err.message.includes('(body.user)'))
          throw new ApiError(err.status, err.type, `Field "body.user" ${err.message}`);
        throw err;
      }
    },
    () => {
      form.reset();
      void queryClient.invalidateQueries({ queryKey: ['app-collaborators', appId] });
    },
  );
  const scopeProps = form.getInputProps('scopes') as {
    value: string[];
    onChange: (v: string[]) => void;
    error?: React.ReactNode;
  };
  return (
    <form onSubmit={onSubmit} aria-label="Add a collaborator">
      <Stack gap="sm">
        <Title order={3}>Add a collaborator</Title>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput
          label="Username"
          description="No acceptance step: the collaborator has access at once. Not an email address: adding people does not look them up by email, so that it cannot reveal who has an account."
          styles={readableDescription}
          withAsterisk
          {...form.getInputProps('user')}
        />
        <SegmentedControl
          aria-label="Kind of scopes"
          data={[
            { value: 'basic', label: 'Basic scopes' },
            { value: 'advanced', label: 'Advanced scopes' },
          ]}
          value={form.getValues().mode}
          onChange={(mode) => {
            form.setFieldValue('mode', mode);
            form.setFieldValue('scopes', []);
          }}
        />
        {form.getValues().mode === 'basic' ? <BasicScopes {...scopeProps} /> : <FineScopes {...scopeProps} />}
        <Group>
          <Button type="submit" loading={pending}>
            Add collaborator
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function EditScopes({
  appId,
  collaborator,
  onClose,
}: {
  appId: string;
  collaborator: Collaborator;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { scopes: collaborator.scopes } });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    ({ scopes }) =>
      data(
        api.PATCH('/v2/apps/{appId}/collaborators/{collaboratorId}', {
          params: { path: { appId, collaboratorId: collaborator.userId } },
          body: { scopes } as never,
        }),
      ),
    () => {
      void queryClient.invalidateQueries({ queryKey: ['app-collaborators', appId] });
      onClose();
    },
  );
  return (
    <form onSubmit={onSubmit}>
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <FineScopes
          {...(form.getInputProps('scopes') as { value: string[]; onChange: (v: string[]) => void })}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={pending}>
            Save scopes
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The owner's (or a collaborator with Collaborators:* scopes) view: who collaborates, with what. */
export function CollaboratorsTab({ appId, holds }: { appId: string; holds: (p: string) => boolean }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Collaborator | null>(null);
  const readable = holds('Collaborators:Get');
  const query = useQuery({
    queryKey: ['app-collaborators', appId],
    queryFn: async () =>
      (await data(api.GET('/v2/apps/{appId}/collaborators', { params: { path: { appId } } }))) as unknown as {
        total: number;
        items: Collaborator[];
      },
    enabled: readable,
  });
  const remove = useMutation({
    // 204, no body: `call`, not `data`.
    mutationFn: (collaboratorId: string) =>
      call(
        api.DELETE('/v2/apps/{appId}/collaborators/{collaboratorId}', {
          params: { path: { appId, collaboratorId } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['app-collaborators', appId] }),
  });
  const canChange = holds('Collaborators:Add');
  const canRemove = holds('Collaborators:Delete');

  return (
    <Stack>
      <Title order={2}>Collaborators</Title>
      {!readable ? (
        <NoAccess scope="Collaborators:Get" what="the app's collaborators" />
      ) : query.isPending ? (
        <Loading />
      ) : query.isError ? (
        <ErrorAlert error={query.error} />
      ) : query.data.items.length === 0 ? (
        <Text>No collaborators yet.</Text>
      ) : (
        <>
          {remove.isError && (
            <Alert color="red" role="alert">
              {errorMessage(remove.error)}
            </Alert>
          )}
          <Table aria-label="Collaborators">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>User</Table.Th>
                <Table.Th>Scopes</Table.Th>
                <Table.Th>Added</Table.Th>
                {(canChange || canRemove) && <Table.Th>Actions</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {query.data.items.map((c) => {
                const who = c.username ?? c.userId;
                return (
                  <Table.Tr key={c.userId}>
                    <Table.Td>{who}</Table.Td>
                    <Table.Td>
                      <ScopeBadges scopes={c.scopes} />
                    </Table.Td>
                    <Table.Td>{new Date(c.createdAt).toLocaleString()}</Table.Td>
                    {(canChange || canRemove) && (
                      <Table.Td>
                        <Group gap="xs" wrap="nowrap">
                          {canChange && (
                            <Button
                              size="xs"
                              variant="light"
                              aria-label={`Change scopes of ${who}`}
                              onClick={() => setEditing(c)}
                            >
                              Change scopes
                            </Button>
                          )}
                          {canRemove && (
                            <Button
                              size="xs"
                              variant="light"
                              color="red"
                              aria-label={`Remove ${who}`}
                              loading={remove.isPending && remove.variables === c.userId}
                              onClick={() => remove.mutate(c.userId)}
                            >
                              Remove
                            </Button>
                          )}
                        </Group>
                      </Table.Td>
                    )}
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </>
      )}
      {canChange && <AddCollaborator appId={appId} />}
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={`Scopes of ${editing?.username ?? editing?.userId ?? ''}`}
        size="xl"
      >
        {editing && <EditScopes appId={appId} collaborator={editing} onClose={() => setEditing(null)} />}
      </Modal>
    </Stack>
  );
}

/** A collaborator's own view: its scopes, and its personal access token with the secret on demand. */
export function YourAccessTab({ appId, holds }: { appId: string; holds: (p: string) => boolean }) {
  const scopes = APP_SCOPES.filter((s) => holds(s));
  const tokens = useQuery({
    queryKey: ['my-tokens'],
    queryFn: async () => (await data(api.GET('/v2/users/me/tokens'))) as unknown as { items: ApiToken[] },
  });
  const token = tokens.data?.items.find((t) => t.name === collaboratorTokenName(appId));
  const [secret, setSecret] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const reveal = useMutation({
    mutationFn: (tokenId: string) =>
      data(
        api.POST('/v2/users/me/tokens/{tokenId}/rotate', { params: { path: { tokenId } } }),
      ) as Promise<unknown> as Promise<{
        token: string;
      }>,
    onSuccess: (rotated) => {
      setSecret(rotated.token);
      void queryClient.invalidateQueries({ queryKey: ['my-tokens'] });
    },
  });

  return (
    <Stack>
      <Title order={2}>Your access</Title>
      <Text>You are a collaborator of this app. Your scopes:</Text>
      <ScopeBadges scopes={scopes} />
      <Title order={3}>Your personal access token</Title>
      {tokens.isPending ? (
        <Loading />
      ) : tokens.isError ? (
        <ErrorAlert error={tokens.error} />
      ) : !token ? (
        <Text>
          You have no personal access token for this app (it was revoked). Ask the app&apos;s owner to add you
          again.
        </Text>
      ) : (
        <Stack gap="xs">
          <Text>
            <Code>{token.prefix}…</Code> — acts on this app only, within your scopes
            {token.lastUsedAt ? `; last used ${new Date(token.lastUsedAt).toLocaleString()}` : '; never used'}
            .
          </Text>
          <Text size="sm">Token scope:</Text>
          <ScopeBadges scopes={token.scope?.resources.flatMap((r) => r.permissions) ?? []} />
          {secret ? (
            <Alert color="gray" title="Copy your token now" role="status">
              <Stack gap="xs">
                <Text size="sm">
                  It is shown only once. Revealing it again makes a new secret and this one stops working.
                </Text>
                <Group gap="xs" wrap="nowrap">
                  <Code data-testid="token-secret" style={{ wordBreak: 'break-all' }}>
                    {secret}
                  </Code>
                  <CopyButton value={secret}>
                    {({ copied, copy }) => (
                      <Button size="xs" variant="light" onClick={copy}>
                        {copied ? 'Copied' : 'Copy token'}
                      </Button>
                    )}
                  </CopyButton>
                </Group>
                <Button size="xs" variant="subtle" onClick={() => setSecret(null)}>
                  Hide token
                </Button>
              </Stack>
            </Alert>
          ) : (
            <Group>
              <Button onClick={() => reveal.mutate(token.id)} loading={reveal.isPending}>
                Reveal token
              </Button>
              <Text size="sm">
                Gives the token a new secret, shown once; any earlier secret stops working.
              </Text>
            </Group>
          )}
          {reveal.isError && <ErrorAlert error={reveal.error} />}
        </Stack>
      )}
    </Stack>
  );
}
