import { Alert, Anchor, Button, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { PasswordField } from '../components/password-field';
import { api, call } from '../lib/api';
import { useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';

/** Sets a new password with the mailed one-time token (`/reset-password?token=…`); every session ends. */
export default function ResetPasswordPage() {
  const [params] = useSearchParams();
  const { user, signOut } = useSession();
  const [done, setDone] = useState(false);
  const fromLink = params.get('token') ?? '';
  const form = useForm({
    initialValues: { token: fromLink, newPassword: '', confirmPassword: '' },
    validate: {
      token: (value) => (value.trim() ? null : 'Paste the token from the mail, or open the link in it'),
      confirmPassword: (value, values) => (value === values.newPassword ? null : 'The two passwords differ'),
    },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    ({ token, newPassword }) =>
      call(api.POST('/v2/auth/password-reset/confirm', { body: { token, newPassword } })),
    () => {
      setDone(true);
      // The reset ended every session, this one included.
      if (user) void signOut();
    },
  );
  return (
    <Stack maw={420} mx="auto" mt="xl">
      <Title order={1}>Choose a new password</Title>
      {done ? (
        <Alert color="green" role="status" title="Password changed">
          Your password is changed and every session of your account has ended.{' '}
          <Anchor c="inherit" underline="always" component={Link} to={paths.signIn}>
            Sign in
          </Anchor>{' '}
          with the new password.
        </Alert>
      ) : (
        <Paper withBorder p="lg" component="form" onSubmit={onSubmit} noValidate>
          <Stack>
            {formError && (
              <Alert color="red" role="alert">
                {formError}{' '}
                <Anchor c="inherit" underline="always" component={Link} to={paths.forgotPassword}>
                  Ask for a new link
                </Anchor>
              </Alert>
            )}
            {!fromLink && (
              <TextInput label="Reset token (from the mail)" required {...form.getInputProps('token')} />
            )}
            {fromLink && form.errors.token && (
              <Alert color="red" role="alert">
                {form.errors.token}
              </Alert>
            )}
            <PasswordField
              label="New password"
              description="At least 8 characters"
              autoComplete="new-password"
              required
              {...form.getInputProps('newPassword')}
            />
            <PasswordField
              label="Repeat the new password"
              autoComplete="new-password"
              required
              {...form.getInputProps('confirmPassword')}
            />
            <Button type="submit" loading={pending}>
              Set password
            </Button>
          </Stack>
        </Paper>
      )}
      {!done && (
        <Text size="sm">
          <Anchor component={Link} to={paths.signIn}>
            Back to sign in
          </Anchor>
        </Text>
      )}
    </Stack>
  );
}
