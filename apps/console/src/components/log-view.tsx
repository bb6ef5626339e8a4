import { Button, Code, Group, Switch, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { rawFetch } from '../lib/api';
import { ErrorAlert, Loading } from './page-state';

const FOLLOW_EVERY_MS = 2_000;

/**
 * A run's or build's log (`GET …/log`, plain text). While the job is live it can be followed:
 * re-read every 2 s and kept scrolled to its end.
 */
export function LogView({ path, live, label }: { path: string; live: boolean; label: string }) {
  const [follow, setFollow] = useState(live);
  const following = follow && live;
  const log = useQuery({
    queryKey: ['log', path],
    queryFn: async () => (await rawFetch(path)).text(),
    refetchInterval: following ? FOLLOW_EVERY_MS : false,
  });
  const box = useRef<HTMLElement>(null);
  useEffect(() => {
    if (following && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [following, log.data]);

  return (
    <>
      <Group mb="xs">
        <Button
          variant="default"
          size="xs"
          onClick={() => void log.refetch()}
          loading={log.isFetching && !following}
        >
          Refresh log
        </Button>
        {live && (
          <Switch
            label="Follow the log"
            checked={follow}
            onChange={(e) => setFollow(e.currentTarget.checked)}
          />
        )}
      </Group>
      {log.isPending ? (
        <Loading label="Loading the log…" />
      ) : log.isError ? (
        <ErrorAlert error={log.error} title="The log could not be read" />
      ) : log.data ? (
        <Code
          block
          ref={box}
          role="log"
          aria-label={label}
          tabIndex={0}
          mah={480}
          style={{ overflow: 'auto', whiteSpace: 'pre-wrap' }}
        >
          {log.data}
        </Code>
      ) : (
        <Text>The log is empty.</Text>
      )}
    </>
  );
}
