import { Badge } from '@mantine/core';

/** Colours of Apify's job statuses (runs and builds) and of issue statuses. */
const COLORS: Record<string, string> = {
  READY: 'gray',
  RUNNING: 'blue',
  SUCCEEDED: 'green',
  FAILED: 'red',
  'TIMED-OUT': 'orange',
  TIMING_OUT: 'orange',
  ABORTED: 'gray',
  ABORTING: 'gray',
  OPEN: 'green',
  CLOSED: 'gray',
};

/** A status as a badge; the text is the status itself, so colour is never the only cue. */
export function StatusBadge({ status }: { status: string }) {
  // Filled badges keep white text on a dark shade: readable (contrast) on every colour.
  return (
    <Badge color={`${COLORS[status] ?? 'gray'}.9`} variant="filled" data-testid="status">
      {status}
    </Badge>
  );
}
