import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function SettingsPage() {
  return <Title order={1}>Settings</Title>;
}
