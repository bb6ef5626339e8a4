import {
  Alert,
  Anchor,
  Button,
  Group,
  Paper,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, data } from '../lib/api';
import { useApiForm } from '../lib/forms';
import { pageCount, usePageParam } from '../lib/paging';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { QueryState } from './page-state';
import { Pager } from './pager';
import { StatusBadge } from './status-badge';
import { Time } from './time';
import { UserName } from './user-name';

const PER_PAGE = 20;
const STATUSES = ['OPEN', 'CLOSED', 'ALL'] as const;
type StatusFilter = (typeof STATUSES)[number];

/** An Actor's issues (filtered by status, paged) and, for a signed-in reader, the form to open one. */
export function ActorIssues({ actorId }: { actorId: string }) {
  const { user } = useSession();
  const [params, setParams] = useSearchParams();
  const statusParam = params.get('issueStatus') ?? 'OPEN';
  const status: StatusFilter = (STATUSES as readonly string[]).includes(statusParam)
    ? (statusParam as StatusFilter)
    : 'OPEN';
  const [page, setPage] = usePageParam('issuesPage');
  const issues = useQuery({
    queryKey: ['actor-issues', actorId, status, page],
    placeholderData: keepPreviousData,
    queryFn: () =>
      data(
        api.GET('/v2/acts/{actorId}/issues', {
          params: { path: { actorId }, query: { status, offset: (page - 1) * PER_PAGE, limit: PER_PAGE } },
        }),
      ),
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Issues</Title>
        <SegmentedControl
          aria-label="Issue status"
          value={status}
          onChange={(value) =>
            setParams((current) => {
              const next = new URLSearchParams(current);
              next.set('issueStatus', value);
              next.delete('issuesPage');
              return next;
            })
          }
          data={[
            { value: 'OPEN', label: 'Open' },
            { value: 'CLOSED', label: 'Closed' },
            { value: 'ALL', label: 'All' },
          ]}
        />
      </Group>
      <QueryState query={issues} what="list of issues">
        {(list) =>
          list.items.length === 0 ? (
            <Text>No {status === 'ALL' ? '' : `${status.toLowerCase()} `}issues.</Text>
          ) : (
            <Stack>
              <Table aria-label="Issues" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Title</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Author</Table.Th>
                    <Table.Th>Comments</Table.Th>
                    <Table.Th>Opened</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.items.map((issue) => (
                    <Table.Tr key={issue.id}>
                      <Table.Td>
                        <Anchor component={Link} to={paths.issue(issue.id)}>
                          {issue.title}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <StatusBadge status={issue.status} />
                      </Table.Td>
                      <Table.Td>
                        <UserName userId={issue.userId} />
                      </Table.Td>
                      <Table.Td>{issue.commentCount}</Table.Td>
                      <Table.Td>
                        <Time value={issue.createdAt} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Pager
                total={pageCount(list.total, PER_PAGE)}
                value={page}
                onChange={setPage}
                label="Pages of issues"
              />
            </Stack>
          )
        }
      </QueryState>
      {user ? <NewIssue actorId={actorId} /> : <Text>Sign in to report an issue.</Text>}
    </Stack>
  );
}

/**
 * Opens an issue. A run (its URL as the console or the API shows it, or its id) is attached; the
 * API shares it with the Actor's owner when the reporter may share it, and says which field is
 * wrong otherwise.
 */
function NewIssue({ actorId }: { actorId: string }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { title: '', description: '', runUrl: '' },
    validate: { title: (value) => (value.trim() ? null : 'Give the issue a title') },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) =>
      data(
        api.POST('/v2/acts/{actorId}/issues', {
          params: { path: { actorId } },
          body: {
            title: values.title,
            description: values.description,
            // The API takes a run's URL or its bare id in `runUrl`.
            ...(values.runUrl.trim() ? { runUrl: values.runUrl.trim() } : {}),
          },
        }),
      ),
    (issue) => {
      void queryClient.invalidateQueries({ queryKey: ['actor-issues', actorId] });
      void navigate(paths.issue(issue.id));
    },
  );
  return (
    <Paper
      withBorder
      p="md"
      component="form"
      onSubmit={onSubmit}
      noValidate
      aria-labelledby="new-issue-heading"
    >
      <Stack>
        <Title order={3} id="new-issue-heading">
          Report an issue
        </Title>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <TextInput label="Title" required maxLength={200} {...form.getInputProps('title')} />
        <Textarea
          label="Description"
          autosize
          minRows={3}
          maxRows={12}
          {...form.getInputProps('description')}
        />
        <TextInput
          label="Run URL or run ID"
          description="Optional. The run is shared with the Actor's owner only, so they can see what went wrong."
          {...form.getInputProps('runUrl')}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={pending}>
            Create issue
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
