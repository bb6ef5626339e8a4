import { Anchor, Badge, Button, Group, Paper, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Navigate, useLocation, useSearchParams } from 'react-router';
import { QueryState, signInPath } from '../components/page-state';
import { Pager } from '../components/pager';
import { Time } from '../components/time';
import { UserName } from '../components/user-name';
import { api, data } from '../lib/api';
import { pageCount, usePageParam } from '../lib/paging';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';

/** A notification as the API answers it (the generated type names only some of its fields). */
interface Notification {
  id: string;
  kind: 'COMMENT_ADDED' | 'STATUS_CHANGED';
  issueId: string;
  actId: string;
  causedBy: string;
  commentId: string | null;
  status: 'OPEN' | 'CLOSED' | null;
  createdAt: string;
  readAt: string | null;
}
const PER_PAGE = 25;

/** `/notifications`: new comments and status changes on the issues I subscribe to. */
export default function NotificationsPage() {
  const { user } = useSession();
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const unreadOnly = params.get('show') === 'unread';
  const [page, setPage] = usePageParam();
  const notifications = useQuery({
    queryKey: ['notifications', unreadOnly, page],
    enabled: !!user,
    placeholderData: keepPreviousData,
    queryFn: () =>
      data(
        api.GET('/v2/users/me/notifications', {
          params: {
            query: {
              offset: (page - 1) * PER_PAGE,
              limit: PER_PAGE,
              ...(unreadOnly ? { unread: '1' as const } : {}),
            },
          },
        }),
      ),
  });
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} replace />;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Notifications</Title>
        <SegmentedControl
          aria-label="Which notifications"
          value={unreadOnly ? 'unread' : 'all'}
          onChange={(value) => setParams(value === 'unread' ? { show: 'unread' } : {})}
          data={[
            { value: 'all', label: 'All' },
            { value: 'unread', label: 'Unread' },
          ]}
        />
      </Group>
      <Text>New comments and status changes on the issues you subscribe to.</Text>
      <QueryState query={notifications} what="notifications">
        {(list) =>
          list.items.length === 0 ? (
            <Text>{unreadOnly ? 'Nothing unread.' : 'No notifications yet.'}</Text>
          ) : (
            <Stack component="ul" gap="sm" p={0} style={{ listStyle: 'none' }} aria-label="Notifications">
              {(list.items as unknown as Notification[]).map((n) => (
                <li key={n.id}>
                  <NotificationItem notification={n} />
                </li>
              ))}
            </Stack>
          )
        }
      </QueryState>
      {notifications.data && (
        <Pager
          total={pageCount(notifications.data.total, PER_PAGE)}
          value={page}
          onChange={setPage}
          label="Pages of notifications"
        />
      )}
    </Stack>
  );
}

/** The issue's title when it can be read (the API lists only those), else its id. */
function IssueTitle({ issueId }: { issueId: string }) {
  const issue = useQuery({
    queryKey: ['issue', issueId],
    retry: false,
    queryFn: () => data(api.GET('/v2/actor-issues/{issueId}', { params: { path: { issueId } } })),
  });
  return <>{issue.data?.title ?? `issue ${issueId}`}</>;
}

function NotificationItem({ notification: n }: { notification: Notification }) {
  const queryClient = useQueryClient();
  const markRead = useMutation({
    mutationFn: () =>
      data(
        api.POST('/v2/users/me/notifications/{notificationId}/read', {
          params: { path: { notificationId: n.id } },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['notifications'] }),
  });
  const unread = !n.readAt;
  return (
    <Paper withBorder p="sm">
      <Group justify="space-between" wrap="nowrap">
        <Stack gap={2}>
          <Text>
            {unread && (
              <Badge variant="filled" color="blue.9" mr="xs">
                New
              </Badge>
            )}
            <UserName userId={n.causedBy} />{' '}
            {n.kind === 'COMMENT_ADDED' ? 'commented on' : n.status === 'CLOSED' ? 'closed' : 'reopened'}{' '}
            <Anchor component={Link} to={paths.issue(n.issueId)} onClick={() => unread && markRead.mutate()}>
              <IssueTitle issueId={n.issueId} />
            </Anchor>
          </Text>
          <Text size="sm">
            <Time value={n.createdAt} />
          </Text>
        </Stack>
        {unread && (
          <Button variant="subtle" size="xs" loading={markRead.isPending} onClick={() => markRead.mutate()}>
            Mark as read
          </Button>
        )}
      </Group>
    </Paper>
  );
}
