import { DataList, Group, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { ShareButton } from '../share/share-button';
import { GENERAL_ACCESS_WORDS, type GeneralAccess, type ShareableCollection } from '../share/share-model';
import { UserName } from './user-name';

/** What every storage answers with (datasets, key-value stores, request queues). */
export interface StorageBase {
  id: string;
  name: string | null;
  userId: string;
  createdAt: string;
  modifiedAt: string;
  generalAccess: GeneralAccess;
}

function dateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A storage page's heading (its name), Share button and facts: id, owner, dates, and `facts`. */
export function StorageHeader({
  kind,
  collection,
  storage,
  facts = [],
  actions,
}: {
  /** "Dataset", "Key-value store", "Request queue". */
  kind: string;
  collection: ShareableCollection;
  storage: StorageBase;
  facts?: [string, ReactNode][];
  actions?: ReactNode;
}) {
  const rows: [string, ReactNode][] = [
    ['ID', <Text span ff="monospace" inherit key="id">{storage.id}</Text>],
    ['Owner', <UserName userId={storage.userId} fw={400} key="owner" />],
    ...facts,
    ['General access', GENERAL_ACCESS_WORDS[storage.generalAccess]?.label ?? storage.generalAccess],
    ['Created', dateTime(storage.createdAt)],
    ['Modified', dateTime(storage.modifiedAt)],
  ];
  return (
    <Stack gap="sm">
      <Group justify="space-between" align="flex-start">
        <Stack gap={0}>
          <Text size="sm">{kind}</Text>
          <Title order={1}>{storage.name ?? `Unnamed ${kind.toLowerCase()}`}</Title>
        </Stack>
        <Group>
          {actions}
          <ShareButton collection={collection} id={storage.id} name={storage.name ?? undefined} />
        </Group>
      </Group>
      <DataList orientation="horizontal" labelWidth={140} aria-label={`${kind} details`}>
        {rows.map(([label, value]) => (
          <DataList.Item key={label}>
            <DataList.ItemLabel>{label}</DataList.ItemLabel>
            <DataList.ItemValue>{value}</DataList.ItemValue>
          </DataList.Item>
        ))}
      </DataList>
    </Stack>
  );
}

/** A JSON value for a table cell: text as is, anything else as compact JSON. */
export function cellText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
