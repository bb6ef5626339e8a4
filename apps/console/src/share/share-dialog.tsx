import {
  Alert,
  Anchor,
  Badge,
  Button,
  Checkbox,
  CopyButton,
  Divider,
  Group,
  Modal,
  Radio,
  NativeSelect,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, ApiError, data, rawFetch } from '../lib/api';
import { errorMessage } from '../lib/forms';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { Loading } from '../components/page-state';
import { UserName } from '../components/user-name';
import { CANNOT_MANAGE, changeError, grantErrorField, withoutFieldRef } from './share-errors';
import {
  COLLECTION_TYPES,
  consolePath,
  formatDateTime,
  GENERAL_ACCESS_WORDS,
  generalAccessValues,
  isStorage,
  permissionHint,
  permissionLabel,
  permissionsOf,
  RULE_WORDS,
  toLocalInput,
  typeName,
  type GeneralAccess,
  type Permission,
  type ResourceType,
  type ShareableCollection,
} from './share-model';

interface Grant {
  id: string;
  userId: string;
  permissions: string[];
  expiresAt: string | null;
  notBefore: string | null;
  grantedBy: string;
  /** Where a grant came from when no one gave it by hand: `ACTOR_ISSUE` for a run attached to an issue. */
  source: { type: string; id: string } | null;
  hidden: boolean;
}
interface Derived {
  rule: string;
  userId: string;
  role: string;
  permissions: string[];
}
interface AccessList {
  owner: { userId: string };
  generalAccess: GeneralAccess;
  effectiveGeneralAccess: GeneralAccess;
  grants: Grant[];
  nextCursor: string | null;
  derived: Derived[];
}
/** What lets someone give grants: MANAGE_ACCESS, or on an app, adding collaborators. */
const GIVES_GRANTS = ['MANAGE_ACCESS', 'Collaborators:Add'];

/**
 * When the signed-in user's power to share this ends: the expiry of its own grant, when that
 * grant (and no role) is what lets it share. The API gives what it shares no longer than that.
 */
function ownSharingEnds(list: AccessList, userId: string | undefined): string | null {
  if (!userId || userId === list.owner.userId) return null;
  const gives = (permissions: string[]) => permissions.some((p) => GIVES_GRANTS.includes(p));
  if (list.derived.some((d) => d.userId === userId && gives(d.permissions))) return null;
  const own = list.grants.find((g) => g.userId === userId && gives(g.permissions));
  return own?.expiresAt ?? null;
}

/** The hint under an expiry field: what leaving it empty gives. */
function expiryHint(sharingEnds: string | null, what: string): string {
  return sharingEnds
    ? `Leave empty to give access until ${formatDateTime(sharingEnds)}, when your own access to manage this ${what} ends (nothing you give can last longer)`
    : 'Leave empty for access that does not expire';
}

interface Explained {
  allowed: boolean;
  rule: string;
  chain: string[];
  checked: { rule: string; gives: string[]; detail: string }[];
}
/** A storage as GET answers it: signed public URLs (writers) for datasets and key-value stores. */
interface StorageLinks {
  itemsPublicUrl?: string;
  keysPublicUrl?: string;
}

interface Target {
  collection: ShareableCollection;
  id: string;
  type: ResourceType;
  what: string;
}

const accessKey = (t: Target) => ['access', t.collection, t.id];

export interface ShareDialogProps {
  collection: ShareableCollection;
  id: string;
  name?: string;
  opened: boolean;
  onClose(): void;
}

/**
 * The Share dialog of one resource (Apify's, with Virtuozzo's and Clarifai's derived access):
 * who has access and why, adding, changing and revoking people, general access, links.
 * A Mantine Modal: focus is trapped inside, Escape closes it and focus returns to the button.
 */
export function ShareDialog({ collection, id, name, opened, onClose }: ShareDialogProps) {
  const type = COLLECTION_TYPES[collection];
  const what = typeName(type);
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={`Share ${name || what}`}
      size="xl"
      closeButtonProps={{ 'aria-label': 'Close' }}
    >
      <ShareContent target={{ collection, id, type, what }} />
    </Modal>
  );
}

