import { DataList, Group, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useParams } from 'react-router';
import { ActorLink } from '../components/actor-link';
import { LogView } from '../components/log-view';
import { QueryState } from '../components/page-state';
import { StatusBadge } from '../components/status-badge';
import { duration, Time } from '../components/time';
import { api, data, type AtriumSchema } from '../lib/api';
import { ShareButton } from '../share/share-button';

/** The build as the API answers it (the generated type names only some of its fields). */
type Build = AtriumSchema<'Build'> & {
  finishedAt?: string | null;
  meta?: { origin?: string };
  options?: { useCache?: boolean; betaPackages?: boolean };
};
const LIVE = ['READY', 'RUNNING'];
const POLL_MS = 3_000;

/** `/actors/builds/:buildId`: a build's status and log. */
export default function BuildPage() {
  const { buildId = '' } = useParams();
  const build = useQuery({
    queryKey: ['build', buildId],
    queryFn: async (): Promise<Build> =>
      data(api.GET('/v2/actor-builds/{buildId}', { params: { path: { buildId } } })),
    refetchInterval: (query) =>
      query.state.data && LIVE.includes(query.state.data.status) ? POLL_MS : false,
  });
  return (
    <QueryState query={build} what="build">
      {(b) => <BuildView build={b} />}
    </QueryState>
  );
}

function BuildView({ build }: { build: Build }) {
  const live = LIVE.includes(build.status);
  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Title order={1}>Build {build.buildNumber ?? build.id}</Title>
          <Group gap="xs">
            <StatusBadge status={build.status} />
            <Text>
              of the Actor <ActorLink actorId={build.actId} />
            </Text>
          </Group>
        </Stack>
        <ShareButton
          collection="actor-builds"
          id={build.id}
          name={`Build ${build.buildNumber ?? build.id}`}
        />
      </Group>
      <Title order={2}>Details</Title>
      <DataList labelWidth="10rem">
        <DataList.Item>
          <DataList.ItemLabel>Build ID</DataList.ItemLabel>
          <DataList.ItemValue>{build.id}</DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Started</DataList.ItemLabel>
          <DataList.ItemValue>
            <Time value={build.startedAt} />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Finished</DataList.ItemLabel>
          <DataList.ItemValue>
            <Time value={build.finishedAt} fallback={live ? 'Not yet' : '—'} />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Duration</DataList.ItemLabel>
          <DataList.ItemValue>{duration(build.startedAt, build.finishedAt)}</DataList.ItemValue>
        </DataList.Item>
        {build.meta?.origin && (
          <DataList.Item>
            <DataList.ItemLabel>Origin</DataList.ItemLabel>
            <DataList.ItemValue>{build.meta.origin}</DataList.ItemValue>
          </DataList.Item>
        )}
      </DataList>
      <Title order={2}>Log</Title>
      <LogView path={`/v2/actor-builds/${build.id}/log`} live={live} label="Build log" />
    </Stack>
  );
}
