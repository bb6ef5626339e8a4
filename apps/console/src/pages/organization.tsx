import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function OrganizationPage() {
  return <Title order={1}>Organization</Title>;
}
