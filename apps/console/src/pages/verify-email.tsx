import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function VerifyEmailPage() {
  return <Title order={1}>VerifyEmail</Title>;
}
