import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function RunPage() {
  return <Title order={1}>Run</Title>;
}
