import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function IssuePage() {
  return <Title order={1}>Issue</Title>;
}
