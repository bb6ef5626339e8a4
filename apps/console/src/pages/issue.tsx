import { Alert, Anchor, Button, Group, Paper, Stack, Text, Textarea, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { ActorLink } from '../components/actor-link';
import { ErrorAlert, QueryState } from '../components/page-state';
import { Pager } from '../components/pager';
import { StatusBadge } from '../components/status-badge';
import { Time } from '../components/time';
import { UserName } from '../components/user-name';
import { api, data, type AtriumSchema } from '../lib/api';
import { useAllowed } from '../lib/allowed';
import { errorMessage, useApiForm } from '../lib/forms';
import { pageCount, usePageParam } from '../lib/paging';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';

type Issue = AtriumSchema<'ActorIssue'>;
/** A comment as the API answers it (the generated type names only some of its fields). */
type Comment = AtriumSchema<'ActorIssueComment'> & { userId: string; editedAt?: string | null };
const COMMENTS_PER_PAGE = 50;

/** `/issues/:issueId`: an Actor issue, its comments, the reader's subscription and its status. */
export default function IssuePage() {
  const { issueId = '' } = useParams();
  const issue = useQuery({
    queryKey: ['issue', issueId],
    queryFn: () => data(api.GET('/v2/actor-issues/{issueId}', { params: { path: { issueId } } })),
  });
  return (
    <QueryState query={issue} what="issue">
      {(i) => <IssueView issue={i} />}
    </QueryState>
  );
}

function IssueView({ issue }: { issue: Issue }) {
  const { user } = useSession();
  return (
    <Stack>
      <Stack gap={4}>
        <Title order={1}>{issue.title}</Title>
        <Group gap="xs">
          <StatusBadge status={issue.status} />
          <Text>
            Opened by <UserName userId={issue.userId} /> on <Time value={issue.createdAt} /> about the Actor{' '}
            <ActorLink actorId={issue.actId} />
          </Text>
        </Group>
        {issue.closedAt && (
          <Text size="sm">
            Closed on <Time value={issue.closedAt} />
          </Text>
        )}
      </Stack>
      {issue.description ? (
        <Text style={{ whiteSpace: 'pre-wrap' }}>{issue.description}</Text>
      ) : (
        <Text fs="italic">No description.</Text>
      )}
      {/* The API gives the attached run to the Actor's owner and the issue's author only. */}
      {issue.runId && (
        <Paper withBorder p="sm">
          <Text>
            Attached run:{' '}
            <Anchor component={Link} to={paths.run(issue.runId)}>
              Run {issue.runId}
            </Anchor>
          </Text>
        </Paper>
      )}
      {user && (
        <Group>
          <StatusActions issue={issue} userId={user.id} />
          <Subscription issueId={issue.id} />
        </Group>
      )}
      <Comments issue={issue} />
    </Stack>
  );
}

/** Close or reopen: the Actor's owner (WRITE on the Actor) either way; the author may close. */
function StatusActions({ issue, userId }: { issue: Issue; userId: string }) {
  const queryClient = useQueryClient();
  const onActor = useAllowed(issue.actId, ['WRITE']);
  const change = useMutation({
    mutationFn: (status: 'OPEN' | 'CLOSED') =>
      data(
        api.PATCH('/v2/actor-issues/{issueId}', {
          params: { path: { issueId: issue.id } },
          body: { status },
        }),
      ),
    onSuccess: (updated) => {
      queryClient.setQueryData(['issue', issue.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['actor-issues', issue.actId] });
    },
  });
  const mayClose = issue.status === 'OPEN' && (onActor?.WRITE || issue.userId === userId);
  const mayReopen = issue.status === 'CLOSED' && onActor?.WRITE;
  return (
    <>
      {mayClose && (
        <Button variant="default" loading={change.isPending} onClick={() => change.mutate('CLOSED')}>
          Close issue
        </Button>
      )}
      {mayReopen && (
        <Button variant="default" loading={change.isPending} onClick={() => change.mutate('OPEN')}>
          Reopen issue
        </Button>
      )}
      {change.isError && (
        <Alert color="red" role="alert">
          {errorMessage(change.error)}
        </Alert>
      )}
    </>
  );
}

/** Subscribing brings notifications of new comments and status changes on the issue. */
function Subscription({ issueId }: { issueId: string }) {
  const queryClient = useQueryClient();
  const key = ['issue-subscription', issueId];
  const state = useQuery({
    queryKey: key,
    queryFn: () =>
      data(api.GET('/v2/actor-issues/{issueId}/subscription', { params: { path: { issueId } } })),
  });
  const change = useMutation({
    mutationFn: (subscribe: boolean) =>
      data(
        subscribe
          ? api.PUT('/v2/actor-issues/{issueId}/subscription', { params: { path: { issueId } } })
          : api.DELETE('/v2/actor-issues/{issueId}/subscription', { params: { path: { issueId } } }),
      ),
    onSuccess: (answer) => queryClient.setQueryData(key, answer),
  });
  if (state.isError) return <ErrorAlert error={state.error} title="Your subscription could not be read" />;
  const subscribed = state.data?.subscribed;
  if (subscribed === undefined) return null;
  return (
    <>
      <Button variant="light" loading={change.isPending} onClick={() => change.mutate(!subscribed)}>
        {subscribed ? 'Unsubscribe' : 'Subscribe'}
      </Button>
      <Text role="status" size="sm">
        {subscribed
          ? 'You are subscribed: new comments and status changes show in your notifications.'
          : 'You are not subscribed to this issue.'}
      </Text>
      {change.isError && (
        <Alert color="red" role="alert">
          {errorMessage(change.error)}
        </Alert>
      )}
    </>
  );
}

function Comments({ issue }: { issue: Issue }) {
  const { user } = useSession();
  const [page, setPage] = usePageParam('commentsPage');
  const comments = useQuery({
    queryKey: ['issue-comments', issue.id, page],
    placeholderData: keepPreviousData,
    queryFn: () =>
      data(
        api.GET('/v2/actor-issues/{issueId}/comments', {
          params: {
            path: { issueId: issue.id },
            query: { offset: (page - 1) * COMMENTS_PER_PAGE, limit: COMMENTS_PER_PAGE },
          },
        }),
      ),
  });
  return (
    <Stack>
      <Title order={2}>Comments</Title>
      <QueryState query={comments} what="comments">
        {(list) =>
          list.items.length === 0 ? (
            <Text>No comments yet.</Text>
          ) : (
            <Stack component="ol" gap="sm" p={0} style={{ listStyle: 'none' }} aria-label="Comments">
              {(list.items as Comment[]).map((comment) => (
                <li key={comment.id}>
                  <CommentItem comment={comment} issueId={issue.id} mine={comment.userId === user?.id} />
                </li>
              ))}
            </Stack>
          )
        }
      </QueryState>
      {comments.data && (
        <Pager
          total={pageCount(comments.data.total, COMMENTS_PER_PAGE)}
          value={page}
          onChange={setPage}
          label="Pages of comments"
        />
      )}
      {user ? (
        <NewComment issueId={issue.id} onAdded={(total) => setPage(pageCount(total, COMMENTS_PER_PAGE))} />
      ) : (
        <Text>Sign in to comment.</Text>
      )}
    </Stack>
  );
}

function CommentItem({ comment, issueId, mine }: { comment: Comment; issueId: string; mine: boolean }) {
  const [editing, setEditing] = useState(false);
  return (
    <Paper withBorder p="sm">
      <Group justify="space-between" mb={4}>
        <Text size="sm" fw={600}>
          <UserName userId={comment.userId} fw={600} />
          <Text span size="sm" fw={400}>
            {' · '}
            <Time value={comment.createdAt} />
            {comment.editedAt && (
              <>
                {' · edited '}
                <Time value={comment.editedAt} />
              </>
            )}
          </Text>
        </Text>
        {mine && !editing && (
          <Button variant="subtle" size="xs" onClick={() => setEditing(true)}>
            Edit
          </Button>
        )}
      </Group>
      {editing ? (
        <EditComment comment={comment} issueId={issueId} onDone={() => setEditing(false)} />
      ) : (
        <Text style={{ whiteSpace: 'pre-wrap' }}>{comment.text}</Text>
      )}
    </Paper>
  );
}

function EditComment({
  comment,
  issueId,
  onDone,
}: {
  comment: Comment;
  issueId: string;
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { text: comment.text },
    validate: { text: (value) => (value.trim() ? null : 'A comment cannot be empty') },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) =>
      data(
        api.PATCH('/v2/actor-issues/{issueId}/comments/{commentId}', {
          params: { path: { issueId, commentId: comment.id } },
          body: { text: values.text },
        }),
      ),
    () => {
      void queryClient.invalidateQueries({ queryKey: ['issue-comments', issueId] });
      onDone();
    },
  );
  return (
    <form onSubmit={onSubmit} noValidate>
      <Stack gap="xs">
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <Textarea label="Edit your comment" autosize minRows={2} {...form.getInputProps('text')} />
        <Group gap="xs">
          <Button type="submit" size="xs" loading={pending}>
            Save
          </Button>
          <Button variant="default" size="xs" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function NewComment({ issueId, onAdded }: { issueId: string; onAdded: (total: number) => void }) {
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { text: '' },
    validate: { text: (value) => (value.trim() ? null : 'Write something first') },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) =>
      data(
        api.POST('/v2/actor-issues/{issueId}/comments', {
          params: { path: { issueId } },
          body: { text: values.text },
        }),
      ),
    async () => {
      form.reset();
      await queryClient.invalidateQueries({ queryKey: ['issue-comments', issueId] });
      const issue = await queryClient.fetchQuery({
        queryKey: ['issue', issueId],
        staleTime: 0,
        queryFn: () => data(api.GET('/v2/actor-issues/{issueId}', { params: { path: { issueId } } })),
      });
      onAdded(issue.commentCount);
    },
  );
  return (
    <form onSubmit={onSubmit} noValidate>
      <Stack gap="xs">
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <Textarea label="Add a comment" autosize minRows={3} {...form.getInputProps('text')} />
        <Group>
          <Button type="submit" loading={pending}>
            Comment
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
