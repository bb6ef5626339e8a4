import { Alert, Anchor, Button, Code, DataList, Group, List, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { ActorLink } from '../components/actor-link';
import { LogView } from '../components/log-view';
import { ErrorAlert, Loading, QueryState } from '../components/page-state';
import { StatusBadge } from '../components/status-badge';
import { duration, Time } from '../components/time';
import { UserName } from '../components/user-name';
import { api, ApiError, data, rawFetch, type AtriumSchema } from '../lib/api';
import { useAllowed } from '../lib/allowed';
import { errorMessage } from '../lib/forms';
import { paths } from '../lib/paths';
import { ShareButton } from '../share/share-button';

type Run = AtriumSchema<'Run'>;
/** A run in one of these can still change: the page re-reads it. */
const LIVE = ['READY', 'RUNNING', 'ABORTING', 'TIMING-OUT'];
const POLL_MS = 3_000;

/** `/actors/runs/:runId`, the run's `consoleUrl`. */
export default function RunPage() {
  const { runId = '' } = useParams();
  const run = useQuery({
    queryKey: ['run', runId],
    queryFn: () => data(api.GET('/v2/actor-runs/{runId}', { params: { path: { runId } } })),
    refetchInterval: (query) =>
      query.state.data && LIVE.includes(query.state.data.status) ? POLL_MS : false,
  });
  return (
    <QueryState query={run} what="run">
      {(r) => <RunView run={r} />}
    </QueryState>
  );
}

function RunView({ run }: { run: Run }) {
  const queryClient = useQueryClient();
  const allowed = useAllowed(run.id, ['WRITE']);
  const live = LIVE.includes(run.status);
  const abort = useMutation({
    mutationFn: () => data(api.POST('/v2/actor-runs/{runId}/abort', { params: { path: { runId: run.id } } })),
    onSuccess: (updated) => queryClient.setQueryData(['run', run.id], updated),
  });
  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Title order={1}>Run {run.id}</Title>
          <Group gap="xs">
            <StatusBadge status={run.status} />
            <Text>
              of <ActorLink actorId={run.actId} />
              {run.actorTaskId && (
                <>
                  {' '}
                  through task{' '}
                  <Anchor component={Link} to={paths.task(run.actorTaskId)}>
                    {run.actorTaskId}
                  </Anchor>
                </>
              )}
            </Text>
          </Group>
        </Stack>
        <Group>
          {allowed?.WRITE && live && (
            <Button color="red" variant="light" loading={abort.isPending} onClick={() => abort.mutate()}>
              Abort
            </Button>
          )}
          <ShareButton collection="actor-runs" id={run.id} name={`Run ${run.id}`} />
        </Group>
      </Group>
      {abort.isError && (
        <Alert color="red" role="alert" title="The run was not aborted">
          {errorMessage(abort.error)}
        </Alert>
      )}
      {run.statusMessage && (
        <Alert color={run.status === 'FAILED' ? 'red' : 'blue'} title="Status message">
          {run.statusMessage}
        </Alert>
      )}

      <Title order={2}>Details</Title>
      <DataList labelWidth="10rem">
        <DataList.Item>
          <DataList.ItemLabel>Started</DataList.ItemLabel>
          <DataList.ItemValue>
            <Time value={run.startedAt} />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Finished</DataList.ItemLabel>
          <DataList.ItemValue>
            <Time value={run.finishedAt} fallback={live ? 'Not yet' : '—'} />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Duration</DataList.ItemLabel>
          <DataList.ItemValue>{duration(run.startedAt, run.finishedAt)}</DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Started by</DataList.ItemLabel>
          <DataList.ItemValue>
            <UserName userId={run.userId} />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Build</DataList.ItemLabel>
          <DataList.ItemValue>
            {run.buildId ? (
              <Anchor component={Link} to={paths.build(run.buildId)}>
                {run.options.build}
              </Anchor>
            ) : (
              run.options.build
            )}
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Memory</DataList.ItemLabel>
          <DataList.ItemValue>{run.options.memoryMbytes} MB</DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Timeout</DataList.ItemLabel>
          <DataList.ItemValue>
            {run.options.timeoutSecs ? `${run.options.timeoutSecs} s` : 'None'}
          </DataList.ItemValue>
        </DataList.Item>
      </DataList>

      <Title order={2}>Storages</Title>
      <List>
        <List.Item>
          <Anchor component={Link} to={paths.dataset(run.defaultDatasetId)}>
            Default dataset
          </Anchor>
        </List.Item>
        <List.Item>
          <Anchor component={Link} to={paths.keyValueStore(run.defaultKeyValueStoreId)}>
            Default key-value store
          </Anchor>
        </List.Item>
        <List.Item>
          <Anchor component={Link} to={paths.requestQueue(run.defaultRequestQueueId)}>
            Default request queue
          </Anchor>
        </List.Item>
      </List>

      <Title order={2}>Input</Title>
      <RunInput storeId={run.defaultKeyValueStoreId} />

      <Title order={2}>Log</Title>
      <LogView path={`/v2/actor-runs/${run.id}/log`} live={live} label="Run log" />
    </Stack>
  );
}

/** The run's INPUT record (of its default key-value store), as JSON when it is JSON. */
function RunInput({ storeId }: { storeId: string }) {
  const input = useQuery({
    queryKey: ['record', storeId, 'INPUT'],
    queryFn: async () => {
      try {
        const response = await rawFetch(`/v2/key-value-stores/${storeId}/records/INPUT`);
        const text = await response.text();
        if (/json/i.test(response.headers.get('content-type') ?? '')) {
          try {
            return JSON.stringify(JSON.parse(text), null, 2);
          } catch {
            return text;
          }
        }
        return text;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });
  if (input.isPending) return <Loading label="Loading the input…" />;
  if (input.isError) return <ErrorAlert error={input.error} title="The input could not be read" />;
  if (input.data === null) return <Text>The run was started without input.</Text>;
  return (
    <Code block role="region" aria-label="Input" tabIndex={0} mah={360} style={{ overflow: 'auto' }}>
      {input.data}
    </Code>
  );
}
