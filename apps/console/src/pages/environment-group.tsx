import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function EnvironmentGroupPage() {
  return <Title order={1}>EnvironmentGroup</Title>;
}
