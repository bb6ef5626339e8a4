import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function InvitationsPage() {
  return <Title order={1}>Invitations</Title>;
}