function ShareContent({ target }: { target: Target }) {
  const { user } = useSession();
  const access = useQuery({
    queryKey: accessKey(target),
    queryFn: async () =>
      (await data(
        api.GET('/v2/{collection}/{resourceId}/access', {
          params: { path: { collection: target.collection, resourceId: target.id } },
        }),
      )) as unknown as AccessList,
  });
  if (access.isPending) return <Loading label="Loading who has access…" />;
  if (access.isError) {
    const status = access.error instanceof ApiError ? access.error.status : 0;
    return (
      <Stack>
        <Alert
          color={status === 403 ? 'blue' : 'red'}
          title={status === 403 ? 'You cannot manage access' : 'Cannot show who has access'}
        >
          {status === 403
            ? `Only people who can manage access to this ${target.what} can see who has access and share it.`
            : status === 404
              ? `This ${target.what} does not exist, or you do not have access to it.`
              : errorMessage(access.error)}
        </Alert>
        {status === 403 && <ExplainSelf target={target} />}
        <CopyLink target={target} />
      </Stack>
    );
  }
  const list = access.data;
  const sharingEnds = ownSharingEnds(list, user?.id);
  return (
    <Stack gap="lg">
      <WhoHasAccess target={target} list={list} sharingEnds={sharingEnds} />
      <Divider />
      <AddPeople target={target} sharingEnds={sharingEnds} />
      <Divider />
      <GeneralAccessSection target={target} list={list} />
      <Divider />
      <Stack gap="sm">
        <Title order={3} size="h4">
          Links
        </Title>
        <CopyLink target={target} />
        {isStorage(target.type) && <StorageLinksSection target={target} />}
      </Stack>
    </Stack>
  );
}

function Permissions({ permissions }: { permissions: string[] }) {
  return (
    <Group gap={4}>
      {permissions.map((p) => (
        <Badge key={p} variant="light" color="gray" tt="none">
          {permissionLabel(p)}
        </Badge>
      ))}
    </Group>
  );
}

function WhoHasAccess({
  target,
  list,
  sharingEnds,
}: {
  target: Target;
  list: AccessList;
  sharingEnds: string | null;
}) {
  const [explaining, setExplaining] = useState<string | undefined>();
  const [editing, setEditing] = useState<string | undefined>();
  const rows: React.ReactNode[] = [];
  const explainRow = (key: string, userId: string) =>
    explaining === key ? (
      <Table.Tr key={`${key}-why`}>
        <Table.Td colSpan={4}>
          <Explain target={target} userId={userId} />
        </Table.Td>
      </Table.Tr>
    ) : null;
  const whyButton = (key: string, userId: string) => (
    <Button
      size="compact-sm"
      variant="subtle"
      aria-expanded={explaining === key}
      onClick={() => setExplaining(explaining === key ? undefined : key)}
    >
      Why?
      <VisuallyHiddenName userId={userId} />
    </Button>
  );

  rows.push(
    <Table.Tr key="owner">
      <Table.Td>
        <UserName userId={list.owner.userId} />
      </Table.Td>
      <Table.Td>
        <Text size="sm">Owner: every permission</Text>
      </Table.Td>
      <Table.Td>—</Table.Td>
      <Table.Td>{whyButton('owner', list.owner.userId)}</Table.Td>
    </Table.Tr>,
    explainRow('owner', list.owner.userId),
  );
  for (const grant of list.grants) {
    rows.push(
      <Table.Tr key={grant.id} data-testid="grant-row">
        <Table.Td>
          <Stack gap={2}>
            <UserName userId={grant.userId} />
            {grant.source?.type === 'ACTOR_ISSUE' ? (
              <Text size="sm">
                Hidden grant{' '}
                <Anchor component={Link} to={paths.issue(grant.source.id)}>
                  via issue {grant.source.id}
                </Anchor>
              </Text>
            ) : grant.hidden ? (
              <Text size="sm">
                Hidden grant{grant.source ? ` via ${grant.source.type.toLowerCase()} ${grant.source.id}` : ''}
              </Text>
            ) : null}
          </Stack>
        </Table.Td>
        <Table.Td>
          <Permissions permissions={grant.permissions} />
        </Table.Td>
        <Table.Td>
          <Text size="sm">{grant.expiresAt ? formatDateTime(grant.expiresAt) : 'Never'}</Text>
        </Table.Td>
        <Table.Td>
          <Group gap={4} wrap="nowrap">
            <Button
              size="compact-sm"
              variant="subtle"
              aria-expanded={editing === grant.id}
              onClick={() => setEditing(editing === grant.id ? undefined : grant.id)}
            >
              Change
              <VisuallyHiddenName userId={grant.userId} />
            </Button>
            <RevokeButton target={target} grant={grant} />
            {whyButton(grant.id, grant.userId)}
          </Group>
        </Table.Td>
      </Table.Tr>,
      editing === grant.id ? (
        <Table.Tr key={`${grant.id}-edit`}>
          <Table.Td colSpan={4}>
            <ChangeGrant
              target={target}
              grant={grant}
              sharingEnds={sharingEnds}
              onDone={() => setEditing(undefined)}
            />
          </Table.Td>
        </Table.Tr>
      ) : null,
      explainRow(grant.id, grant.userId),
    );
  }
  for (const derived of list.derived) {
    const key = `derived-${derived.rule}-${derived.userId}`;
    rows.push(
      <Table.Tr key={key}>
        <Table.Td>
          <Stack gap={2}>
            <UserName userId={derived.userId} />
            <Text size="sm">
              {derived.rule === 'organization-member' ? 'Organization member' : 'Account collaborator'}, role{' '}
              {derived.role}
            </Text>
          </Stack>
        </Table.Td>
        <Table.Td>
          <Permissions permissions={derived.permissions} />
        </Table.Td>
        <Table.Td>—</Table.Td>
        <Table.Td>{whyButton(key, derived.userId)}</Table.Td>
      </Table.Tr>,
      explainRow(key, derived.userId),
    );
  }
  return (
    <Stack gap="sm">
      <Title order={3} size="h4">
        Who has access
      </Title>
      <Table.ScrollContainer minWidth={560}>
        <Table aria-label="People with access" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Person</Table.Th>
              <Table.Th>Access</Table.Th>
              <Table.Th>Expires</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>{rows}</Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {list.nextCursor && <Text size="sm">More grants exist than are shown here.</Text>}
      {list.derived.length === 0 && (
        <Text size="sm">
          No organization members or collaborators of the owner account have access through their role.
        </Text>
      )}
    </Stack>
  );
}

