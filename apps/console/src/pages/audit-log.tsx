import {
  Anchor,
  Button,
  Code,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, Navigate, useLocation, useSearchParams } from 'react-router';
import { ErrorAlert, Loading, signInPath } from '../components/page-state';
import { Time } from '../components/time';
import { UserName } from '../components/user-name';
import { api, ApiError, data, type AtriumSchema } from '../lib/api';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';

type Entry = AtriumSchema<'AuditEntry'>;
const PER_PAGE = 50;
const FILTERS = ['resourceId', 'accountId', 'from', 'to'] as const;
type Filter = (typeof FILTERS)[number];

/** The console page of each resource type an entry can name. */
const RESOURCE_PAGES: Record<string, (id: string) => string> = {
  ACTOR: paths.actor,
  ACTOR_TASK: paths.task,
  SCHEDULE: paths.schedule,
  ACTOR_RUN: paths.run,
  ACTOR_BUILD: paths.build,
  DATASET: paths.dataset,
  KEY_VALUE_STORE: paths.keyValueStore,
  REQUEST_QUEUE: paths.requestQueue,
  ENVIRONMENT: paths.environment,
  ENVIRONMENT_GROUP: paths.environmentGroup,
  APP: paths.app,
};

const ACTIONS: Record<string, string> = {
  'grant.created': 'Access granted',
  'grant.updated': 'Access changed',
  'grant.revoked': 'Access revoked',
  'general-access.changed': 'General access changed',
  'account-settings.changed': 'Account settings changed',
  'membership.changed': 'Membership changed',
  'token.created': 'API token created',
  'token.revoked': 'API token revoked',
  'access.denied': 'Access denied',
};

/** A resource type as words: `KEY_VALUE_STORE` → "key value store". */
function typeName(type: string | null): string {
  return type ? type.toLowerCase().replace(/_/g, ' ') : 'resource';
}

/** An `<input type="datetime-local">` value as the API's ISO time, and back. */
function toIso(local: string): string {
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}
function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

/** What changed, in a sentence, from the entry's `before` and `after`. */
function Details({ entry }: { entry: Entry }) {
  const after = (entry.after ?? {}) as Record<string, unknown>;
  const before = (entry.before ?? {}) as Record<string, unknown>;
  switch (entry.action) {
    case 'grant.created':
    case 'grant.updated':
    case 'grant.revoked': {
      const grant = (entry.action === 'grant.revoked' ? before : after) as {
        permissions?: string[];
        hidden?: boolean;
        source?: { type: string; id: string } | null;
        expiresAt?: string | null;
      };
      return (
        <>
          {grant.permissions?.join(', ') ?? ''}
          {grant.expiresAt && (
            <>
              {' '}
              until <Time value={grant.expiresAt} />
            </>
          )}
          {grant.source?.type === 'ACTOR_ISSUE' && (
            <>
              {' '}
              (hidden, through the issue{' '}
              <Anchor component={Link} to={paths.issue(grant.source.id)}>
                {grant.source.id}
              </Anchor>
              )
            </>
          )}
        </>
      );
    }
    case 'general-access.changed':
      return (
        <>
          {String(before.generalAccess ?? '—')} → {String(after.generalAccess ?? '—')}
          {before.isPublic !== after.isPublic && ` (public: ${String(after.isPublic)})`}
        </>
      );
    case 'access.denied':
      return <>Asked for {String(after.permission ?? 'a permission')}</>;
    case 'membership.changed':
      return (
        <>
          {String(after.kind ?? '')}{' '}
          {after.active === false ? 'inactive' : `role ${String(after.role ?? '—')}`}
        </>
      );
    case 'token.created':
      return <>{String(after.name ?? 'unnamed token')}</>;
    default:
      return <Code>{JSON.stringify(entry.after ?? entry.before ?? null)}</Code>;
  }
}

