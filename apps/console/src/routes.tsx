import type { RouteObject } from 'react-router';
import { Layout } from './components/layout';
import { NotFound } from './components/page-state';

type PageModule = { default: React.ComponentType };
/** A page loaded when first visited: the first page's JavaScript stays small. */
const page = (load: () => Promise<PageModule>): Pick<RouteObject, 'lazy'> => ({
  lazy: async () => ({ Component: (await load()).default }),
});

/** Every page of the console. The storage and run pages are the API's `consoleUrl`s (lib/paths.ts). */
export const routes: RouteObject[] = [
  {
    Component: Layout,
    children: [
      { index: true, ...page(() => import('./pages/home')) },
      { path: 'sign-in', ...page(() => import('./pages/sign-in')) },
      { path: 'sign-up', ...page(() => import('./pages/sign-up')) },
      { path: 'verify-email', ...page(() => import('./pages/verify-email')) },
      { path: 'forgot-password', ...page(() => import('./pages/forgot-password')) },
      { path: 'reset-password', ...page(() => import('./pages/reset-password')) },
      { path: 'storage/datasets/:datasetId', ...page(() => import('./pages/dataset')) },
      { path: 'storage/key-value-stores/:storeId', ...page(() => import('./pages/key-value-store')) },
      { path: 'storage/request-queues/:queueId', ...page(() => import('./pages/request-queue')) },
      { path: 'actors/runs/:runId', ...page(() => import('./pages/run')) },
      { path: 'actors/builds/:buildId', ...page(() => import('./pages/build')) },
      { path: 'actors/tasks/:taskId', ...page(() => import('./pages/task')) },
      { path: 'actors/:actorId', ...page(() => import('./pages/actor')) },
      { path: 'schedules/:scheduleId', ...page(() => import('./pages/schedule')) },
      { path: 'issues/:issueId', ...page(() => import('./pages/issue')) },
      { path: 'environments/:envId', ...page(() => import('./pages/environment')) },
      { path: 'environment-groups/:groupId', ...page(() => import('./pages/environment-group')) },
      { path: 'apps/:appId', ...page(() => import('./pages/app')) },
      { path: 'settings', ...page(() => import('./pages/settings')) },
      { path: 'organizations', ...page(() => import('./pages/organizations')) },
      { path: 'organizations/:orgId', ...page(() => import('./pages/organization')) },
      { path: 'invitations', ...page(() => import('./pages/invitations')) },
      { path: 'collaboration', ...page(() => import('./pages/collaboration')) },
      { path: 'collaborations', ...page(() => import('./pages/collaborations')) },
      { path: 'notifications', ...page(() => import('./pages/notifications')) },
      { path: 'audit-log', ...page(() => import('./pages/audit-log')) },
      { path: '*', Component: NotFound },
    ],
  },
];
