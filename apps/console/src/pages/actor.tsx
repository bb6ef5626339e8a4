import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function ActorPage() {
  return <Title order={1}>Actor</Title>;
}
