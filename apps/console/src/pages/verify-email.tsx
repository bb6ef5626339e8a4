import { Alert, Anchor, Button, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Loading } from '../components/page-state';
import { api, call, data } from '../lib/api';
import { errorMessage, useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';

/** The one-time token of the mail, sent once (the query is not retried nor refetched). */
function VerifyToken({ token }: { token: string }) {
  const { user } = useSession();
  const verified = useQuery({
    queryKey: ['verify-email', token],
    queryFn: () => data(api.POST('/v2/auth/verify-email', { body: { token } })),
    retry: false,
    staleTime: Infinity,
    gcTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const queryClient = useQueryClient();
  useEffect(() => {
    // The account's status shown elsewhere (Home's reminder, Settings) is stale now.
    if (verified.isSuccess) void queryClient.invalidateQueries({ queryKey: ['users', 'me'] });
  }, [verified.isSuccess, queryClient]);
  if (verified.isPending) return <Loading label="Verifying your email…" />;
  if (verified.isError)
    return (
      <>
        <Alert color="red" role="alert" title="This link did not verify your email">
          {errorMessage(verified.error)}
        </Alert>
        <ResendVerification signedIn={!!user} />
      </>
    );
  return (
    <Alert color="green" role="status" title="Email verified">
      Your email address is verified.{' '}
      <Anchor c="inherit" underline="always" component={Link} to={user ? paths.home : paths.signIn}>
        {user ? 'Go home' : 'Sign in'}
      </Anchor>
    </Alert>
  );
}

/** Mails a new verification link: to the signed-in user's address, or to the one typed. */
function ResendVerification({ signedIn, email }: { signedIn: boolean; email?: string }) {
  const [sent, setSent] = useState<string>();
  const form = useForm({ initialValues: { email: email ?? '' } });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) => call(api.POST('/v2/auth/verify-email/resend', { body: values })),
    (answer) =>
      setSent(
        (answer as { data?: { message?: string } } | undefined)?.data?.message ??
          'If an account has this address and it is not verified yet, a new link is on its way.',
      ),
  );
  if (sent)
    return (
      <Alert color="green" role="status" title="Check your mail">
        {sent}
      </Alert>
    );
  return (
    <Paper withBorder p="lg" component="form" onSubmit={onSubmit} noValidate>
      <Stack>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        {signedIn && email ? (
          <Text>
            We will mail a new link to <strong>{email}</strong>.
          </Text>
        ) : (
          <TextInput
            label="Email"
            type="email"
            autoComplete="email"
            required
            {...form.getInputProps('email')}
          />
        )}
        <Button type="submit" loading={pending}>
          Send a new verification link
        </Button>
      </Stack>
    </Paper>
  );
}

/** The signed-in user's verification status, and a new link when it is still unverified. */
function MyVerification() {
  const me = useQuery({ queryKey: ['users', 'me'], queryFn: () => data(api.GET('/v2/users/me')) });
  if (me.isPending) return <Loading />;
  if (me.isError)
    return (
      <Alert color="red" role="alert">
        {errorMessage(me.error)}
      </Alert>
    );
  if (me.data.emailVerified)
    return (
      <Alert color="green" role="status" title="Email verified">
        Your email address {me.data.email} is verified.
      </Alert>
    );
  return (
    <>
      <Text>
        Your email address {me.data.email} is not verified yet. Open the link we mailed you, or ask for a new
        one.
      </Text>
      <ResendVerification signedIn email={me.data.email} />
    </>
  );
}

/** `/verify-email?token=…` verifies the address; without a token, a new link can be asked for. */
export default function VerifyEmailPage() {
  const [params] = useSearchParams();
  const { user } = useSession();
  const token = params.get('token');
  return (
    <Stack maw={480} mx="auto" mt="xl">
      <Title order={1}>Verify your email</Title>
      {token ? (
        <VerifyToken token={token} />
      ) : user ? (
        <MyVerification />
      ) : (
        <ResendVerification signedIn={false} />
      )}
    </Stack>
  );
}
