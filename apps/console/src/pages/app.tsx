import { Badge, Group, Stack, Tabs, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useParams, useSearchParams } from 'react-router';
import { api, data } from '../lib/api';
import { useSession } from '../lib/session';
import { QueryState } from '../components/page-state';
import { ShareButton } from '../share/share-button';
import { ContentTab, KINDS, type ContentKind } from '../apps/contents';
import { CollaboratorsTab, YourAccessTab } from '../apps/collaborators';
import { APP_PERMISSIONS } from '../apps/scopes';

interface App {
  id: string;
  name: string;
  userId: string;
  description: string | null;
  createdAt: string;
  modifiedAt: string;
}

const CONTENT_TABS = Object.keys(KINDS) as ContentKind[];

/** What the caller holds on the app: READ, WRITE, MANAGE_ACCESS and each scope, asked in one batch. */
function useAppPermissions(appId: string, enabled: boolean) {
  return useQuery({
    queryKey: ['app-permissions', appId],
    enabled,
    queryFn: async () => {
      const answers = (await data(
        api.POST('/v2/access/check', {
          body: { checks: APP_PERMISSIONS.map((permission) => ({ resourceId: appId, permission })) } as never,
        }),
      )) as unknown as { allowed: boolean }[];
      return new Set(APP_PERMISSIONS.filter((_, i) => answers[i]?.allowed));
    },
  });
}

/** A Clarifai-style app (`/apps/:appId`): its contents by kind, its collaborators, and the caller's own access. */
export default function AppPage() {
  const { appId = '' } = useParams();
  const { user, accountId } = useSession();
  const [params, setParams] = useSearchParams();
  const app = useQuery({
    queryKey: ['app', appId],
    queryFn: async () =>
      (await data(api.GET('/v2/apps/{appId}', { params: { path: { appId } } }))) as unknown as App,
  });
  const permissions = useAppPermissions(appId, app.isSuccess && !!user);

  return (
    <QueryState query={app} what="app">
      {(found) => {
        const held = permissions.data ?? new Set<string>();
        const holds = (p: string) => held.has(p as never);
        const owner = found.userId === (accountId ?? user?.id);
        const tabs = [...CONTENT_TABS, 'collaborators', ...(owner ? [] : ['your-access'])];
        const requested = params.get('tab');
        const tab = requested && tabs.includes(requested) ? requested : owner ? 'inputs' : 'your-access';
        return (
          <Stack>
            <Group justify="space-between" align="flex-start">
              <Stack gap={4}>
                <Title order={1}>{found.name}</Title>
                {found.description && <Text>{found.description}</Text>}
                <Group gap="xs">
                  <Badge variant="default">{owner ? 'Owner' : 'Collaborator'}</Badge>
                  <Text size="sm">
                    App ID <code>{found.id}</code> · created {new Date(found.createdAt).toLocaleString()}
                  </Text>
                </Group>
              </Stack>
              {holds('MANAGE_ACCESS') && <ShareButton collection="apps" id={found.id} name={found.name} />}
            </Group>
            {permissions.isPending && user ? (
              <Text role="status">Checking your access…</Text>
            ) : (
              <Tabs
                value={tab}
                keepMounted={false}
                onChange={(value) =>
                  setParams((prev) => {
                    const next = new URLSearchParams(prev);
                    next.set('tab', value ?? 'inputs');
                    next.delete('page');
                    return next;
                  })
                }
              >
                <Tabs.List aria-label="App sections">
                  {!owner && <Tabs.Tab value="your-access">Your access</Tabs.Tab>}
                  {CONTENT_TABS.map((kind) => (
                    <Tabs.Tab key={kind} value={kind}>
                      {KINDS[kind].title}
                    </Tabs.Tab>
                  ))}
                  <Tabs.Tab value="collaborators">Collaborators</Tabs.Tab>
                </Tabs.List>
                {!owner && (
                  <Tabs.Panel value="your-access" pt="md">
                    <YourAccessTab appId={found.id} holds={holds} />
                  </Tabs.Panel>
                )}
                {CONTENT_TABS.map((kind) => (
                  <Tabs.Panel key={kind} value={kind} pt="md">
                    <ContentTab appId={found.id} kind={kind} holds={holds} />
                  </Tabs.Panel>
                ))}
                <Tabs.Panel value="collaborators" pt="md">
                  <CollaboratorsTab appId={found.id} holds={holds} />
                </Tabs.Panel>
              </Tabs>
            )}
          </Stack>
        );
      }}
    </QueryState>
  );
}
