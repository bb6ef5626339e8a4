import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  JsonInput,
  Modal,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDisclosure } from '@mantine/hooks';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { ActorIssues } from '../components/actor-issues';
import { QueryState } from '../components/page-state';
import { Pager } from '../components/pager';
import { RunsTable } from '../components/runs-table';
import { StatusBadge } from '../components/status-badge';
import { Time } from '../components/time';
import { api, call, data, type AtriumSchema } from '../lib/api';
import { useAllowed } from '../lib/allowed';
import { useApiForm } from '../lib/forms';
import { jsonObjectProblem, prettyJson } from '../lib/json';
import { pageCount, usePageParam, useSearchParam } from '../lib/paging';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { ShareButton } from '../share/share-button';

type Actor = AtriumSchema<'Actor'>;
const TABS = ['runs', 'builds', 'tasks', 'issues'] as const;
const PER_PAGE = 20;

/** `/actors/:actorId` (an id or `username~name`): the Actor, its runs, builds, tasks and issues. */
export default function ActorPage() {
  const { actorId = '' } = useParams();
  const actor = useQuery({
    queryKey: ['actor', actorId],
    queryFn: () => data(api.GET('/v2/acts/{actorId}', { params: { path: { actorId } } })),
  });
  return (
    <QueryState query={actor} what="Actor">
      {(a) => <ActorView actor={a} />}
    </QueryState>
  );
}

function ActorView({ actor }: { actor: Actor }) {
  const { user } = useSession();
  const allowed = useAllowed(actor.id, ['RUN']);
  const [tab, setTab] = useSearchParam('tab', 'runs');
  const active = (TABS as readonly string[]).includes(tab) ? tab : 'runs';
  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Title order={1}>{actor.title || actor.name}</Title>
          <Text ff="monospace">
            {actor.username ?? actor.userId}/{actor.name}
          </Text>
          <Group gap="xs">
            <Badge color={actor.isPublic ? 'teal.9' : 'gray.9'} variant="filled">
              {actor.isPublic ? 'Public' : 'Private'}
            </Badge>
            {actor.isDeprecated && (
              <Badge color="#a34100" variant="filled">
                Deprecated
              </Badge>
            )}
          </Group>
        </Stack>
        <Group>
          {allowed?.RUN && <StartActor actor={actor} />}
          <ShareButton collection="acts" id={actor.id} name={actor.name} />
        </Group>
      </Group>
      {actor.description ? <Text>{actor.description}</Text> : <Text fs="italic">No description.</Text>}
      <Text size="sm">
        Owner: {actor.username ?? actor.userId} · Created <Time value={actor.createdAt} /> · Modified{' '}
        <Time value={actor.modifiedAt} />
      </Text>
      <Tabs value={active} onChange={(value) => setTab(value ?? 'runs')} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="runs">Runs</Tabs.Tab>
          <Tabs.Tab value="builds">Builds</Tabs.Tab>
          <Tabs.Tab value="tasks">Tasks</Tabs.Tab>
          <Tabs.Tab value="issues">Issues</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="runs" pt="md">
          <Title order={2} mb="sm">
            Your runs
          </Title>
          {user ? <RunsTable actorId={actor.id} /> : <Text>Sign in to see your runs of this Actor.</Text>}
        </Tabs.Panel>
        <Tabs.Panel value="builds" pt="md">
          <Builds actorId={actor.id} />
        </Tabs.Panel>
        <Tabs.Panel value="tasks" pt="md">
          <Tasks actor={actor} />
        </Tabs.Panel>
        <Tabs.Panel value="issues" pt="md">
          <ActorIssues actorId={actor.id} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

/** The input an Actor suggests (its example run input), else an empty object. */
function exampleInput(actor: Actor): string {
  const example = actor.exampleRunInput;
  if (example && /json/i.test(example.contentType)) {
    try {
      return prettyJson(JSON.parse(example.body));
    } catch {
      /* not JSON after all: start from {} */
    }
  }
  return '{}';
}

/** "Start": the run's input as JSON, checked before it is sent; then the new run's page. */
function StartActor({ actor }: { actor: Actor }) {
  const [opened, { open, close }] = useDisclosure(false);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { input: exampleInput(actor) },
    validate: { input: jsonObjectProblem },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) =>
      data(
        api.POST('/v2/acts/{actorId}/runs', {
          params: { path: { actorId: actor.id } },
          body: JSON.parse(values.input) as unknown,
        }),
      ),
    (run) => {
      void queryClient.invalidateQueries({ queryKey: ['runs'] });
      close();
      void navigate(paths.run(run.id));
    },
  );
  return (
    <>
      <Button onClick={open}>Start</Button>
      <Modal
        opened={opened}
        onClose={close}
        title={`Start ${actor.name}`}
        size="lg"
        closeButtonProps={{ 'aria-label': 'Close' }}
      >
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
              description="Stored as the run's INPUT record"
              autosize
              minRows={6}
              maxRows={20}
              formatOnBlur
              {...form.getInputProps('input')}
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={pending}>
                Start run
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}

