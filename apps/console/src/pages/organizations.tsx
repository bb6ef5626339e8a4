import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function OrganizationsPage() {
  return <Title order={1}>Organizations</Title>;
}
