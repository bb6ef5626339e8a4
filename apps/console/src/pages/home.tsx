import {
  Alert,
  Anchor,
  Badge,
  Group,
  Pagination,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useQueries, useQuery } from '@tanstack/react-query';
import { Link, Navigate, useSearchParams } from 'react-router';
import { CreateStorageMenu } from '../components/create-storage';
import { ErrorAlert, Loading, signInPath } from '../components/page-state';
import { KINDS, listKind, type Listed, type ResourceKind } from '../components/resource-kinds';
import { api, ApiError, data } from '../lib/api';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';

/** How many of each type Home loads; search and paging work on what is loaded. */
const LOAD_LIMIT = 500;
const PAGE_SIZE = 20;

interface Row {
  kind: ResourceKind;
  item: Listed;
  name: string;
  modified: string | undefined;
}

/** The owner's username: known for the caller's own account, else its public profile. */
function Owner({ id, username, own }: { id: string | undefined; username?: string; own?: string }) {
  const profile = useQuery({
    queryKey: ['users', 'profile', id],
    queryFn: () =>
      data(api.GET('/v2/users/{userIdOrUsername}', { params: { path: { userIdOrUsername: id! } } })),
    enabled: !!id && !username && !own,
    staleTime: 5 * 60_000,
  });
  if (own) return <>{own}</>;
  if (username) return <>{username}</>;
  return <>{profile.data?.username ?? (profile.isPending ? '…' : 'another account')}</>;
}

