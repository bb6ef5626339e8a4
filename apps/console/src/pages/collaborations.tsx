import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function CollaborationsPage() {
  return <Title order={1}>Collaborations</Title>;
}
