import { Alert, Anchor, Button, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { PasswordField } from '../components/password-field';
import { useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';

/** Only a path of this console: `?next=https://elsewhere` must not send anyone away. */
export function safeNext(next: string | null): string {
  // Resolved as the browser would (it drops tabs and newlines, reads a backslash as a slash): only a path of
  // this origin is kept, written back as path, query and hash.
  if (!next || !next.startsWith('/')) return paths.home;
  const url = new URL(next, window.location.origin);
  return url.origin === window.location.origin ? url.pathname + url.search + url.hash : paths.home;
}

export default function SignInPage() {
  const { user, signIn } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const form = useForm({ initialValues: { login: '', password: '' } });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) => signIn(values.login, values.password),
    () => void navigate(next, { replace: true }),
  );
  if (user && !pending) return <Navigate to={next} replace />;
  return (
    <Stack maw={420} mx="auto" mt="xl">
      <Title order={1}>Sign in to Atrium</Title>
      <Paper withBorder p="lg" component="form" onSubmit={onSubmit} noValidate>
        <Stack>
          {formError && (
            <Alert color="red" role="alert">
              {formError}
            </Alert>
          )}
          <TextInput
            label="Username or email"
            autoComplete="username"
            required
            {...form.getInputProps('login')}
          />
          <PasswordField
            label="Password"
            autoComplete="current-password"
            required
            {...form.getInputProps('password')}
          />
          <Button type="submit" loading={pending}>
            Sign in
          </Button>
        </Stack>
      </Paper>
      <Text size="sm">
        No account?{' '}
        <Anchor component={Link} to={`${paths.signUp}?next=${encodeURIComponent(next)}`}>
          Sign up
        </Anchor>
        {' · '}
        <Anchor component={Link} to={paths.forgotPassword}>
          Forgot your password?
        </Anchor>
      </Text>
    </Stack>
  );
}