function formatDate(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** What I own (or the organization acted as) and what is shared with me, every type. */
export default function HomePage() {
  const { user, accountId } = useSession();
  const [params, setParams] = useSearchParams();
  const ownership = params.get('ownership') === 'shared' ? 'sharedWithMe' : 'ownedByMe';
  const type = params.get('type') ?? 'all';
  const search = params.get('q') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);

  const organizations = useQuery({
    queryKey: ['organizations', 'mine'],
    queryFn: () => data(api.GET('/v2/organizations')),
    enabled: !!user && !!accountId,
  });
  const me = useQuery({
    queryKey: ['users', 'me'],
    queryFn: async () =>
      (await data(api.GET('/v2/users/me'))) as unknown as { email: string; emailVerified: boolean },
    enabled: !!user,
  });
  const kinds = type === 'all' ? KINDS : KINDS.filter((k) => k.key === type);
  const lists = useQueries({
    queries: kinds.map((kind) => ({
      queryKey: ['home', accountId ?? 'me', ownership, kind.key],
      queryFn: () => listKind(kind, ownership, LOAD_LIMIT),
      enabled: !!user,
    })),
  });

  const update = (changes: Record<string, string | undefined>) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [key, value] of Object.entries(changes)) {
          if (value) next.set(key, value);
          else next.delete(key);
        }
        if (!('page' in changes)) next.delete('page');
        return next;
      },
      { replace: 'q' in changes },
    );

  const loaded = lists.every((l) => !l.isPending);
  const all: Row[] = [];
  lists.forEach((list, i) => {
    for (const item of list.data?.items ?? []) {
      const kind = kinds[i];
      all.push({
        kind,
        item,
        name: kind.name(item),
        modified: item.modifiedAt ?? item.finishedAt ?? item.startedAt ?? item.createdAt ?? undefined,
      });
    }
  });
  const needle = search.trim().toLowerCase();
  const rows = all
    .filter(
      (row) =>
        !needle ||
        row.name.toLowerCase().includes(needle) ||
        (row.item.name ?? '').toLowerCase().includes(needle),
    )
    .sort((a, b) => (b.modified ?? '').localeCompare(a.modified ?? ''));

  if (!user) return <Navigate to={signInPath('/')} replace />;

  // Acting as an organization, types an organization cannot own (environments, groups, apps)
  // answer 403: they are left out and named, not reported as a failure.
  const refusedForAccount = (i: number) =>
    !!accountId && lists[i].error instanceof ApiError && lists[i].error.status === 403;
  const notForAccount = kinds.filter((_, i) => refusedForAccount(i));
  const failed = lists.find((l, i) => l.isError && !refusedForAccount(i));
  const truncated = kinds.filter((_, i) => (lists[i].data?.total ?? 0) > (lists[i].data?.items.length ?? 0));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const current = Math.min(page, pages);
  const shown = rows.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE);
  const actingAs = accountId
    ? organizations.data?.items.find((o) => o.id === accountId)?.username
    : user.username;

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Home</Title>
        <CreateStorageMenu />
      </Group>
      {me.data && !me.data.emailVerified && (
        <Alert color="yellow" title="Verify your email">
          We mailed a link to {me.data.email}.{' '}
          <Anchor c="inherit" underline="always" component={Link} to={paths.verifyEmail}>
            Ask for a new one
          </Anchor>{' '}
          if it did not arrive.
        </Alert>
      )}
      {accountId &&
        (ownership === 'ownedByMe' ? (
          <Text>Acting as the organization {actingAs ?? ''}: these are its resources.</Text>
        ) : (
          <Text>What is shared with you personally, whichever account you act as.</Text>
        ))}
      <SegmentedControl
        aria-label="Ownership"
        value={ownership === 'sharedWithMe' ? 'shared' : 'owned'}
        onChange={(value) => update({ ownership: value === 'shared' ? 'shared' : undefined })}
        data={[
          { value: 'owned', label: 'Owned by me' },
          { value: 'shared', label: 'Shared with me' },
        ]}
        w="fit-content"
      />
      <Group align="end">
        <Select
          label="Type"
          data={[
            { value: 'all', label: 'All types' },
            ...KINDS.map((k) => ({ value: k.key, label: k.label })),
          ]}
          value={type}
          allowDeselect={false}
          onChange={(value) => update({ type: value && value !== 'all' ? value : undefined })}
          w={220}
        />
        <TextInput
          label="Search by name"
          type="search"
          value={search}
          onChange={(event) => update({ q: event.currentTarget.value || undefined })}
          w={280}
        />
      </Group>
      <Text size="sm">
        Search and paging cover the {LOAD_LIMIT} most recent resources of each type; the API has no search by
        name.
        {truncated.length > 0 && ` More exist of: ${truncated.map((k) => k.label).join(', ')}.`}
      </Text>
      {failed && <ErrorAlert error={failed.error} title="Some resources could not be listed" />}
      {notForAccount.length > 0 && (
        <Text size="sm">
          {notForAccount.map((kind) => `${kind.label}s`).join(', ')}: not owned by organizations; switch to
          your personal account to see yours.
        </Text>
      )}
      {!loaded ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Alert color="gray" title={search ? 'Nothing matches' : 'Nothing here yet'}>
          {search
            ? `No resource of the chosen type has a name containing “${search}”.`
            : ownership === 'sharedWithMe'
              ? 'Nobody has shared a resource of this type with you yet.'
              : 'Create a dataset, key-value store or request queue to start.'}
        </Alert>
      ) : (
        <>
          <Table
            striped
            highlightOnHover
            aria-label={ownership === 'sharedWithMe' ? 'Shared with me' : 'Owned by me'}
          >
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Type</Table.Th>
                <Table.Th>Owner</Table.Th>
                <Table.Th>Modified</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {shown.map((row) => (
                <Table.Tr key={`${row.kind.key}:${row.item.id}`}>
                  <Table.Td>
                    <Anchor component={Link} to={row.kind.to(row.item.id)}>
                      {row.name}
                    </Anchor>
                    {row.item.status && (
                      <Badge ml="xs" variant="light" color="gray">
                        {row.item.status}
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>{row.kind.label}</Table.Td>
                  <Table.Td>
                    <Owner
                      id={row.item.userId ?? row.item.ownerId}
                      username={row.item.username}
                      own={ownership === 'ownedByMe' ? actingAs : undefined}
                    />
                  </Table.Td>
                  <Table.Td>{formatDate(row.modified)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Group justify="space-between">
            <Text size="sm">
              {rows.length} resource{rows.length === 1 ? '' : 's'}
            </Text>
            {pages > 1 && (
              <Pagination
                total={pages}
                value={current}
                onChange={(next) => update({ page: next > 1 ? String(next) : undefined })}
                getControlProps={(control) => ({ 'aria-label': `${control} page` })}
                getItemProps={(n) => ({ 'aria-label': `Page ${n}` })}
              />
            )}
          </Group>
        </>
      )}
    </Stack>
  );
}
