import { Alert, Button, Code, DataList, Group, JsonInput, Stack, Text, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useParams } from 'react-router';
import { ActorLink } from '../components/actor-link';
import { QueryState } from '../components/page-state';
import { RunsTable } from '../components/runs-table';
import { Time } from '../components/time';
import { api, call, data, type AtriumSchema } from '../lib/api';
import { useAllowed } from '../lib/allowed';
import { errorMessage, useApiForm } from '../lib/forms';
import { jsonObjectProblem, prettyJson } from '../lib/json';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { ShareButton } from '../share/share-button';

type Task = AtriumSchema<'ActorTask'>;

/** `/actors/tasks/:taskId`: a task's saved input (editable by writers), its runs, Start and Share. */
export default function TaskPage() {
  const { taskId = '' } = useParams();
  const task = useQuery({
    queryKey: ['actor-task', taskId],
    queryFn: () =>
      data(api.GET('/v2/actor-tasks/{actorTaskId}', { params: { path: { actorTaskId: taskId } } })),
  });
  return (
    <QueryState query={task} what="task">
      {(t) => <TaskView task={t} />}
    </QueryState>
  );
}

function TaskView({ task }: { task: Task }) {
  const { user } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const onTask = useAllowed(task.id, ['WRITE']);
  // Starting a task needs READ on it (the page shows it) and RUN on its Actor.
  const onActor = useAllowed(task.actId, ['RUN']);
  const start = useMutation({
    mutationFn: () =>
      data(api.POST('/v2/actor-tasks/{actorTaskId}/runs', { params: { path: { actorTaskId: task.id } } })),
    onSuccess: (run) => {
      void queryClient.invalidateQueries({ queryKey: ['runs'] });
      void navigate(paths.run(run.id));
    },
  });
  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Title order={1}>{task.title || task.name}</Title>
          <Text>
            Task{' '}
            <Text span ff="monospace">
              {task.username ?? task.userId}/{task.name}
            </Text>{' '}
            of the Actor <ActorLink actorId={task.actId} />
          </Text>
        </Stack>
        <Group>
          {user && onActor?.RUN && (
            <Button loading={start.isPending} onClick={() => start.mutate()}>
              Start
            </Button>
          )}
          <ShareButton collection="actor-tasks" id={task.id} name={task.name} />
        </Group>
      </Group>
      {start.isError && (
        <Alert color="red" role="alert" title="The task was not started">
          {errorMessage(start.error)}
        </Alert>
      )}
      {task.description && <Text>{task.description}</Text>}
      <DataList labelWidth="10rem">
        <DataList.Item>
          <DataList.ItemLabel>Created</DataList.ItemLabel>
          <DataList.ItemValue>
            <Time value={task.createdAt} />
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>Modified</DataList.ItemLabel>
          <DataList.ItemValue>
            <Time value={task.modifiedAt} />
          </DataList.ItemValue>
        </DataList.Item>
      </DataList>

      <Title order={2}>Input</Title>
      {onTask?.WRITE ? (
        <InputEditor task={task} />
      ) : (
        <Code block role="region" aria-label="Input" tabIndex={0} mah={360} style={{ overflow: 'auto' }}>
          {prettyJson(task.input)}
        </Code>
      )}

      <Title order={2}>Runs</Title>
      {user ? <RunsTable taskId={task.id} /> : <Text>Sign in to see your runs of this task.</Text>}
    </Stack>
  );
}

/** The task's input, replaced as a whole (`PUT /v2/actor-tasks/:id/input`). */
function InputEditor({ task }: { task: Task }) {
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { input: prettyJson(task.input) },
    validate: { input: jsonObjectProblem },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) =>
      call(
        api.PUT('/v2/actor-tasks/{actorTaskId}/input', {
          params: { path: { actorTaskId: task.id } },
          body: JSON.parse(values.input) as Record<string, unknown>,
        }),
      ),
    (saved) => {
      form.resetDirty({ input: prettyJson(saved) });
      void queryClient.invalidateQueries({ queryKey: ['actor-task', task.id] });
    },
  );
  return (
    <form onSubmit={onSubmit} noValidate>
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <JsonInput
          validationError="Must be valid JSON"
          label="Input (JSON)"
          autosize
          minRows={6}
          maxRows={24}
          formatOnBlur
          {...form.getInputProps('input')}
        />
        <Group>
          <Button type="submit" loading={pending} disabled={!form.isDirty()}>
            Save input
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
