import {
  ActionIcon,
  Alert,
  Button,
  Group,
  Pagination,
  Stack,
  Table,
  TagsInput,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { ApiError, rawFetch } from '../lib/api';
import { errorMessage, useApiForm } from '../lib/forms';
import { ErrorAlert, Loading } from '../components/page-state';
import type { AppScope } from './scopes';

export type ContentKind =
  'inputs' | 'annotations' | 'concepts' | 'models' | 'workflows' | 'tasks' | 'collectors' | 'vocabs';

/** One item of any kind, as the API lists it (fields vary by kind). */
interface ContentItem {
  id: string;
  name?: string;
  description?: string | null;
  data?: { text: string | null; url: string | null };
  inputId?: string;
  conceptIds?: string[];
  modelIds?: string[];
  modelId?: string | null;
  versionCount?: number;
  createdAt: string;
}

interface Page<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

type FieldType = 'text' | 'textarea' | 'list';
interface Field {
  key: string;
  label: string;
  type: FieldType;
  required?: boolean;
  description?: string;
}

interface KindSpec {
  title: string;
  /** One item, for labels ("Add input", "Delete input …"). */
  one: string;
  get: AppScope;
  add: AppScope;
  delete: AppScope | null;
  fields: Field[];
  columns: { header: string; cell: (item: ContentItem) => string }[];
}

const name: Field = { key: 'name', label: 'Name', type: 'text', required: true };
const description: Field = { key: 'description', label: 'Description', type: 'textarea' };
const conceptIds = (label = 'Concepts'): Field => ({
  key: 'conceptIds',
  label,
  type: 'list',
  required: true,
  description: 'Concept ids of this app; press Enter after each',
});
const list = (values?: string[] | null) => (values?.length ? values.join(', ') : '—');
const nameColumn = { header: 'Name', cell: (i: ContentItem) => i.name ?? i.id };

/** What each kind holds, which scopes guard it, and what creating one asks for. */
export const KINDS: Record<ContentKind, KindSpec> = {
  inputs: {
    title: 'Inputs',
    one: 'input',
    get: 'Inputs:Get',
    add: 'Inputs:Add',
    delete: 'Inputs:Delete',
    fields: [
      { key: 'text', label: 'Text', type: 'textarea', description: 'Text or URL is required' },
      { key: 'url', label: 'URL', type: 'text' },
    ],
    columns: [
      { header: 'ID', cell: (i) => i.id },
      { header: 'Text or URL', cell: (i) => i.data?.text ?? i.data?.url ?? '—' },
      { header: 'Concepts', cell: (i) => list(i.conceptIds) },
    ],
  },
  annotations: {
    title: 'Annotations',
    one: 'annotation',
    get: 'Annotations:Get',
    add: 'Annotations:Add',
    delete: 'Annotations:Delete',
    fields: [{ key: 'inputId', label: 'Input ID', type: 'text', required: true }, conceptIds()],
    columns: [
      { header: 'ID', cell: (i) => i.id },
      { header: 'Input', cell: (i) => i.inputId ?? '—' },
      { header: 'Concepts', cell: (i) => list(i.conceptIds) },
    ],
  },
  concepts: {
    title: 'Concepts',
    one: 'concept',
    get: 'Concepts:Get',
    add: 'Concepts:Add',
    delete: null,
    fields: [
      { key: 'id', label: 'Concept ID', type: 'text', required: true, description: 'e.g. dog' },
      { key: 'name', label: 'Name', type: 'text' },
    ],
    columns: [
      { header: 'ID', cell: (i) => i.id },
      { header: 'Name', cell: (i) => i.name ?? '—' },
    ],
  },
  models: {
    title: 'Models',
    one: 'model',
    get: 'Models:Get',
    add: 'Models:Add',
    delete: 'Models:Delete',
    fields: [name, description, conceptIds()],
    columns: [
      nameColumn,
      { header: 'Concepts', cell: (i) => list(i.conceptIds) },
      { header: 'Versions', cell: (i) => String(i.versionCount ?? 0) },
    ],
  },
  workflows: {
    title: 'Workflows',
    one: 'workflow',
    get: 'Workflows:Get',
    add: 'Workflows:Add',
    delete: 'Workflows:Delete',
    fields: [
      name,
      description,
      { key: 'modelIds', label: 'Models', type: 'list', required: true, description: 'Model ids, in order' },
    ],
    columns: [nameColumn, { header: 'Models', cell: (i) => list(i.modelIds) }],
  },
  tasks: {
    title: 'Tasks',
    one: 'task',
    get: 'Tasks:Get',
    add: 'Tasks:Add',
    delete: 'Tasks:Delete',
    fields: [name, description, conceptIds('Concepts to label')],
    columns: [nameColumn, { header: 'Concepts', cell: (i) => list(i.conceptIds) }],
  },
  collectors: {
    title: 'Collectors',
    one: 'collector',
    get: 'Collectors:Get',
    add: 'Collectors:Add',
    delete: 'Collectors:Delete',
    fields: [name, description, { key: 'modelId', label: 'Screening model ID', type: 'text' }],
    columns: [nameColumn, { header: 'Model', cell: (i) => i.modelId ?? '—' }],
  },
  vocabs: {
    title: 'Vocabularies',
    one: 'vocabulary',
    get: 'Vocabs:Get',
    add: 'Vocabs:Add',
    delete: 'Vocabs:Delete',
    fields: [name, description, conceptIds()],
    columns: [nameColumn, { header: 'Concepts', cell: (i) => list(i.conceptIds) }],
  },
};

const PAGE_SIZE = 20;

/** Mantine's dimmed descriptions (3.3:1 on white) fail axe's contrast rule: gray 7 reads at 7:1. */
export const readableDescription = { description: { color: 'var(--mantine-color-gray-7)' } };

/** JSON from the API (`{ data }` unwrapped), for the content paths the typed client names one by one. */
async function json<T>(path: string, init?: { method: string; body?: unknown }): Promise<T> {
  const response = await rawFetch(path, {
    method: init?.method ?? 'GET',
    headers: init?.body === undefined ? undefined : { 'content-type': 'application/json' },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (response.status === 204) return undefined as T;
  return ((await response.json()) as { data: T }).data;
}

/** "Your access does not include …": a tab the caller's scopes do not open. */
export function NoAccess({ scope, what }: { scope: string; what: string }) {
  return (
    <Alert color="gray" title="Not included in your access">
      Your access does not include {scope}, so {what} are not shown to you. Ask the app&apos;s owner for it.
    </Alert>
  );
}

/** The body the API wants for a kind, from the form's values (empty optional fields left out). */
function bodyOf(kind: ContentKind, values: Record<string, string | string[]>): Record<string, unknown> {
  const given = Object.fromEntries(
    Object.entries(values).filter(([, v]) => (Array.isArray(v) ? v.length > 0 : v.trim() !== '')),
  );
  return kind === 'inputs' ? { data: given } : given;
}

function AddForm({ appId, kind }: { appId: string; kind: ContentKind }) {
  const spec = KINDS[kind];
  const queryClient = useQueryClient();
  const form = useForm<Record<string, string | string[]>>({
    initialValues: Object.fromEntries(spec.fields.map((f) => [f.key, f.type === 'list' ? [] : ''])),
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    async (values) => {
      try {
        return await json(`/v2/apps/${appId}/${kind}`, { method: 'POST', body: bodyOf(kind, values) });
      } catch (err) {
        // An input's fields sit under `data` in the body: its messages go next to the form's fields.
        if (kind === 'inputs' && err instanceof ApiError && /^Field "body\.data\b/.test(err.message)) {
          const field = /^Field "body\.data\.(\w+)"/.exec(err.message)?.[1] ?? 'text';
          throw new ApiError(
            err.status,
            err.type,
            err.message.replace(/^Field "body\.data(\.\w+)?"/, `Field "body.${field}"`),
          );
        }
        throw err;
      }
    },
    () => {
      form.reset();
      void queryClient.invalidateQueries({ queryKey: ['app-contents', appId, kind] });
    },
  );
  return (
    <form onSubmit={onSubmit} aria-label={`Add ${spec.one}`}>
      <Stack gap="xs">
        <Title order={3}>Add {spec.one}</Title>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        {spec.fields.map((field) => {
          const common = {
            label: field.label,
            description: field.description,
            withAsterisk: field.required,
            styles: readableDescription,
          };
          if (field.type === 'list')
            return <TagsInput key={field.key} {...common} {...form.getInputProps(field.key)} />;
          if (field.type === 'textarea')
            return (
              <Textarea key={field.key} {...common} autosize minRows={2} {...form.getInputProps(field.key)} />
            );
          return <TextInput key={field.key} {...common} {...form.getInputProps(field.key)} />;
        })}
        <Group>
          <Button type="submit" loading={pending}>
            Add {spec.one}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** One content tab: the list (paged, page in the URL), delete and add where the caller's scopes allow. */
export function ContentTab({
  appId,
  kind,
  holds,
}: {
  appId: string;
  kind: ContentKind;
  holds: (p: string) => boolean;
}) {
  const spec = KINDS[kind];
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get('page')) || 1);
  const queryClient = useQueryClient();
  const readable = holds(spec.get);
  const query = useQuery({
    queryKey: ['app-contents', appId, kind, page],
    queryFn: () =>
      json<Page<ContentItem>>(
        `/v2/apps/${appId}/${kind}?offset=${(page - 1) * PAGE_SIZE}&limit=${PAGE_SIZE}`,
      ),
    enabled: readable,
  });
  const remove = useMutation({
    mutationFn: (id: string) =>
      json(`/v2/apps/${appId}/${kind}/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['app-contents', appId, kind] }),
  });
  const canDelete = spec.delete !== null && holds(spec.delete);
  const label = spec.title.toLowerCase();

  return (
    <Stack>
      <Title order={2}>{spec.title}</Title>
      {!readable ? (
        <NoAccess scope={spec.get} what={`the app's ${label}`} />
      ) : query.isPending ? (
        <Loading />
      ) : query.isError ? (
        <ErrorAlert error={query.error} />
      ) : query.data.total === 0 ? (
        <Text>No {label} yet.</Text>
      ) : (
        <>
          {remove.isError && (
            <Alert color="red" role="alert">
              {errorMessage(remove.error)}
            </Alert>
          )}
          <Table striped aria-label={spec.title}>
            <Table.Thead>
              <Table.Tr>
                {spec.columns.map((c) => (
                  <Table.Th key={c.header}>{c.header}</Table.Th>
                ))}
                <Table.Th>Created</Table.Th>
                {canDelete && <Table.Th>Actions</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {query.data.items.map((item) => (
                <Table.Tr key={item.id}>
                  {spec.columns.map((c) => (
                    <Table.Td key={c.header}>{c.cell(item)}</Table.Td>
                  ))}
                  <Table.Td>{new Date(item.createdAt).toLocaleString()}</Table.Td>
                  {canDelete && (
                    <Table.Td>
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Delete ${spec.one} ${item.name ?? item.id}`}
                        loading={remove.isPending && remove.variables === item.id}
                        onClick={() => remove.mutate(item.id)}
                      >
                        <span aria-hidden>✕</span>
                      </ActionIcon>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {query.data.total > PAGE_SIZE && (
            <Pagination
              aria-label={`${spec.title} pages`}
              total={Math.ceil(query.data.total / PAGE_SIZE)}
              value={page}
              onChange={(p) =>
                setParams((prev) => {
                  const next = new URLSearchParams(prev);
                  next.set('page', String(p));
                  return next;
                })
              }
            />
          )}
        </>
      )}
      {holds(spec.add) ? (
        <AddForm appId={appId} kind={kind} />
      ) : (
        readable && (
          <Text size="sm">
            Your access does not include {spec.add}, so you cannot add {label}.
          </Text>
        )
      )}
    </Stack>
  );
}
