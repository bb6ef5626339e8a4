import { Alert, Button, Code, Group, Image, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { QueryState } from '../components/page-state';
import { StorageHeader, type StorageBase } from '../components/storage-header';
import { api, data, rawFetch } from '../lib/api';
import { saveBlob } from '../lib/download';
import { errorMessage } from '../lib/forms';

interface KeyValueStore extends StorageBase {
  stats?: { recordCount: number; storageBytes: number };
  keysPublicUrl?: string;
}
interface KeysPage {
  items: { key: string; size: number }[];
  isTruncated: boolean;
  nextExclusiveStartKey?: string | null;
}

const PAGE_SIZE = 50;
/** Records larger than this are offered for download only. */
const PREVIEW_LIMIT = 2 * 1024 * 1024;

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const recordPath = (storeId: string, key: string) => `/v2/key-value-stores/${storeId}/records/${encodeURIComponent(key)}`;

type Preview =
  | { kind: 'json'; text: string; blob: Blob }
  | { kind: 'text'; text: string; blob: Blob }
  | { kind: 'image'; blob: Blob }
  | { kind: 'none'; blob: Blob; contentType: string };

async function readRecord(storeId: string, key: string): Promise<Preview> {
  const response = await rawFetch(recordPath(storeId, key));
  const contentType = (response.headers.get('content-type') ?? 'application/octet-stream').split(';')[0].trim();
  const blob = await response.blob();
  if (contentType.startsWith('image/')) return { kind: 'image', blob };
  if (/json$/.test(contentType)) {
    const text = await blob.text();
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2), blob };
    } catch {
      return { kind: 'text', text, blob };
    }
  }
  if (contentType.startsWith('text/') || /xml$|javascript$/.test(contentType)) return { kind: 'text', text: await blob.text(), blob };
  return { kind: 'none', blob, contentType };
}

/** An image record through an object URL, released when the preview goes. */
function BlobImage({ blob, alt }: { blob: Blob; alt: string }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const created = URL.createObjectURL(blob);
    setUrl(created);
    return () => URL.revokeObjectURL(created);
  }, [blob]);
  return url ? <Image src={url} alt={alt} maw={640} fit="contain" radius="sm" /> : null;
}

function RecordPreview({ storeId, recordKey, size }: { storeId: string; recordKey: string; size: number }) {
  const tooLarge = size > PREVIEW_LIMIT;
  const record = useQuery({
    queryKey: ['key-value-stores', storeId, 'records', recordKey],
    queryFn: () => readRecord(storeId, recordKey),
    enabled: !tooLarge,
  });
  const download = useMutation({
    mutationFn: async () => {
      const blob = record.data?.blob ?? (await (await rawFetch(recordPath(storeId, recordKey))).blob());
      saveBlob(blob, recordKey);
    },
  });
  return (
    <Stack gap="xs" aria-label={`Record ${recordKey}`} role="region">
      <Group justify="space-between">
        <Title order={3} size="h4">
          Record {recordKey}
        </Title>
        <Button variant="default" size="sm" loading={download.isPending} onClick={() => download.mutate()}>
          Download {recordKey}
        </Button>
      </Group>
      {download.isError && <Alert color="red">{errorMessage(download.error)}</Alert>}
      {tooLarge ? (
        <Text>This record is {bytes(size)}: too large to preview here; download it instead.</Text>
      ) : record.isPending ? (
        <Text>Loading the record…</Text>
      ) : record.isError ? (
        <Alert color="red">{errorMessage(record.error)}</Alert>
      ) : record.data.kind === 'image' ? (
        <BlobImage blob={record.data.blob} alt={`Image stored as ${recordKey}`} />
      ) : record.data.kind === 'none' ? (
        <Text>No preview for {record.data.contentType}; download it to open it.</Text>
      ) : (
        <Code block style={{ maxHeight: 480, overflow: 'auto', whiteSpace: 'pre-wrap' }} data-testid="record-preview">
          {record.data.text}
        </Code>
      )}
    </Stack>
  );
}

function Keys({ store }: { store: KeyValueStore }) {
  const [params, setParams] = useSearchParams();
  const after = params.get('after') ?? undefined;
  const selected = params.get('key') ?? undefined;
  const keys = useQuery({
    queryKey: ['key-value-stores', store.id, 'keys', after ?? ''],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      (await data(
        api.GET('/v2/key-value-stores/{storeId}/keys', {
          params: { path: { storeId: store.id }, query: { limit: PAGE_SIZE, exclusiveStartKey: after } },
        }),
      )) as unknown as KeysPage,
  });
  const update = (change: (p: URLSearchParams) => void) =>
    setParams((p) => {
      change(p);
      return p;
    });
  if (keys.isPending) return <Text>Loading keys…</Text>;
  if (keys.isError) return <Alert color="red">{errorMessage(keys.error)}</Alert>;
  const page = keys.data;
  const selectedItem = page.items.find((i) => i.key === selected);
  if (!page.items.length && !after) return <Text>This store has no records yet.</Text>;
  return (
    <Stack gap="md">
      <Table withTableBorder striped aria-label="Records" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Key</Table.Th>
            <Table.Th scope="col">Size</Table.Th>
            <Table.Th scope="col">Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {page.items.map((item) => (
            <Table.Tr key={item.key} aria-selected={item.key === selected}>
              <Table.Td ff="monospace">{item.key}</Table.Td>
              <Table.Td>{bytes(item.size)}</Table.Td>
              <Table.Td>
                <Button
                  size="compact-sm"
                  variant={item.key === selected ? 'light' : 'subtle'}
                  aria-pressed={item.key === selected}
                  onClick={() => update((p) => p.set('key', item.key))}
                >
                  Preview<VisuallyHidden component="span"> {item.key}</VisuallyHidden>
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group>
        <Button variant="default" size="sm" disabled={!after} onClick={() => update((p) => (p.delete('after'), p.delete('key')))}>
          First page
        </Button>
        <Button
          variant="default"
          size="sm"
          disabled={!page.isTruncated || !page.nextExclusiveStartKey}
          onClick={() =>
            update((p) => {
              p.set('after', page.nextExclusiveStartKey ?? '');
              p.delete('key');
            })
          }
        >
          Next page
        </Button>
      </Group>
      {selected && (
        <RecordPreview storeId={store.id} recordKey={selected} size={selectedItem?.size ?? 0} key={selected} />
      )}
    </Stack>
  );
}

/** A key-value store (its `consoleUrl`): facts, Share, keys paged, a record's preview and download. */
export default function KeyValueStorePage() {
  const { storeId = '' } = useParams();
  const store = useQuery({
    queryKey: ['key-value-stores', storeId],
    queryFn: async () =>
      (await data(api.GET('/v2/key-value-stores/{storeId}', { params: { path: { storeId } } }))) as unknown as KeyValueStore,
  });
  return (
    <QueryState query={store} what="key-value store">
      {(s) => (
        <Stack gap="lg">
          <StorageHeader
            kind="Key-value store"
            collection="key-value-stores"
            storage={s}
            facts={s.stats ? [['Records', String(s.stats.recordCount)], ['Size', bytes(s.stats.storageBytes)]] : []}
          />
          <Stack gap="xs">
            <Title order={2} size="h3">
              Records
            </Title>
            <Keys store={s} />
          </Stack>
        </Stack>
      )}
    </QueryState>
  );
}
