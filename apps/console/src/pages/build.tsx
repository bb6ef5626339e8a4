import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function BuildPage() {
  return <Title order={1}>Build</Title>;
}