/** " for <username>", read by screen readers after a row's action ("Revoke for bob"). */
function VisuallyHiddenName({ userId }: { userId: string }) {
  return (
    <VisuallyHidden component="span">
      {' for '}
      <UserName userId={userId} />
    </VisuallyHidden>
  );
}

function useAccessChange<V>(target: Target, fn: (v: V) => Promise<unknown>, onSuccess?: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: accessKey(target) });
      onSuccess?.();
    },
  });
}

function RevokeButton({ target, grant }: { target: Target; grant: Grant }) {
  const [confirming, setConfirming] = useState(false);
  const revoke = useAccessChange(target, () =>
    call204(
      api.DELETE('/v2/{collection}/{resourceId}/access/grants/{grantId}', {
        params: { path: { collection: target.collection, resourceId: target.id, grantId: grant.id } },
      }),
    ),
  );
  if (revoke.isError) {
    return (
      <Text size="sm" c="red.8" role="alert">
        {changeError(revoke.error)}
      </Text>
    );
  }
  if (!confirming) {
    return (
      <Button size="compact-sm" variant="subtle" color="red" onClick={() => setConfirming(true)}>
        Revoke
        <VisuallyHiddenName userId={grant.userId} />
      </Button>
    );
  }
  return (
    <Group gap={4} wrap="nowrap" role="group" aria-label="Confirm revoke">
      <Button
        size="compact-sm"
        color="red"
        loading={revoke.isPending}
        onClick={() => revoke.mutate(undefined)}
        data-autofocus
        autoFocus
      >
        Revoke access
      </Button>
      <Button size="compact-sm" variant="default" onClick={() => setConfirming(false)}>
        Keep
      </Button>
    </Group>
  );
}

/** A 204 answer of the typed client: nothing, or an ApiError. */
async function call204(request: Promise<{ error?: unknown; response: Response }>): Promise<void> {
  const answer = await request;
  if (answer.response.ok) return;
  const body = answer.error as { error?: { type?: string; message?: string } } | undefined;
  throw new ApiError(
    answer.response.status,
    body?.error?.type ?? 'internal-error',
    body?.error?.message ?? `Request failed (${answer.response.status})`,
  );
}

interface GrantValues extends Record<string, unknown> {
  permissions: string[];
  expiresAt: string;
}

