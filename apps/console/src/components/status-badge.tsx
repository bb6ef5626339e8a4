import { Badge } from '@mantine/core';

/** A dark orange: white text on Mantine's orange 9 has 4.3:1, under WCAG AA's 4.5:1. */
const ORANGE = '#a34100';

/** Colours (white text on them at least 4.5:1) of Apify's job statuses (runs and builds) and of issue statuses. */
const COLORS: Record<string, string> = {
  READY: 'gray.9',
  RUNNING: 'blue.9',
  SUCCEEDED: 'teal.9',
  FAILED: 'red.9',
  'TIMED-OUT': ORANGE,
  'TIMING-OUT': ORANGE,
  ABORTED: 'gray.9',
  ABORTING: 'gray.9',
  OPEN: 'teal.9',
  CLOSED: 'gray.9',
};

/** A status as a badge; the text is the status itself, so colour is never the only cue. */
export function StatusBadge({ status }: { status: string }) {
  // Filled badges keep white text on a dark shade: readable (contrast) on every colour.
  return (
    <Badge color={COLORS[status] ?? 'gray.9'} variant="filled" data-testid="status">
      {status}
    </Badge>
  );
}