function Builds({ actorId }: { actorId: string }) {
  const [page, setPage] = usePageParam('buildsPage');
  const builds = useQuery({
    queryKey: ['builds', actorId, page],
    placeholderData: keepPreviousData,
    queryFn: () =>
      data(
        api.GET('/v2/acts/{actorId}/builds', {
          params: { path: { actorId }, query: { offset: (page - 1) * PER_PAGE, limit: PER_PAGE, desc: '1' } },
        }),
      ),
  });
  return (
    <>
      <Title order={2} mb="sm">
        Builds
      </Title>
      <QueryState query={builds} what="list of builds">
        {(list) =>
          list.items.length === 0 ? (
            <Text>This Actor has no builds yet.</Text>
          ) : (
            <Stack>
              <Table aria-label="Builds" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Build</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Started</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.items.map((build) => (
                    <Table.Tr key={build.id}>
                      <Table.Td>
                        <Anchor component={Link} to={paths.build(build.id)}>
                          {build.buildNumber ?? build.id}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <StatusBadge status={build.status} />
                      </Table.Td>
                      <Table.Td>
                        <Time value={build.startedAt} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Pager
                total={pageCount(list.total, PER_PAGE)}
                value={page}
                onChange={setPage}
                label="Pages of builds"
              />
            </Stack>
          )
        }
      </QueryState>
    </>
  );
}

/**
 * The caller's tasks of this Actor (own and shared with them). The API lists tasks across Actors,
 * so the page reads the caller's tasks and keeps this Actor's.
 */
function Tasks({ actor }: { actor: Actor }) {
  const { user } = useSession();
  const [page, setPage] = usePageParam('tasksPage');
  const tasks = useQuery({
    queryKey: ['actor-tasks', 'of-actor', actor.id],
    enabled: !!user,
    queryFn: async () => {
      const [owned, shared] = await Promise.all(
        (['ownedByMe', 'sharedWithMe'] as const).map((ownership) =>
          data(api.GET('/v2/actor-tasks', { params: { query: { ownership, limit: 1000 } } })),
        ),
      );
      return [...owned!.items, ...shared!.items].filter((task) => task.actId === actor.id);
    },
  });
  if (!user) return <Text>Sign in to see your tasks of this Actor.</Text>;
  return (
    <>
      <Group justify="space-between" mb="sm">
        <Title order={2}>Your tasks</Title>
        <CreateTask actor={actor} />
      </Group>
      <QueryState query={tasks} what="list of tasks">
        {(list) =>
          list.length === 0 ? (
            <Text>You have no tasks of this Actor.</Text>
          ) : (
            <Stack>
              <Table aria-label="Tasks" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Task</Table.Th>
                    <Table.Th>Owner</Table.Th>
                    <Table.Th>Modified</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.slice((page - 1) * PER_PAGE, page * PER_PAGE).map((task) => (
                    <Table.Tr key={task.id}>
                      <Table.Td>
                        <Anchor component={Link} to={paths.task(task.id)}>
                          {task.title || task.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{task.username ?? task.userId}</Table.Td>
                      <Table.Td>
                        <Time value={task.modifiedAt} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Pager
                total={pageCount(list.length, PER_PAGE)}
                value={page}
                onChange={setPage}
                label="Pages of tasks"
              />
            </Stack>
          )
        }
      </QueryState>
    </>
  );
}

/** A new task of this Actor: a name and a saved input. */
function CreateTask({ actor }: { actor: Actor }) {
  const [opened, { open, close }] = useDisclosure(false);
  const navigate = useNavigate();
  const form = useForm({
    initialValues: { name: '', input: exampleInput(actor) },
    validate: { input: jsonObjectProblem },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) =>
      call(
        api.POST('/v2/actor-tasks', {
          body: {
            actId: actor.id,
            name: values.name,
            input: JSON.parse(values.input) as Record<string, never>,
          },
        }),
      ) as Promise<{ data: { id: string } }>,
    (created) => void navigate(paths.task(created.data.id)),
  );
  return (
    <>
      <Button variant="light" onClick={open}>
        Create task
      </Button>
      <Modal
        opened={opened}
        onClose={close}
        title={`New task of ${actor.name}`}
        size="lg"
        closeButtonProps={{ 'aria-label': 'Close' }}
      >
        <form onSubmit={onSubmit} noValidate>
          <Stack>
            {formError && (
              <Alert color="red" role="alert">
                {formError}
              </Alert>
            )}
            <TextInput
              label="Name"
              description="Letters, digits and dashes"
              required
              {...form.getInputProps('name')}
            />
            <JsonInput
              validationError="Must be valid JSON"
              label="Input (JSON)"
              autosize
              minRows={6}
              maxRows={20}
              formatOnBlur
              {...form.getInputProps('input')}
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={pending}>
                Create task
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
