import { Alert, Button, Code, Group, Pagination, Stack, Table, Text, Title } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useParams, useSearchParams } from 'react-router';
import { QueryState } from '../components/page-state';
import { cellText, StorageHeader, type StorageBase } from '../components/storage-header';
import { api, data, rawFetch } from '../lib/api';
import { downloadWithSession } from '../lib/download';
import { errorMessage } from '../lib/forms';

interface Dataset extends StorageBase {
  itemCount: number;
  cleanItemCount: number;
  itemsPublicUrl?: string;
}

const PAGE_SIZE = 20;
const FORMATS = [
  { format: 'json', label: 'JSON' },
  { format: 'csv', label: 'CSV' },
  { format: 'xlsx', label: 'Excel (XLSX)' },
  { format: 'jsonl', label: 'JSON lines' },
  { format: 'xml', label: 'XML' },
  { format: 'html', label: 'HTML' },
  { format: 'rss', label: 'RSS' },
] as const;

/** The columns of a page of items: every top-level key, in the order first seen. */
function columnsOf(items: Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const item of items) for (const key of Object.keys(item)) seen.add(key);
  return [...seen];
}

function Cell({ value }: { value: unknown }) {
  if (value !== null && typeof value === 'object') {
    return (
      <Code block style={{ maxWidth: 360, maxHeight: 160, overflow: 'auto', whiteSpace: 'pre-wrap' }}>
        {JSON.stringify(value, null, 2)}
      </Code>
    );
  }
  return <>{cellText(value)}</>;
}

function Items({ dataset }: { dataset: Dataset }) {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get('page')) || 1);
  const items = useQuery({
    queryKey: ['datasets', dataset.id, 'items', page],
    placeholderData: keepPreviousData,
    queryFn: async () => {
      const response = await rawFetch(
        `/v2/datasets/${dataset.id}/items?format=json&offset=${(page - 1) * PAGE_SIZE}&limit=${PAGE_SIZE}`,
      );
      const total = Number(response.headers.get('x-apify-pagination-total') ?? dataset.itemCount);
      return { total, items: (await response.json()) as Record<string, unknown>[] };
    },
  });
  if (items.isPending) return <Text>Loading items…</Text>;
  if (items.isError) return <Alert color="red">{errorMessage(items.error)}</Alert>;
  const { total, items: rows } = items.data;
  const columns = columnsOf(rows);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (total === 0) return <Text>This dataset has no items yet.</Text>;
  return (
    <Stack gap="sm">
      <Text size="sm">
        Items {Math.min(total, (page - 1) * PAGE_SIZE + 1)}–{Math.min(total, (page - 1) * PAGE_SIZE + rows.length)} of {total}
      </Text>
      <Table.ScrollContainer minWidth={Math.max(500, columns.length * 140)}>
        <Table striped withTableBorder aria-label="Dataset items" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">#</Table.Th>
              {columns.map((c) => (
                <Table.Th scope="col" key={c}>
                  {c}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((item, i) => (
              <Table.Tr key={(page - 1) * PAGE_SIZE + i}>
                <Table.Td>{(page - 1) * PAGE_SIZE + i + 1}</Table.Td>
                {columns.map((c) => (
                  <Table.Td key={c}>
                    <Cell value={item[c]} />
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {pages > 1 && (
        <Pagination
          total={pages}
          value={page}
          onChange={(next) => setParams((p) => (p.set('page', String(next)), p))}
          getItemProps={(n) => ({ 'aria-label': `Page ${n}` })}
          getControlProps={(control) => ({ 'aria-label': `${control[0].toUpperCase()}${control.slice(1)} page` })}
        />
      )}
    </Stack>
  );
}

function Export({ dataset }: { dataset: Dataset }) {
  const download = useMutation({
    mutationFn: (format: string) =>
      downloadWithSession(`/v2/datasets/${dataset.id}/items?format=${format}`, `dataset_${dataset.name ?? dataset.id}.${format}`),
  });
  return (
    <Stack gap="xs">
      <Title order={2} size="h3">
        Export
      </Title>
      <Group gap="xs">
        {FORMATS.map(({ format, label }) => (
          <Button
            key={format}
            variant="default"
            size="sm"
            loading={download.isPending && download.variables === format}
            onClick={() => download.mutate(format)}
            aria-label={`Export items as ${label}`}
          >
            {label}
          </Button>
        ))}
      </Group>
      {download.isError && (
        <Alert color="red" role="alert">
          {errorMessage(download.error)}
        </Alert>
      )}
    </Stack>
  );
}

/** A dataset (its `consoleUrl`): facts, Share, items as a paged table, exports in every format. */
export default function DatasetPage() {
  const { datasetId = '' } = useParams();
  const dataset = useQuery({
    queryKey: ['datasets', datasetId],
    queryFn: async () => (await data(api.GET('/v2/datasets/{datasetId}', { params: { path: { datasetId } } }))) as unknown as Dataset,
  });
  return (
    <QueryState query={dataset} what="dataset">
      {(d) => (
        <Stack gap="lg">
          <StorageHeader kind="Dataset" collection="datasets" storage={d} facts={[['Items', String(d.itemCount)]]} />
          <Export dataset={d} />
          <Stack gap="xs">
            <Title order={2} size="h3">
              Items
            </Title>
            <Items dataset={d} />
          </Stack>
        </Stack>
      )}
    </QueryState>
  );
}
