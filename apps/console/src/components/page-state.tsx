import { Alert, Button, Center, Loader, Stack, Text, Title } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { ApiError } from '../lib/api';
import { errorMessage } from '../lib/forms';
import { useSession } from '../lib/session';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Loader size="sm" aria-hidden />
      <Text ml="sm">{label}</Text>
    </Center>
  );
}

/** Where the sign-in page returns to. */
export function signInPath(next: string): string {
  return `/sign-in?next=${encodeURIComponent(next)}`;
}

/**
 * "Not found", as the API says it: absent, or not readable by this caller. An anonymous visitor
 * is asked to sign in and comes back here (Apify: a console link prompts unauthenticated users).
 */
export function NotFound({ what = 'page' }: { what?: string }) {
  const { user } = useSession();
  const location = useLocation();
  if (user === null) {
    return (
      <Stack align="center" py="xl">
        <Title order={1}>Sign in to continue</Title>
        <Text>This {what} is not public. Sign in with an account that has access to it.</Text>
        <Button component={Link} to={signInPath(location.pathname + location.search)}>
          Sign in
        </Button>
      </Stack>
    );
  }
  return (
    <Stack align="center" py="xl">
      <Title order={1}>Not found</Title>
      <Text>This {what} does not exist, or you do not have access to it.</Text>
      <Button component={Link} to="/" variant="light">
        Go home
      </Button>
    </Stack>
  );
}

export function ErrorAlert({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  return (
    <Alert color="red" title={title} role="alert">
      {errorMessage(error)}
    </Alert>
  );
}

/** Renders a query's data; loading, not found (404, or 401 for anonymous) and errors are handled. */
export function QueryState<T>({
  query,
  what,
  children,
}: {
  query: UseQueryResult<T>;
  what?: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading />;
  if (query.isError) {
    const status = query.error instanceof ApiError ? query.error.status : 0;
    if (status === 404 || status === 401) return <NotFound what={what} />;
    return <ErrorAlert error={query.error} />;
  }
  return <>{children(query.data)}</>;
}
