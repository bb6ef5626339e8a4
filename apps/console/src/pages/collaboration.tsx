import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function CollaborationPage() {
  return <Title order={1}>Collaboration</Title>;
}
