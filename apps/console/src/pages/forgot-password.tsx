import { Alert, Anchor, Button, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, call } from '../lib/api';
import { useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';

/** Asks for a password-reset mail; the API answers alike whether or not the address has an account. */
export default function ForgotPasswordPage() {
  const [sent, setSent] = useState<string>();
  const form = useForm({ initialValues: { email: '' } });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) => call(api.POST('/v2/auth/password-reset', { body: values })),
    (answer) => {
      const message = (answer as { data?: { message?: string } } | undefined)?.data?.message;
      setSent(message ?? 'If an account has this address, a link to reset its password is on its way.');
    },
  );
  return (
    <Stack maw={420} mx="auto" mt="xl">
      <Title order={1}>Reset your password</Title>
      {sent ? (
        <Alert color="green" role="status" title="Check your mail">
          {sent} The link works once, for one hour.
        </Alert>
      ) : (
        <Paper withBorder p="lg" component="form" onSubmit={onSubmit} noValidate>
          <Stack>
            <Text>
              Enter the email address of your account; we will mail you a link to choose a new password.
            </Text>
            {formError && (
              <Alert color="red" role="alert">
                {formError}
              </Alert>
            )}
            <TextInput
              label="Email"
              type="email"
              autoComplete="email"
              required
              {...form.getInputProps('email')}
            />
            <Button type="submit" loading={pending}>
              Send reset link
            </Button>
          </Stack>
        </Paper>
      )}
      <Text size="sm">
        <Anchor component={Link} to={paths.signIn}>
          Back to sign in
        </Anchor>
      </Text>
    </Stack>
  );
}
