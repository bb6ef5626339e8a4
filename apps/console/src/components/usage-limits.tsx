import { Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, data } from '../lib/api';
import { useSession } from '../lib/session';
import { QueryState } from './page-state';
import { RESOURCE_TYPES } from './token-scope';

interface Figures {
  resources: Record<string, number>;
  storageBytes: number;
  runTimeSecs: number;
}
interface Usage extends Figures {
  accountId: string;
  limits: Figures;
  byUser: (Figures & { userId: string })[];
}

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function duration(secs: number): string {
  if (secs < 60) return `${secs} s`;
  if (secs < 3600) return `${(secs / 60).toFixed(1)} min`;
  return `${(secs / 3600).toFixed(1)} h`;
}

function UsageRow({
  label,
  used,
  limit,
  format = String,
}: {
  label: string;
  used: number;
  limit: number;
  format?: (n: number) => string;
}) {
  const percent = limit > 0 ? Math.min(100, (used / limit) * 100) : 0;
  return (
    <Table.Tr>
      <Table.Th scope="row">{label}</Table.Th>
      <Table.Td>{format(used)}</Table.Td>
      <Table.Td>{format(limit)}</Table.Td>
      <Table.Td w={220}>
        <Progress
          value={percent}
          color={percent >= 90 ? 'red' : percent >= 70 ? 'yellow' : 'blue'}
          aria-label={`${label}: ${Math.round(percent)}% of the limit`}
        />
      </Table.Td>
    </Table.Tr>
  );
}

/** The account's usage against its limits (the organization's when acting as one). */
export function UsageLimits() {
  const { accountId } = useSession();
  const usage = useQuery({
    queryKey: ['usage', accountId ?? 'me'],
    queryFn: async () => (await data(api.GET('/v2/users/me/usage'))) as unknown as Usage,
  });
  return (
    <Stack>
      <Title order={2}>Usage and limits</Title>
      <QueryState query={usage} what="usage">
        {(u) => (
          <>
            <Table aria-label="Usage and limits" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Meter</Table.Th>
                  <Table.Th>Used</Table.Th>
                  <Table.Th>Limit</Table.Th>
                  <Table.Th>Share of the limit</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                <UsageRow
                  label="Storage"
                  used={u.storageBytes}
                  limit={u.limits.storageBytes}
                  format={bytes}
                />
                <UsageRow
                  label="Run time"
                  used={u.runTimeSecs}
                  limit={u.limits.runTimeSecs}
                  format={duration}
                />
                {RESOURCE_TYPES.map((t) => (
                  <UsageRow
                    key={t.key}
                    label={`${t.label}s`}
                    used={u.resources[t.key] ?? 0}
                    limit={u.limits.resources[t.key] ?? 0}
                  />
                ))}
              </Table.Tbody>
            </Table>
            <Text size="sm">
              Each resource and the bytes stored in it count for the user who created it; run time for the
              user who started the run.
            </Text>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
