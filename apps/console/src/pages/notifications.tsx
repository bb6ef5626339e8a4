import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function NotificationsPage() {
  return <Title order={1}>Notifications</Title>;
}
