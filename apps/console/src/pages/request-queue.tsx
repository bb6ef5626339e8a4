import { Alert, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useParams, useSearchParams } from 'react-router';
import { QueryState } from '../components/page-state';
import { StorageHeader, type StorageBase } from '../components/storage-header';
import { api, data } from '../lib/api';
import { errorMessage } from '../lib/forms';

interface RequestQueue extends StorageBase {
  totalRequestCount: number;
  handledRequestCount: number;
  pendingRequestCount: number;
}
interface QueueRequest {
  id: string;
  url: string;
  method: string;
  uniqueKey: string;
  retryCount?: number;
  handledAt?: string | null;
  errorMessages?: string[];
}
interface RequestsPage {
  items: QueueRequest[];
  nextCursor?: string;
}

const PAGE_SIZE = 50;

function dateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function RequestsTable({ label, requests, withState }: { label: string; requests: QueueRequest[]; withState: boolean }) {
  return (
    <Table.ScrollContainer minWidth={600}>
      <Table withTableBorder striped aria-label={label} verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Method</Table.Th>
            <Table.Th scope="col">URL</Table.Th>
            {withState && <Table.Th scope="col">State</Table.Th>}
            <Table.Th scope="col">Retries</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {requests.map((r) => (
            <Table.Tr key={r.id}>
              <Table.Td>{r.method}</Table.Td>
              <Table.Td style={{ wordBreak: 'break-all' }}>{r.url}</Table.Td>
              {withState && (
                <Table.Td>
                  {r.handledAt ? (
                    <Text size="sm" fw={700}>
                      Handled {dateTime(r.handledAt)}
                    </Text>
                  ) : (
                    <Text size="sm">Pending</Text>
                  )}
                </Table.Td>
              )}
              <Table.Td>{r.retryCount ?? 0}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function Requests({ queue }: { queue: RequestQueue }) {
  const [params, setParams] = useSearchParams();
  const cursor = params.get('after') ?? undefined;
  const requests = useQuery({
    queryKey: ['request-queues', queue.id, 'requests', cursor ?? ''],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      (await data(
        api.GET('/v2/request-queues/{queueId}/requests', {
          params: { path: { queueId: queue.id }, query: { limit: PAGE_SIZE, cursor } },
        }),
      )) as unknown as RequestsPage,
  });
  if (requests.isPending) return <Text>Loading requests…</Text>;
  if (requests.isError) return <Alert color="red">{errorMessage(requests.error)}</Alert>;
  const page = requests.data;
  if (!page.items.length && !cursor) return <Text>This queue has no requests yet.</Text>;
  return (
    <Stack gap="sm">
      <RequestsTable label="Requests" requests={page.items} withState />
      <Group>
        <Button variant="default" size="sm" disabled={!cursor} onClick={() => setParams((p) => (p.delete('after'), p))}>
          First page
        </Button>
        <Button
          variant="default"
          size="sm"
          disabled={!page.nextCursor}
          onClick={() => setParams((p) => (p.set('after', page.nextCursor ?? ''), p))}
        >
          Next page
        </Button>
      </Group>
    </Stack>
  );
}

/** The next requests a crawler would take (the queue's head), without locking them. */
function Head({ queue }: { queue: RequestQueue }) {
  const head = useQuery({
    queryKey: ['request-queues', queue.id, 'head'],
    queryFn: async () =>
      (await data(
        api.GET('/v2/request-queues/{queueId}/head', { params: { path: { queueId: queue.id }, query: { limit: 10 } } }),
      )) as unknown as { items: QueueRequest[] },
  });
  if (head.isPending) return <Text>Loading the head…</Text>;
  if (head.isError) return <Alert color="red">{errorMessage(head.error)}</Alert>;
  if (!head.data.items.length) return <Text>No pending requests.</Text>;
  return <RequestsTable label="Next requests" requests={head.data.items} withState={false} />;
}

/** A request queue (its `consoleUrl`): facts, Share, its head and its requests paged. */
export default function RequestQueuePage() {
  const { queueId = '' } = useParams();
  const queue = useQuery({
    queryKey: ['request-queues', queueId],
    queryFn: async () =>
      (await data(api.GET('/v2/request-queues/{queueId}', { params: { path: { queueId } } }))) as unknown as RequestQueue,
  });
  return (
    <QueryState query={queue} what="request queue">
      {(q) => (
        <Stack gap="lg">
          <StorageHeader
            kind="Request queue"
            collection="request-queues"
            storage={q}
            facts={[
              ['Requests', String(q.totalRequestCount)],
              ['Handled', String(q.handledRequestCount)],
              ['Pending', String(q.pendingRequestCount)],
            ]}
          />
          <Stack gap="xs">
            <Title order={2} size="h3">
              Next in the queue
            </Title>
            <Head queue={q} />
          </Stack>
          <Stack gap="xs">
            <Title order={2} size="h3">
              All requests
            </Title>
            <Requests queue={q} />
          </Stack>
        </Stack>
      )}
    </QueryState>
  );
}