/** `/audit-log`: changes of access and denials of an account or one resource, newest first. */
export default function AuditLogPage() {
  const { user, accountId: actingAccount } = useSession();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((key) => [key, params.get(key) ?? ''])) as Record<
    Filter,
    string
  >;
  const account = filters.accountId || actingAccount || user?.id || '';
  const cursor = params.get('cursor') ?? undefined;
  const log = useQuery({
    queryKey: [
      'audit-log',
      filters.resourceId,
      filters.resourceId ? '' : account,
      filters.from,
      filters.to,
      cursor,
    ],
    enabled: !!user,
    placeholderData: keepPreviousData,
    queryFn: () =>
      data(
        api.GET('/v2/audit-log', {
          params: {
            query: {
              limit: PER_PAGE,
              ...(filters.resourceId ? { resourceId: filters.resourceId } : { accountId: account }),
              ...(filters.from ? { from: filters.from } : {}),
              ...(filters.to ? { to: filters.to } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
  });
  const organizations = useQuery({
    queryKey: ['organizations', 'mine'],
    enabled: !!user,
    queryFn: () => data(api.GET('/v2/organizations')),
  });
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} replace />;

  // The API names the filter it refuses (`Field "query.from" is invalid: …`): shown next to it.
  const fieldError = log.error instanceof ApiError ? (log.error.field as Filter | undefined) : undefined;
  const errorFor = (key: Filter) =>
    fieldError === key && log.error
      ? log.error.message.replace(/^Field "[^"]+" (is invalid: )?/, '')
      : undefined;
  const accounts = [
    { value: user.id, label: `${user.username} (personal)` },
    ...(organizations.data?.items ?? []).map((org) => ({ value: org.id, label: org.username })),
  ];

  return (
    <Stack>
      <Title order={1}>Audit log</Title>
      <Text>
        Changes of access (grants, general access, memberships, API tokens) and refused requests, newest
        first.
      </Text>
      <FilterForm
        key={params.toString()}
        initial={{ ...filters, accountId: account }}
        accounts={accounts}
        errorFor={errorFor}
        onApply={(values) =>
          setParams(() => {
            const next = new URLSearchParams();
            if (values.resourceId.trim()) next.set('resourceId', values.resourceId.trim());
            if (values.accountId && values.accountId !== (actingAccount ?? user.id))
              next.set('accountId', values.accountId);
            if (values.from) next.set('from', toIso(values.from));
            if (values.to) next.set('to', toIso(values.to));
            return next;
          })
        }
      />
      {log.isPending ? (
        <Loading />
      ) : log.isError ? (
        fieldError && FILTERS.includes(fieldError) ? null : (
          <ErrorAlert error={log.error} title="The audit log could not be read" />
        )
      ) : log.data.items.length === 0 ? (
        <Text>Nothing recorded{cursor ? ' further back' : ''} for these filters.</Text>
      ) : (
        <Table aria-label="Audit log entries" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>What</Table.Th>
              <Table.Th>By</Table.Th>
              <Table.Th>For</Table.Th>
              <Table.Th>Resource</Table.Th>
              <Table.Th>Details</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {log.data.items.map((entry) => {
              const page =
                entry.resourceType && entry.resourceId ? RESOURCE_PAGES[entry.resourceType] : undefined;
              return (
                <Table.Tr key={entry.id}>
                  <Table.Td>
                    <Time value={entry.occurredAt} />
                  </Table.Td>
                  <Table.Td>{ACTIONS[entry.action] ?? entry.action}</Table.Td>
                  <Table.Td>{entry.actorId ? <UserName userId={entry.actorId} /> : 'Atrium'}</Table.Td>
                  <Table.Td>{entry.subjectId ? <UserName userId={entry.subjectId} /> : '—'}</Table.Td>
                  <Table.Td>
                    {entry.resourceId ? (
                      <>
                        {typeName(entry.resourceType)}{' '}
                        {page ? (
                          <Anchor component={Link} to={page(entry.resourceId)} ff="monospace">
                            {entry.resourceId}
                          </Anchor>
                        ) : (
                          <Text span ff="monospace">
                            {entry.resourceId}
                          </Text>
                        )}
                      </>
                    ) : (
                      'Account'
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Details entry={entry} />
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      <Group>
        {cursor && (
          <Button
            variant="default"
            onClick={() =>
              setParams((current) => {
                const next = new URLSearchParams(current);
                next.delete('cursor');
                return next;
              })
            }
          >
            Newest entries
          </Button>
        )}
        {log.data?.nextCursor && (
          <Button
            variant="default"
            onClick={() =>
              setParams((current) => {
                const next = new URLSearchParams(current);
                next.set('cursor', log.data.nextCursor!);
                return next;
              })
            }
          >
            Older entries
          </Button>
        )}
      </Group>
    </Stack>
  );
}

function FilterForm({
  initial,
  accounts,
  errorFor,
  onApply,
}: {
  initial: Record<Filter, string>;
  accounts: { value: string; label: string }[];
  errorFor: (key: Filter) => string | undefined;
  onApply: (values: Record<Filter, string>) => void;
}) {
  const form = useForm({
    initialValues: {
      ...initial,
      from: toLocalInput(initial.from || null),
      to: toLocalInput(initial.to || null),
    },
  });
  return (
    <Paper
      withBorder
      p="md"
      component="form"
      onSubmit={form.onSubmit(onApply)}
      noValidate
      aria-label="Filters"
    >
      <Group align="flex-end">
        <Select
          label="Account"
          data={accounts}
          allowDeselect={false}
          disabled={!!form.getValues().resourceId.trim()}
          {...form.getInputProps('accountId')}
          error={errorFor('accountId')}
        />
        <TextInput
          label="Resource ID"
          description="Instead of the account: one resource you manage"
          {...form.getInputProps('resourceId')}
          error={errorFor('resourceId')}
        />
        <TextInput
          label="From"
          type="datetime-local"
          {...form.getInputProps('from')}
          error={errorFor('from')}
        />
        <TextInput label="To" type="datetime-local" {...form.getInputProps('to')} error={errorFor('to')} />
        <Button type="submit">Apply filters</Button>
      </Group>
    </Paper>
  );
}
