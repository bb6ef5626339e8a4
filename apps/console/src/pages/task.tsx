import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function TaskPage() {
  return <Title order={1}>Task</Title>;
}
