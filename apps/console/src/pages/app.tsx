import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function AppPage() {
  return <Title order={1}>App</Title>;
}
