import { Title } from '@mantine/core';

/** Placeholder: being built. */
export default function ResetPasswordPage() {
  return <Title order={1}>ResetPassword</Title>;
}
