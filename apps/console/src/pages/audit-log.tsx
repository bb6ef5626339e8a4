import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function AuditLogPage() {
  return <Title order={1}>AuditLog</Title>;
}
