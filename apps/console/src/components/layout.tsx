import {
  Anchor,
  AppShell,
  Burger,
  Button,
  Group,
  NavLink,
  Select,
  Text,
  VisuallyHidden,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { api, data } from '../lib/api';
import { paths } from '../lib/paths';
import { useSession } from '../lib/session';
import { Loading } from './page-state';

const NAVIGATION: { label: string; to: string }[] = [
  { label: 'Home', to: paths.home },
  { label: 'Organizations', to: paths.organizations },
  { label: 'Invitations', to: paths.invitations },
  { label: 'Collaboration', to: paths.collaboration },
  { label: 'Shared with me (collaborations)', to: paths.collaborations },
  { label: 'Notifications', to: paths.notifications },
  { label: 'Audit log', to: paths.auditLog },
  { label: 'Settings', to: paths.settings },
];

/** The account acted as: the user's own, or one of its organizations (sent as X-Account-Id). */
function AccountSwitcher() {
  const { user, accountId, switchAccount } = useSession();
  const navigate = useNavigate();
  const organizations = useQuery({
    queryKey: ['organizations', 'mine'],
    queryFn: () => data(api.GET('/v2/organizations')),
    enabled: !!user,
  });
  const known = organizations.data?.items.some((org) => org.id === accountId);
  useEffect(() => {
    // The organization acted as is gone (left, removed, deleted, or another user signed in): act as oneself.
    if (accountId && organizations.isSuccess && !known) switchAccount(undefined);
  }, [accountId, organizations.isSuccess, known, switchAccount]);
  if (!user) return null;
  const options = [
    { value: user.id, label: `${user.username} (personal)` },
    ...(organizations.data?.items ?? []).map((org) => ({ value: org.id, label: org.username })),
  ];
  return (
    <Select
      aria-label="Account"
      data={options}
      value={accountId ?? user.id}
      allowDeselect={false}
      w={220}
      onChange={(value) => {
        switchAccount(value && value !== user.id ? value : undefined);
        void navigate(paths.home);
      }}
    />
  );
}

/** The frame of every page: header with the account switcher and the user menu, navigation, content. */
export function Layout() {
  const { user, signOut } = useSession();
  const [opened, { toggle }] = useDisclosure();
  const location = useLocation();
  const navigate = useNavigate();
  const signedIn = !!user;
  return (
    <AppShell
      header={{ height: 60 }}
      navbar={signedIn ? { width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } } : undefined}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            {signedIn && (
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            )}
            <Anchor component={Link} to={paths.home} fw={700} size="lg" underline="never">
              Atrium
            </Anchor>
          </Group>
          <Group>
            <AccountSwitcher />
            {user ? (
              <>
                <Text size="sm" data-testid="signed-in-user">
                  <VisuallyHidden>Signed in as </VisuallyHidden>
                  {user.username}
                </Text>
                <Button
                  variant="subtle"
                  onClick={async () => {
                    await signOut();
                    void navigate(paths.signIn);
                  }}
                >
                  Sign out
                </Button>
              </>
            ) : user === null ? (
              <>
                <Button component={Link} to={paths.signIn} variant="subtle">
                  Sign in
                </Button>
                <Button component={Link} to={paths.signUp}>
                  Sign up
                </Button>
              </>
            ) : null}
          </Group>
        </Group>
      </AppShell.Header>
      {signedIn && (
        <AppShell.Navbar p="xs" aria-label="Main">
          {NAVIGATION.map((item) => (
            <NavLink
              key={item.to}
              component={Link}
              to={item.to}
              label={item.label}
              active={item.to === '/' ? location.pathname === '/' : location.pathname.startsWith(item.to)}
            />
          ))}
          <NavLink href="/docs" label="API reference" target="_blank" />
        </AppShell.Navbar>
      )}
      <AppShell.Main>
        <main>{user === undefined ? <Loading label="Resuming your session…" /> : <Outlet />}</main>
      </AppShell.Main>
    </AppShell>
  );
}