/** A local `datetime-local` value as an ISO instant; empty is no expiry. */
function expiryOf(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}
function validateExpiry(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return 'Enter a date and time';
  return date.getTime() <= Date.now() ? 'Choose a time in the future' : null;
}

function PermissionCheckboxes({
  type,
  props,
}: {
  type: ResourceType;
  props: ReturnType<ReturnType<typeof useForm<GrantValues>>['getInputProps']>;
}) {
  return (
    <Checkbox.Group label="Permissions" {...props}>
      <Stack gap={6} mt={6}>
        {permissionsOf(type).map((p) => (
          <Checkbox key={p} value={p} label={permissionLabel(p)} description={permissionHint(p)} />
        ))}
      </Stack>
    </Checkbox.Group>
  );
}

function ChangeGrant({
  target,
  grant,
  sharingEnds,
  onDone,
}: {
  target: Target;
  grant: Grant;
  sharingEnds: string | null;
  onDone(): void;
}) {
  const form = useForm<GrantValues>({
    mode: 'controlled',
    initialValues: { permissions: grant.permissions, expiresAt: toLocalInput(grant.expiresAt) },
    validate: {
      permissions: (v) => (v.length ? null : 'Choose at least one permission'),
      expiresAt: validateExpiry,
    },
  });
  const change = useAccessChange(
    target,
    async (values: GrantValues) =>
      data(
        api.PUT('/v2/{collection}/{resourceId}/access/grants/{grantId}', {
          params: { path: { collection: target.collection, resourceId: target.id, grantId: grant.id } },
          body: { permissions: values.permissions as Permission[], expiresAt: expiryOf(values.expiresAt) },
        }),
      ),
    onDone,
  );
  const field = grantErrorField(change.error);
  return (
    <form aria-label="Change access" onSubmit={form.onSubmit((values) => change.mutate(values))}>
      <Stack gap="sm">
        {change.isError && !(field === 'permissions' || field === 'expiresAt') && (
          <Alert color="red" role="alert">
            {changeError(change.error)}
          </Alert>
        )}
        <PermissionCheckboxes
          type={target.type}
          props={{
            ...form.getInputProps('permissions'),
            error:
              form.errors.permissions ?? (field === 'permissions' ? changeError(change.error) : undefined),
          }}
        />
        <TextInput
          type="datetime-local"
          label="Expires (optional)"
          description={expiryHint(sharingEnds, target.what)}
          {...form.getInputProps('expiresAt')}
          error={form.errors.expiresAt ?? (field === 'expiresAt' ? changeError(change.error) : undefined)}
        />
        <Group>
          <Button type="submit" loading={change.isPending}>
            Save changes
          </Button>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

interface AddValues extends GrantValues {
  user: string;
}

function AddPeople({ target, sharingEnds }: { target: Target; sharingEnds: string | null }) {
  const form = useForm<AddValues>({
    mode: 'controlled',
    initialValues: { user: '', permissions: ['READ'], expiresAt: '' },
    validate: {
      user: (v) => (v.trim() ? null : 'Enter a username'),
      permissions: (v) => (v.length ? null : 'Choose at least one permission'),
      expiresAt: validateExpiry,
    },
  });
  const [added, setAdded] = useState<{ user: string; expiresAt: string | null } | undefined>();
  const add = useAccessChange(target, async (values: AddValues) => {
    const grant = await data(
      api.POST('/v2/{collection}/{resourceId}/access/grants', {
        params: { path: { collection: target.collection, resourceId: target.id } },
        body: {
          user: values.user.trim(),
          permissions: values.permissions as Permission[],
          ...(values.expiresAt ? { expiresAt: expiryOf(values.expiresAt) } : {}),
        },
      }),
    );
    setAdded({ user: values.user.trim(), expiresAt: grant.expiresAt ?? null });
    form.reset();
  });
  const field = grantErrorField(add.error);
  const apiError = (name: string) => (field === name ? changeError(add.error) : undefined);
  return (
    <form
      aria-label="Add people"
      onSubmit={form.onSubmit((values) => {
        setAdded(undefined);
        add.mutate(values);
      })}
    >
      <Stack gap="sm">
        <Title order={3} size="h4">
          Add people
        </Title>
        {add.isError && !field && (
          <Alert color="red" role="alert">
            {changeError(add.error)}
          </Alert>
        )}
        {added && !add.isError && (
          <Alert color="green" role="status">
            Shared with {added.user}
            {added.expiresAt ? ` until ${formatDateTime(added.expiresAt)}` : ''}.
          </Alert>
        )}
        <TextInput
          label="Username"
          description="Their Atrium username. Sharing does not look people up by email, so that it cannot reveal who has an account."
          autoComplete="off"
          {...form.getInputProps('user')}
          onChange={(e) => {
            form.getInputProps('user').onChange(e);
            if (add.isError) add.reset();
          }}
          error={form.errors.user ?? apiError('user')}
        />
        <PermissionCheckboxes
          type={target.type}
          props={{
            ...form.getInputProps('permissions'),
            error: form.errors.permissions ?? apiError('permissions'),
          }}
        />
        <TextInput
          type="datetime-local"
          label="Expires (optional)"
          description={expiryHint(sharingEnds, target.what)}
          {...form.getInputProps('expiresAt')}
          error={form.errors.expiresAt ?? apiError('expiresAt')}
        />
        <Group>
          <Button type="submit" loading={add.isPending}>
            Share
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function GeneralAccessSection({ target, list }: { target: Target; list: AccessList }) {
  const values = generalAccessValues(target.type);
  const queryClient = useQueryClient();
  const change = useAccessChange(target, async (value: GeneralAccess) => {
    await rawFetch(`/v2/${target.collection}/${encodeURIComponent(target.id)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ generalAccess: value }),
    });
    // The resource's own page shows its general access too.
    await queryClient.invalidateQueries({ queryKey: [target.collection, target.id] });
  });
  if (!values.length) {
    return (
      <Stack gap="xs">
        <Title order={3} size="h4">
          General access
        </Title>
        <Text size="sm">
          {target.type === 'ACTOR'
            ? 'Only people with access can see this Actor until it is published; publishing is on the Actor page.'
            : `Only people with access can see this ${target.what}: link sharing is for runs, builds and storages.`}
        </Text>
      </Stack>
    );
  }
  const effective = list.effectiveGeneralAccess;
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        General access
      </Title>
      <Radio.Group
        label={`Who can view this ${target.what}`}
        description="Besides the people above, who have access whatever this says."
        value={change.isPending ? change.variables : list.generalAccess}
        onChange={(value) => change.mutate(value as GeneralAccess)}
      >
        <Stack gap={8} mt="xs">
          {values.map((value) => (
            <Radio
              key={value}
              value={value}
              label={GENERAL_ACCESS_WORDS[value].label}
              description={GENERAL_ACCESS_WORDS[value].description}
              disabled={change.isPending}
            />
          ))}
        </Stack>
      </Radio.Group>
      {effective !== list.generalAccess && (
        <Text size="sm" data-testid="effective-general-access">
          In effect now: <strong>{GENERAL_ACCESS_WORDS[effective].label}</strong>
          {list.generalAccess === 'FOLLOW_USER_SETTING'
            ? " (the owner account's setting"
            : ' (the setting of the run this storage belongs to'}
          {', '}
          {GENERAL_ACCESS_WORDS[effective].description.charAt(0).toLowerCase()}
          {GENERAL_ACCESS_WORDS[effective].description.slice(1, -1)}).
        </Text>
      )}
      {change.isError && (
        <Alert color="red" role="alert">
          {changeError(change.error)}
        </Alert>
      )}
    </Stack>
  );
}

function CopyField({ label, value, description }: { label: string; value: string; description?: string }) {
  return (
    <Group align="flex-end" gap="xs" wrap="nowrap">
      <TextInput
        label={label}
        description={description}
        value={value}
        readOnly
        style={{ flex: 1 }}
        onFocus={(e) => e.currentTarget.select()}
      />
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Button
            variant={copied ? 'filled' : 'default'}
            color={copied ? 'teal' : undefined}
            onClick={copy}
            aria-label={`Copy ${label.toLowerCase()}`}
          >
            {copied ? 'Copied' : 'Copy'}
          </Button>
        )}
      </CopyButton>
    </Group>
  );
}

function CopyLink({ target }: { target: Target }) {
  const url = new URL(consolePath(target.collection, target.id), window.location.origin).toString();
  return (
    <CopyField
      label="Link"
      value={url}
      description={`Opens this ${target.what} for anyone who may view it; others are asked to sign in.`}
    />
  );
}

/**
 * A storage's pre-signed link (writers: GET answers it signed for 14 days) and its signing key's
 * rotation, which stops every link signed before at once.
 */
function StorageLinksSection({ target }: { target: Target }) {
  const queryClient = useQueryClient();
  const storage = useQuery({
    queryKey: [target.collection, target.id],
    queryFn: async () => {
      const response = await rawFetch(`/v2/${target.collection}/${encodeURIComponent(target.id)}`);
      return ((await response.json()) as { data: StorageLinks }).data;
    },
  });
  const [rotated, setRotated] = useState(false);
  const rotate = useMutation({
    mutationFn: () =>
      data(
        api.POST('/v2/{collection}/{resourceId}/access/signing-key/rotate', {
          params: { path: { collection: target.collection, resourceId: target.id } },
        }),
      ),
    onSuccess: async () => {
      setRotated(true);
      await queryClient.invalidateQueries({ queryKey: [target.collection, target.id] });
    },
  });
  const link = storage.data?.itemsPublicUrl ?? storage.data?.keysPublicUrl;
  const signed = !!link && /[?&]signature=/.test(link);
  return (
    <Stack gap="xs">
      {signed && link && (
        <CopyField
          label="Pre-signed link"
          value={link}
          description={`Lets anyone with it read the ${target.type === 'DATASET' ? 'items' : 'keys and records'} for 14 days, whatever the general access.`}
        />
      )}
      {storage.isSuccess && !signed && target.type !== 'REQUEST_QUEUE' && (
        <Text size="sm">Pre-signed links are for people who can edit this {target.what}.</Text>
      )}
      <Group>
        <Button variant="default" color="red" loading={rotate.isPending} onClick={() => rotate.mutate()}>
          Rotate signing key
        </Button>
        <Text size="sm" style={{ flex: 1 }}>
          Every pre-signed link made before stops working at once.
        </Text>
      </Group>
      {rotated && !rotate.isError && (
        <Alert color="green" role="status">
          The signing key was replaced: links signed before no longer work.
        </Alert>
      )}
      {rotate.isError && (
        <Alert color="red" role="alert">
          {changeError(rotate.error)}
        </Alert>
      )}
    </Stack>
  );
}

function ExplainSelf({ target }: { target: Target }) {
  const { user } = useSession();
  if (!user) return null;
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        Why can I access it?
      </Title>
      <Explain target={target} userId={user.id} />
    </Stack>
  );
}

/** "Why can this person access it?": GET /v2/access/explain, the deciding rule in words. */
function Explain({ target, userId }: { target: Target; userId: string }) {
  const [permission, setPermission] = useState<Permission>('READ');
  const explained = useQuery({
    queryKey: ['explain', target.id, userId, permission],
    queryFn: async () =>
      (await data(
        api.GET('/v2/access/explain', { params: { query: { resourceId: target.id, permission, userId } } }),
      )) as unknown as Explained,
  });
  const deciding = explained.data?.checked.find((c) => c.rule === explained.data?.rule);
  return (
    <Stack gap="xs" role="region" aria-label="Why they can access it" aria-live="polite">
      <NativeSelect
        label="Permission to explain"
        data={permissionsOf(target.type).map((p) => ({ value: p, label: permissionLabel(p) }))}
        value={permission}
        onChange={(e) => setPermission(e.currentTarget.value as Permission)}
        w={260}
      />
      {explained.isPending ? (
        <Loading label="Asking why…" />
      ) : explained.isError ? (
        <Text size="sm" role="alert">
          {explained.error instanceof ApiError && explained.error.status === 403
            ? CANNOT_MANAGE
            : withoutFieldRef(errorMessage(explained.error))}
        </Text>
      ) : (
        <Stack gap={4}>
          <Text size="sm" fw={500} data-testid="explain-answer">
            {explained.data.allowed
              ? `Allowed. ${RULE_WORDS[explained.data.rule] ?? explained.data.rule}`
              : `Not allowed. ${RULE_WORDS.none}`}
          </Text>
          {deciding && <Text size="sm">Rule: {deciding.detail}.</Text>}
          {explained.data.chain.slice(1).map((step) => (
            <Text size="sm" key={step}>
              Because: {step}
            </Text>
          ))}
        </Stack>
      )}
    </Stack>
  );
}
