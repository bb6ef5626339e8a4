import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function EnvironmentPage() {
  return <Title order={1}>Environment</Title>;
}
