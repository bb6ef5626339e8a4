import {
  Alert,
  Anchor,
  Button,
  DataList,
  Group,
  Paper,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { ActorLink } from '../components/actor-link';
import { ErrorAlert, Loading, QueryState } from '../components/page-state';
import { Time } from '../components/time';
import { api, data, type AtriumSchema } from '../lib/api';
import { useAllowed } from '../lib/allowed';
import { errorMessage, useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';
import { ShareButton } from '../share/share-button';

type Schedule = AtriumSchema<'Schedule'>;
/** A schedule's action as the API answers it (the generated type leaves it open). */
type Action =
  | { id: string; type: 'RUN_ACTOR'; actorId: string; runInput?: { body: string; contentType: string } }
  | { id: string; type: 'RUN_ACTOR_TASK'; actorTaskId: string; input?: unknown };

/** `/schedules/:scheduleId`: when it runs what; writers switch it on and off and change its timing. */
export default function SchedulePage() {
  const { scheduleId = '' } = useParams();
  const schedule = useQuery({
    queryKey: ['schedule', scheduleId],
    queryFn: () => data(api.GET('/v2/schedules/{scheduleId}', { params: { path: { scheduleId } } })),
  });
  return (
    <QueryState query={schedule} what="schedule">
      {(s) => <ScheduleView schedule={s} />}
    </QueryState>
  );
}

function ScheduleView({ schedule }: { schedule: Schedule }) {
  const queryClient = useQueryClient();
  const allowed = useAllowed(schedule.id, ['WRITE']);
  const toggle = useMutation({
    mutationFn: (isEnabled: boolean) =>
      data(
        api.PUT('/v2/schedules/{scheduleId}', {
          params: { path: { scheduleId: schedule.id } },
          body: { isEnabled },
        }),
      ),
    onSuccess: (updated) => queryClient.setQueryData(['schedule', schedule.id], updated),
  });
  const actions = schedule.actions as unknown as Action[];
  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Title order={1}>{schedule.title || schedule.name}</Title>
          <Text ff="monospace">{schedule.name}</Text>
        </Stack>
        <ShareButton collection="schedules" id={schedule.id} name={schedule.name} />
      </Group>
      <Switch
        label="Enabled"
        checked={schedule.isEnabled}
        disabled={!allowed?.WRITE || toggle.isPending}
        onChange={(e) => toggle.mutate(e.currentTarget.checked)}
        description={allowed?.WRITE ? undefined : 'Only those who may change the schedule can switch it.'}
      />
      {toggle.isError && (
        <Alert color="red" role="alert" title="The schedule was not changed">
          {errorMessage(toggle.error)}
        </Alert>
      )}
      {schedule.description && <Text>{schedule.description}</Text>}
      <DataList labelWidth="10rem">
        <DataList.Item>
          <DataList.ItemLabel>Cron expression</DataList.ItemLabel>
          <DataList.ItemValue ff="monospace">{schedule.cronExpression}</DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Time zone</DataList.ItemLabel>
          <DataList.ItemValue>{schedule.timezone}</DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Exclusive</DataList.ItemLabel>
          <DataList.ItemValue>
            {schedule.isExclusive ? 'Yes: skips a run while the last is running' : 'No'}
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Last run</DataList.ItemLabel>
          <DataList.ItemValue>
            <Time value={schedule.lastRunAt} fallback="Never" />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Next run</DataList.ItemLabel>
          <DataList.ItemValue>
            <Time value={schedule.nextRunAt} fallback="Not planned (the schedule is disabled)" />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Modified</DataList.ItemLabel>
          <DataList.ItemValue>
            <Time value={schedule.modifiedAt} />
          </DataList.ItemValue>
        </DataList.Item>
      </DataList>
      {allowed?.WRITE && <TimingForm schedule={schedule} />}

      <Title order={2}>Actions</Title>
      {actions.length === 0 ? (
        <Text>This schedule runs nothing yet.</Text>
      ) : (
        <Table aria-label="Actions" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Runs</Table.Th>
              <Table.Th>Which</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {actions.map((action) => (
              <Table.Tr key={action.id}>
                <Table.Td>{action.type === 'RUN_ACTOR' ? 'Actor' : 'Task'}</Table.Td>
                <Table.Td>
                  {action.type === 'RUN_ACTOR' ? (
                    <ActorLink actorId={action.actorId} />
                  ) : (
                    <Anchor component={Link} to={paths.task(action.actorTaskId)}>
                      {action.actorTaskId}
                    </Anchor>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}

      <Title order={2}>Log</Title>
      <ScheduleLog scheduleId={schedule.id} />
    </Stack>
  );
}

/** When the schedule fires: its cron expression and time zone, as the API checks them. */
function TimingForm({ schedule }: { schedule: Schedule }) {
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { cronExpression: schedule.cronExpression, timezone: schedule.timezone },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) =>
      data(
        api.PUT('/v2/schedules/{scheduleId}', {
          params: { path: { scheduleId: schedule.id } },
          body: values,
        }),
      ),
    (updated) => {
      queryClient.setQueryData(['schedule', schedule.id], updated);
      form.resetDirty();
    },
  );
  return (
    <Paper withBorder p="md" component="form" onSubmit={onSubmit} noValidate aria-labelledby="timing-heading">
      <Stack>
        <Title order={2} size="h4" id="timing-heading">
          Change the timing
        </Title>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <Group align="flex-start" grow>
          <TextInput
            label="Cron expression"
            description="e.g. 0 8 * * 1-5 (at 8:00 on weekdays) or @daily"
            {...form.getInputProps('cronExpression')}
          />
          <TextInput
            label="Time zone"
            description="An IANA name, e.g. Europe/Prague"
            {...form.getInputProps('timezone')}
          />
        </Group>
        <Group>
          <Button type="submit" loading={pending} disabled={!form.isDirty()}>
            Save timing
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

/** What the schedule has started (`GET /v2/schedules/:id/log`). */
function ScheduleLog({ scheduleId }: { scheduleId: string }) {
  const log = useQuery({
    queryKey: ['schedule-log', scheduleId],
    queryFn: async () =>
      (await data(
        api.GET('/v2/schedules/{scheduleId}/log', { params: { path: { scheduleId } } }),
      )) as unknown as {
        createdAt?: string;
        message?: string;
        level?: string;
      }[],
  });
  if (log.isPending) return <Loading label="Loading the log…" />;
  if (log.isError) return <ErrorAlert error={log.error} title="The log could not be read" />;
  if (log.data.length === 0) return <Text>The schedule has not run anything yet.</Text>;
  return (
    <Table aria-label="Schedule log" striped>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>When</Table.Th>
          <Table.Th>What</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {log.data.map((entry, i) => (
          <Table.Tr key={i}>
            <Table.Td>
              <Time value={entry.createdAt} />
            </Table.Td>
            <Table.Td>{entry.message ?? JSON.stringify(entry)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
