import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function KeyValueStorePage() {
  return <Title order={1}>KeyValueStore</Title>;
}
