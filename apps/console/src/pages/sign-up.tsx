import { Alert, Anchor, Button, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { PasswordField } from '../components/password-field';
import { useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { safeNext } from './sign-in';

export default function SignUpPage() {
  const { user, signUp } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const form = useForm({ initialValues: { email: '', username: '', password: '' } });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    signUp,
    () => void navigate(next, { replace: true }),
  );
  if (user && !pending) return <Navigate to={next} replace />;
  return (
    <Stack maw={420} mx="auto" mt="xl">
      <Title order={1}>Create your Atrium account</Title>
      <Paper withBorder p="lg" component="form" onSubmit={onSubmit} noValidate>
        <Stack>
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
          <TextInput label="Username" autoComplete="username" required {...form.getInputProps('username')} />
          <PasswordField
            label="Password"
            autoComplete="new-password"
            required
            {...form.getInputProps('password')}
          />
          <Button type="submit" loading={pending}>
            Sign up
          </Button>
        </Stack>
      </Paper>
      <Text size="sm">
        Already have an account?{' '}
        <Anchor component={Link} to={`${paths.signIn}?next=${encodeURIComponent(next)}`}>
          Sign in
        </Anchor>
      </Text>
    </Stack>
  );
}
