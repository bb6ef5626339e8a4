import { Anchor, Stack, Table, Text } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, data } from '../lib/api';
import { pageCount, usePageParam } from '../lib/paging';
import { paths } from '../lib/paths';
import { QueryState } from './page-state';
import { Pager } from './pager';
import { StatusBadge } from './status-badge';
import { duration, Time } from './time';

const PER_PAGE = 20;

/** The caller's runs of an Actor or a task, newest first, paged (`?runsPage=`). */
export function RunsTable({ actorId, taskId }: { actorId?: string; taskId?: string }) {
  const [page, setPage] = usePageParam('runsPage');
  const query = { offset: (page - 1) * PER_PAGE, limit: PER_PAGE, desc: '1' as const };
  const runs = useQuery({
    queryKey: ['runs', actorId ?? null, taskId ?? null, page],
    placeholderData: keepPreviousData,
    queryFn: () =>
      taskId
        ? data(
            api.GET('/v2/actor-tasks/{actorTaskId}/runs', {
              params: { path: { actorTaskId: taskId }, query },
            }),
          )
        : data(api.GET('/v2/acts/{actorId}/runs', { params: { path: { actorId: actorId! }, query } })),
  });
  return (
    <QueryState query={runs} what="list of runs">
      {(list) =>
        list.items.length === 0 && page === 1 ? (
          <Text>You have no runs of this {taskId ? 'task' : 'Actor'} yet.</Text>
        ) : (
          <Stack>
            <Table aria-label="Runs" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Run</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Started</Table.Th>
                  <Table.Th>Duration</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.items.map((run) => (
                  <Table.Tr key={run.id}>
                    <Table.Td>
                      <Anchor component={Link} to={paths.run(run.id)} ff="monospace">
                        {run.id}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={run.status} />
                    </Table.Td>
                    <Table.Td>
                      <Time value={run.startedAt} />
                    </Table.Td>
                    <Table.Td>{duration(run.startedAt, run.finishedAt)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            <Pager
              total={pageCount(list.total, PER_PAGE)}
              value={page}
              onChange={setPage}
              label="Pages of runs"
            />
          </Stack>
        )
      }
    </QueryState>
  );
}
