import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function RequestQueuePage() {
  return <Title order={1}>RequestQueue</Title>;
}
