import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function SchedulePage() {
  return <Title order={1}>Schedule</Title>;
}
