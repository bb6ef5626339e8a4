import {
  Alert,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Fieldset,
  Group,
  Modal,
  MultiSelect,
  Radio,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { api, call, data } from '../lib/api';
import { errorMessage, useApiForm } from '../lib/forms';
import { ErrorAlert, Loading } from './page-state';
import { KINDS, listKind } from './resource-kinds';
import {
  CATEGORIES,
  describeScope,
  permissionLabel,
  RESOURCE_TYPES,
  type ApiToken,
  type CategoryKey,
  type TokenScope,
} from './token-scope';

type CreatedToken = ApiToken & { token: string };
type CreateBody = { name: string; expiresAt?: string | null; scope?: TokenScope | null };

const TOKENS_KEY = ['users', 'me', 'tokens'];

async function createToken(body: CreateBody): Promise<CreatedToken> {
  // The generated body type spells every permission as a literal; the API validates what is sent.
  return (await data(api.POST('/v2/users/me/tokens', { body: body as never }))) as unknown as CreatedToken;
}

async function revokeToken(tokenId: string): Promise<void> {
  await call(api.DELETE('/v2/users/me/tokens/{tokenId}', { params: { path: { tokenId } } }));
}

interface TokenForm extends Record<string, unknown> {
  name: string;
  /** A day (YYYY-MM-DD); the token works until its end. */
  expiresAt: string;
  access: 'full' | 'scoped';
  account: Record<CategoryKey, string[]>;
  create: string[];
  resources: { type: string; id: string; permissions: string[] }[];
}

function toBody(values: TokenForm): CreateBody {
  const expiresAt = values.expiresAt ? new Date(`${values.expiresAt}T23:59:59`).toISOString() : null;
  if (values.access === 'full') return { name: values.name, expiresAt, scope: null };
  const account: TokenScope['account'] = {};
  for (const category of CATEGORIES)
    if (values.account[category.key].length) account[category.key] = values.account[category.key];
  if (values.create.length) account.CREATE = values.create;
  return {
    name: values.name,
    expiresAt,
    scope: {
      account,
      resources: values.resources.map((r) => ({ type: r.type, id: r.id.trim(), permissions: r.permissions })),
    },
  };
}

/** A resource of the type to scope the token to: the caller's own or one shared with it, by name. */
function ResourcePicker({
  type,
  ...input
}: {
  type: string;
  value: string;
  onChange: (value: string) => void;
  error?: ReactNode;
}) {
  const kind = KINDS.find((k) => k.type === type);
  const lists = useQueries({
    queries: (['ownedByMe', 'sharedWithMe'] as const).map((ownership) => ({
      queryKey: ['resource-picker', type, ownership],
      queryFn: () => listKind(kind!, ownership, 200),
      enabled: !!kind,
    })),
  });
  const [owned, shared] = lists.map((l) => l.data?.items ?? []);
  const option = (item: { id: string } & Parameters<NonNullable<typeof kind>['name']>[0]) => ({
    value: item.id,
    label: `${kind!.name(item)} (${item.id})`,
  });
  const failed = lists.find((l) => l.isError)?.error;
  return (
    <Select
      label="Resource"
      w={320}
      searchable
      placeholder={lists.some((l) => l.isPending) ? 'Loading…' : 'Search by name'}
      nothingFoundMessage="None of this type"
      data={[
        { group: 'Yours', items: owned.map(option) },
        { group: 'Shared with you', items: shared.map(option) },
      ].filter((g) => g.items.length)}
      value={input.value || null}
      onChange={(value) => input.onChange(value ?? '')}
      error={input.error ?? (failed ? errorMessage(failed) : undefined)}
    />
  );
}

/** The secret, once: copy it now, it is never shown again. */
function SecretModal({ created, onClose }: { created: CreatedToken | undefined; onClose: () => void }) {
  return (
    <Modal
      opened={!!created}
      onClose={onClose}
      title="Your new API token"
      size="lg"
      closeButtonProps={{ 'aria-label': 'Close' }}
    >
      {created && (
        <Stack>
          <Alert color="yellow" title="Copy it now" role="alert">
            This is the only time the secret of “{created.name}” is shown. Store it somewhere safe: Atrium
            keeps only a hash of it.
          </Alert>
          <Code block data-testid="token-secret" style={{ wordBreak: 'break-all' }}>
            {created.token}
          </Code>
          <Group justify="space-between">
            <CopyButton value={created.token}>
              {({ copied, copy }) => (
                <Button color={copied ? 'teal' : undefined} onClick={copy}>
                  {copied ? 'Copied' : 'Copy token'}
                </Button>
              )}
            </CopyButton>
            <Button variant="default" onClick={onClose}>
              I have copied it
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: (token: CreatedToken) => void }) {
  const queryClient = useQueryClient();
  const form = useForm<TokenForm>({
    initialValues: {
      name: '',
      expiresAt: '',
      access: 'scoped',
      account: { ACTOR: [], ACTOR_TASK: [], SCHEDULE: [], STORAGE: [] },
      create: [],
      resources: [],
    },
    validate: {
      name: (value) => (value.trim() ? null : 'Give the token a name'),
      resources: {
        id: (value) => (value.trim() ? null : 'Choose the resource'),
        permissions: (value) => (value.length ? null : 'At least one permission'),
      },
    },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) => createToken(toBody(values)),
    (created) => {
      void queryClient.invalidateQueries({ queryKey: TOKENS_KEY });
      form.reset();
      onCreated(created);
    },
  );
  const scoped = form.getValues().access === 'scoped';
  return (
    <form onSubmit={onSubmit} noValidate>
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput label="Token name" required {...form.getInputProps('name')} />
        <TextInput
          label="Expires on (optional)"
          description="The token stops working at the end of this day; leave empty for no expiry."
          type="date"
          {...form.getInputProps('expiresAt')}
        />
        <Radio.Group label="Access" {...form.getInputProps('access')}>
          <Stack gap="xs" mt="xs">
            <Radio value="full" label="Full access: everything your account can do" />
            <Radio
              value="scoped"
              label="Scoped: only the permissions chosen below, and never the account's own routes (settings, tokens)"
            />
          </Stack>
        </Radio.Group>
        {scoped && (
          <>
            <Fieldset legend="Account-level permissions (on every resource of the type)">
              <Stack>
                {CATEGORIES.map((category) => (
                  <Checkbox.Group
                    key={category.key}
                    label={category.label}
                    {...form.getInputProps(`account.${category.key}`)}
                  >
                    <Group mt={4}>
                      {category.permissions.map((p) => (
                        <Checkbox key={p} value={p} label={permissionLabel(p)} />
                      ))}
                    </Group>
                  </Checkbox.Group>
                ))}
                <MultiSelect
                  label="May create"
                  placeholder="No new resources"
                  data={RESOURCE_TYPES.map((t) => ({ value: t.key, label: t.label }))}
                  {...form.getInputProps('create')}
                />
              </Stack>
            </Fieldset>
            <Fieldset legend="Specific resources">
              <Stack>
                {form.getValues().resources.length === 0 && (
                  <Text size="sm">None: the permissions above apply.</Text>
                )}
                {form.getValues().resources.map((resource, index) => {
                  const type = RESOURCE_TYPES.find((t) => t.key === resource.type) ?? RESOURCE_TYPES[0];
                  return (
                    <Group key={form.key(`resources.${index}`)} align="end" wrap="wrap">
                      <Select
                        label="Type"
                        data={RESOURCE_TYPES.map((t) => ({ value: t.key, label: t.label }))}
                        allowDeselect={false}
                        w={180}
                        {...form.getInputProps(`resources.${index}.type`)}
                        onChange={(value) => {
                          form.setFieldValue(`resources.${index}.type`, value ?? 'DATASET');
                          form.setFieldValue(`resources.${index}.id`, '');
                          form.setFieldValue(`resources.${index}.permissions`, ['READ']);
                        }}
                      />
                      <ResourcePicker
                        key={resource.type}
                        type={resource.type}
                        value={resource.id}
                        onChange={(id) => form.setFieldValue(`resources.${index}.id`, id)}
                        error={form.errors[`resources.${index}.id`]}
                      />
                      <MultiSelect
                        label="Permissions"
                        w={260}
                        data={type.permissions.map((p) => ({ value: p, label: permissionLabel(p) }))}
                        {...form.getInputProps(`resources.${index}.permissions`)}
                      />
                      <Button
                        variant="subtle"
                        color="red"
                        onClick={() => form.removeListItem('resources', index)}
                      >
                        Remove
                      </Button>
                    </Group>
                  );
                })}
                <Button
                  variant="light"
                  w="fit-content"
                  onClick={() =>
                    form.insertListItem('resources', { type: 'DATASET', id: '', permissions: ['READ'] })
                  }
                >
                  Add a resource
                </Button>
              </Stack>
            </Fieldset>
          </>
        )}
        <Button type="submit" loading={pending} w="fit-content">
          Create token
        </Button>
      </Stack>
    </form>
  );
}

function TokenRow({ token, onRotated }: { token: ApiToken; onRotated: (created: CreatedToken) => void }) {
  const queryClient = useQueryClient();
  const [confirm, setConfirm] = useState<'revoke' | 'rotate'>();
  const revoke = useMutation({
    mutationFn: () => revokeToken(token.id),
    onSuccess: () => {
      setConfirm(undefined);
      void queryClient.invalidateQueries({ queryKey: TOKENS_KEY });
    },
  });
  // The same token (id, name, scope, expiry) with a new secret; the old secret stops at once.
  const rotate = useMutation({
    mutationFn: async () =>
      (await data(
        api.POST('/v2/users/me/tokens/{tokenId}/rotate', { params: { path: { tokenId: token.id } } }),
      )) as unknown as CreatedToken,
    onSuccess: (created) => {
      setConfirm(undefined);
      void queryClient.invalidateQueries({ queryKey: TOKENS_KEY });
      onRotated(created);
    },
  });
  const active = confirm === 'revoke' ? revoke : rotate;
  return (
    <Table.Tr>
      <Table.Td>{token.name}</Table.Td>
      <Table.Td>
        <Code>{token.prefix}…</Code>
      </Table.Td>
      <Table.Td>{describeScope(token.scope)}</Table.Td>
      <Table.Td>{token.expiresAt ? new Date(token.expiresAt).toLocaleDateString() : 'Never'}</Table.Td>
      <Table.Td>{token.lastUsedAt ? new Date(token.lastUsedAt).toLocaleString() : 'Never'}</Table.Td>
      <Table.Td>
        <Group gap="xs" wrap="nowrap">
          <Button
            size="xs"
            variant="default"
            onClick={() => setConfirm('rotate')}
            aria-label={`Rotate ${token.name}`}
          >
            Rotate
          </Button>
          <Button
            size="xs"
            color="red"
            variant="light"
            onClick={() => setConfirm('revoke')}
            aria-label={`Revoke ${token.name}`}
          >
            Revoke
          </Button>
        </Group>
        <Modal
          closeButtonProps={{ 'aria-label': 'Close' }}
          opened={!!confirm}
          onClose={() => {
            setConfirm(undefined);
            revoke.reset();
            rotate.reset();
          }}
          title={confirm === 'revoke' ? `Revoke “${token.name}”?` : `Rotate “${token.name}”?`}
        >
          <Stack>
            <Text>
              {confirm === 'revoke'
                ? 'The token stops working at once; anything using it is refused from the next request.'
                : 'The token gets a new secret, shown once; its name, scope and expiry stay, and the old secret stops working at once.'}
            </Text>
            {active.isError && (
              <Alert color="red" role="alert">
                {errorMessage(active.error)}
              </Alert>
            )}
            <Group justify="end">
              <Button variant="default" onClick={() => setConfirm(undefined)}>
                Cancel
              </Button>
              <Button color="red" loading={active.isPending} onClick={() => active.mutate()}>
                {confirm === 'revoke' ? 'Revoke token' : 'Rotate token'}
              </Button>
            </Group>
          </Stack>
        </Modal>
      </Table.Td>
    </Table.Tr>
  );
}

/** The user's API tokens: list, create (full access or a scope), the secret once, rotate, revoke. */
export function ApiTokens() {
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedToken>();
  const tokens = useQuery({
    queryKey: TOKENS_KEY,
    queryFn: async () => (await data(api.GET('/v2/users/me/tokens'))).items as unknown as ApiToken[],
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>API tokens</Title>
        {!creating && <Button onClick={() => setCreating(true)}>Create token</Button>}
      </Group>
      <Text>
        A token acts as you against the API. A scoped token can do only what its scope allows, and never more
        than your account can.
      </Text>
      {creating && (
        <Fieldset legend="New token">
          <CreateTokenForm
            onCreated={(token) => {
              setCreating(false);
              setCreated(token);
            }}
          />
          <Button variant="subtle" mt="sm" onClick={() => setCreating(false)}>
            Cancel
          </Button>
        </Fieldset>
      )}
      {tokens.isPending ? (
        <Loading />
      ) : tokens.isError ? (
        <ErrorAlert error={tokens.error} />
      ) : tokens.data.length === 0 ? (
        <Text>You have no API tokens.</Text>
      ) : (
        <Table aria-label="API tokens" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Starts with</Table.Th>
              <Table.Th>Scope</Table.Th>
              <Table.Th>Expires</Table.Th>
              <Table.Th>Last used</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tokens.data.map((token) => (
              <TokenRow key={token.id} token={token} onRotated={setCreated} />
            ))}
          </Table.Tbody>
        </Table>
      )}
      <SecretModal created={created} onClose={() => setCreated(undefined)} />
    </Stack>
  );
}
