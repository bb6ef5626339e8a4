import {
  Alert,
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { QueryState } from '../components/page-state';
import { api, data } from '../lib/api';
import { useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';
import { ShareButton } from '../share/share-button';
import { ActionError, useAction } from '../teams/action';
import type { Environment, EnvironmentGroup } from '../teams/types';

type Action = 'start' | 'stop' | 'restart' | 'deploy' | 'configure' | 'ssh' | 'clone' | 'migrate';

interface ActionResult {
  action: Action;
  environment: Environment;
  clone?: Environment;
  session?: { host: string; port: number; user: string; expiresAt: string };
}

function runAction(envId: string, action: Action, body: Record<string, unknown> = {}): Promise<ActionResult> {
  return data(
    api.POST('/v2/environments/{envId}/actions/{action}', {
      params: { path: { envId, action } },
      body: body as never,
    }),
  ) as unknown as Promise<ActionResult>;
}

/** An environment (account collaboration): its state, group, deployments and the actions on it. */
export default function EnvironmentPage() {
  const { envId = '' } = useParams();
  const environment = useQuery({
    queryKey: ['environments', envId],
    queryFn: async () =>
      (await data(
        api.GET('/v2/environments/{envId}', { params: { path: { envId } } }),
      )) as unknown as Environment,
  });
  return (
    <QueryState query={environment} what="environment">
      {(env) => <EnvironmentView env={env} />}
    </QueryState>
  );
}

function EnvironmentView({ env }: { env: Environment }) {
  const queryClient = useQueryClient();
  const [result, setResult] = useState<ActionResult>();
  const group = useQuery({
    queryKey: ['environment-groups', env.groupId],
    queryFn: async () =>
      (await data(
        api.GET('/v2/environment-groups/{groupId}', { params: { path: { groupId: env.groupId! } } }),
      )) as unknown as EnvironmentGroup,
    enabled: !!env.groupId,
    retry: false,
  });
  const done = (answer: ActionResult) => {
    setResult(answer);
    queryClient.setQueryData(['environments', env.id], answer.environment);
    void queryClient.invalidateQueries({ queryKey: ['environments'] });
  };
  const simple = useAction((action: Action) => runAction(env.id, action).then(done), []);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>{env.name}</Title>
        <ShareButton collection="environments" id={env.id} name={env.name} />
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 4 }}>
        <div>
          <Text size="sm" fw={500}>
            Status
          </Text>
          <Badge
            variant="dot"
            color={env.status === 'RUNNING' ? 'green' : 'gray'}
            data-testid="environment-status"
          >
            {env.status}
          </Badge>
        </div>
        <div>
          <Text size="sm" fw={500}>
            Group
          </Text>
          <Text>
            {env.groupId ? (
              <Anchor component={Link} to={paths.environmentGroup(env.groupId)}>
                {group.data?.name ?? 'Open the group'}
              </Anchor>
            ) : (
              'None'
            )}
          </Text>
        </div>
        <div>
          <Text size="sm" fw={500}>
            Region
          </Text>
          <Text>{env.region}</Text>
        </div>
        <div>
          <Text size="sm" fw={500}>
            Modified
          </Text>
          <Text>{new Date(env.modifiedAt).toLocaleString()}</Text>
        </div>
      </SimpleGrid>
      <Paper withBorder p="md">
        <Stack>
          <Title order={2} size="h4">
            Actions
          </Title>
          <Text size="sm">Each action needs its permission; a refused one says which.</Text>
          <Group>
            <Button
              onClick={() => simple.mutate('start')}
              loading={simple.isPending && simple.variables === 'start'}
            >
              Start
            </Button>
            <Button onClick={() => simple.mutate('stop')} variant="light">
              Stop
            </Button>
            <Button onClick={() => simple.mutate('restart')} variant="light">
              Restart
            </Button>
            <Button onClick={() => simple.mutate('ssh')} variant="light">
              SSH
            </Button>
          </Group>
          <ActionError error={simple.error} />
          {result && (
            <Alert variant="default" role="status" title={`${result.action} done`}>
              {result.session ? (
                `SSH: ${result.session.user}@${result.session.host} -p ${result.session.port} (until ${new Date(result.session.expiresAt).toLocaleTimeString()})`
              ) : result.clone ? (
                <Anchor component={Link} to={paths.environment(result.clone.id)}>
                  Open the clone {result.clone.name}
                </Anchor>
              ) : (
                `The environment is ${result.environment.status.toLowerCase()}.`
              )}
            </Alert>
          )}
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <ActionForm
              envId={env.id}
              action="deploy"
              field="artifact"
              label="Artifact to deploy"
              submit="Deploy"
              onDone={done}
            />
            <ActionForm
              envId={env.id}
              action="clone"
              field="name"
              label="Name of the clone (optional)"
              submit="Clone"
              onDone={done}
            />
            <ActionForm
              envId={env.id}
              action="migrate"
              field="region"
              label="Region to migrate to"
              submit="Migrate"
              onDone={done}
            />
            <ActionForm
              envId={env.id}
              action="configure"
              field="config"
              label="Settings (JSON object)"
              submit="Configure"
              initial={JSON.stringify(env.config, null, 2)}
              onDone={done}
            />
          </SimpleGrid>
        </Stack>
      </Paper>
      <Title order={2} size="h4">
        Deployments
      </Title>
      {env.deployments.length === 0 ? (
        <Text>Nothing deployed yet.</Text>
      ) : (
        <Table aria-label="Deployments" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Artifact</Table.Th>
              <Table.Th>Deployed</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {env.deployments.map((deployment) => (
              <Table.Tr key={deployment.id}>
                <Table.Td>
                  <Code>{deployment.artifact}</Code>
                </Table.Td>
                <Table.Td>{new Date(deployment.deployedAt).toLocaleString()}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

/** An action that takes one value (deploy's artifact, clone's name, migrate's region, configure's settings). */
function ActionForm({
  envId,
  action,
  field,
  label,
  submit,
  initial = '',
  onDone,
}: {
  envId: string;
  action: Action;
  field: string;
  label: string;
  submit: string;
  initial?: string;
  onDone: (result: ActionResult) => void;
}) {
  const form = useForm<Record<string, string>>({
    initialValues: { [field]: initial },
    validate:
      field === 'config'
        ? { config: (value) => (jsonObject(value) ? null : 'must be a JSON object') }
        : undefined,
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values: Record<string, string>) => {
      const value = values[field].trim();
      if (field === 'config') return runAction(envId, action, { config: jsonObject(value) });
      return runAction(envId, action, value || field !== 'name' ? { [field]: value } : {});
    },
    onDone,
  );
  const Input = field === 'config' ? Textarea : TextInput;
  return (
    <Paper withBorder p="sm" component="form" onSubmit={onSubmit} noValidate aria-label={submit}>
      <Stack gap="xs">
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <Input
          label={label}
          autosize={field === 'config' ? true : undefined}
          minRows={field === 'config' ? 3 : undefined}
          {...form.getInputProps(field)}
        />
        <Group>
          <Button type="submit" variant="light" loading={pending}>
            {submit}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text.trim() || '{}');
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
