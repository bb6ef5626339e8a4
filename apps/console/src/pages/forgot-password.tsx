import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function ForgotPasswordPage() {
  return <Title order={1}>ForgotPassword</Title>;
}
