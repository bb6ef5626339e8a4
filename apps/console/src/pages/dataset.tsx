import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function DatasetPage() {
  return <Title order={1}>Dataset</Title>;
}
