import { Alert, Anchor, Button, Paper, Radio, Stack, Switch, Tabs, Text, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, Navigate, useSearchParams } from 'react-router';
import { PasswordField } from '../components/password-field';
import { ApiTokens } from '../components/api-tokens';
import { QueryState, signInPath } from '../components/page-state';
import { UsageLimits } from '../components/usage-limits';
import { api, call, data } from '../lib/api';
import { useApiForm } from '../lib/forms';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';

type GeneralAccess = 'RESTRICTED' | 'ANYONE_WITH_ID_CAN_READ' | 'ANYONE_WITH_NAME_CAN_READ';

const GENERAL_ACCESS: { value: GeneralAccess; label: string; description: string }[] = [
  {
    value: 'RESTRICTED',
    label: 'Restricted',
    description: 'Only you, your organization members and the people you share a resource with can read it.',
  },
  {
    value: 'ANYONE_WITH_ID_CAN_READ',
    label: 'Anyone with the ID can read (default)',
    description:
      'Anyone who has the link or the ID of a run, build or storage can read it, without signing in.',
  },
  {
    value: 'ANYONE_WITH_NAME_CAN_READ',
    label: 'Anyone with the ID or name can read',
    description: 'As above; storages can also be read by their name (username~name).',
  },
];

interface Me {
  email: string;
  emailVerified: boolean;
  settings: { generalResourceAccess: GeneralAccess; shareRunsWithPublicActorCreators: boolean };
}

function GeneralSettings({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState(false);
  const form = useForm({ initialValues: { ...me.settings } as Record<string, unknown> & Me['settings'] });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    (values) => data(api.PUT('/v2/users/me/settings', { body: values })),
    (updated) => {
      queryClient.setQueryData(['users', 'me'], updated);
      form.resetDirty();
      setSaved(true);
    },
  );
  return (
    <Paper withBorder p="lg" component="form" onSubmit={onSubmit} noValidate>
      <Stack>
        <Title order={2}>Privacy</Title>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <Radio.Group
          label="General resource access"
          description="Who can read your runs, builds and storages whose own setting follows the account's."
          {...form.getInputProps('generalResourceAccess')}
          onChange={(value) => {
            setSaved(false);
            form.setFieldValue('generalResourceAccess', value as GeneralAccess);
          }}
        >
          <Stack gap="sm" mt="sm">
            {GENERAL_ACCESS.map((option) => (
              <Radio
                key={option.value}
                value={option.value}
                label={option.label}
                description={option.description}
              />
            ))}
          </Stack>
        </Radio.Group>
        <Switch
          label="Share runs with public Actor creators"
          description="The creator of a public Actor you run can read your runs of it and their storages, to help with issues."
          {...form.getInputProps('shareRunsWithPublicActorCreators', { type: 'checkbox' })}
          onChange={(event) => {
            setSaved(false);
            form.setFieldValue('shareRunsWithPublicActorCreators', event.currentTarget.checked);
          }}
        />
        {saved && (
          <Alert color="green" role="status">
            Settings saved.
          </Alert>
        )}
        <Button type="submit" loading={pending} disabled={!form.isDirty()} w="fit-content">
          Save settings
        </Button>
      </Stack>
    </Paper>
  );
}

function PasswordChange() {
  const [done, setDone] = useState(false);
  const form = useForm({
    initialValues: { currentPassword: '', newPassword: '', confirmPassword: '' },
    validate: {
      confirmPassword: (value, values) => (value === values.newPassword ? null : 'The two passwords differ'),
    },
  });
  const { onSubmit, pending, formError } = useApiForm(
    form,
    ({ currentPassword, newPassword }) =>
      call(api.PUT('/v2/users/me/password', { body: { currentPassword, newPassword } })),
    () => {
      form.reset();
      setDone(true);
    },
  );
  return (
    <Paper withBorder p="lg" component="form" onSubmit={onSubmit} noValidate maw={480}>
      <Stack>
        <Title order={2}>Change password</Title>
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        {done && (
          <Alert color="green" role="status">
            Password changed. Your other sessions have ended; this one goes on.
          </Alert>
        )}
        <PasswordField
          label="Current password"
          autoComplete="current-password"
          required
          {...form.getInputProps('currentPassword')}
        />
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
        <Button type="submit" loading={pending} w="fit-content">
          Change password
        </Button>
        <Text size="sm">
          Forgot it?{' '}
          <Anchor component={Link} to={paths.forgotPassword}>
            Reset it by email
          </Anchor>
          .
        </Text>
      </Stack>
    </Paper>
  );
}

const TABS = ['general', 'password', 'tokens', 'usage'] as const;
type Tab = (typeof TABS)[number];

/** The account's settings: privacy, password, API tokens, usage and limits (the tab in the URL). */
export default function SettingsPage() {
  const { user, accountId } = useSession();
  const [params, setParams] = useSearchParams();
  const tab: Tab = (TABS as readonly string[]).includes(params.get('tab') ?? '')
    ? (params.get('tab') as Tab)
    : 'general';
  const me = useQuery({
    queryKey: ['users', 'me'],
    queryFn: async () => (await data(api.GET('/v2/users/me'))) as unknown as Me,
    enabled: !!user,
  });
  if (!user) return <Navigate to={signInPath(`${paths.settings}?${params}`)} replace />;
  return (
    <Stack>
      <Title order={1}>Settings</Title>
      {accountId && (
        <Alert color="blue">
          You are acting as an organization: privacy, password and API tokens here are your own; usage and
          limits are the organization&apos;s.
        </Alert>
      )}
      <Tabs
        value={tab}
        onChange={(value) => setParams(value && value !== 'general' ? { tab: value } : {})}
        keepMounted={false}
      >
        <Tabs.List>
          <Tabs.Tab value="general">General</Tabs.Tab>
          <Tabs.Tab value="password">Password</Tabs.Tab>
          <Tabs.Tab value="tokens">API tokens</Tabs.Tab>
          <Tabs.Tab value="usage">Usage and limits</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="general" pt="md">
          <QueryState query={me} what="account">
            {(account) => (
              <Stack>
                {!account.emailVerified && (
                  <Alert color="yellow" title="Your email is not verified">
                    Open the link we mailed to {account.email}, or{' '}
                    <Anchor c="inherit" underline="always" component={Link} to={paths.verifyEmail}>
                      ask for a new one
                    </Anchor>
                    .
                  </Alert>
                )}
                <GeneralSettings me={account} />
              </Stack>
            )}
          </QueryState>
        </Tabs.Panel>
        <Tabs.Panel value="password" pt="md">
          <PasswordChange />
        </Tabs.Panel>
        <Tabs.Panel value="tokens" pt="md">
          <ApiTokens />
        </Tabs.Panel>
        <Tabs.Panel value="usage" pt="md">
          <UsageLimits />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
